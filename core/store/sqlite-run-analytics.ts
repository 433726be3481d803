/** Aggregates over run history for analytics: per-task counts and percentiles, runs per day, durations. */
import { sql, type Kysely } from 'kysely';
import type { DayCount, DurationPoint, TaskStats } from '../tasks/run-repository.js';
import type { RunStatus } from '../tasks/types.js';
import type { Schema } from './schema.js';

export class SqliteRunAnalytics {
  readonly #reader: Kysely<Schema>;

  constructor(reader: Kysely<Schema>) {
    this.#reader = reader;
  }

  async taskStats(since: number, taskKeys?: readonly string[]): Promise<TaskStats[]> {
    const finished = () => {
      let q = this.#reader.selectFrom('runs').where('started_at', '>=', since).where('status', 'not in', ['running']);
      if (taskKeys?.length) q = q.where('task_key', 'in', taskKeys);
      return q;
    };
    const counts = await finished()
      .select((eb) => [
        'task_key',
        eb.fn.countAll<number>().as('count'),
        eb.fn.sum<number>(eb.case().when('status', '=', 'ok').then(1).else(0).end()).as('ok'),
      ])
      .groupBy('task_key')
      .orderBy('task_key')
      .execute();
    const stats: TaskStats[] = [];
    for (const row of counts) {
      const count = Number(row.count);
      const at = async (fraction: number) => {
        const hit = await finished().select('elapsed_us').where('task_key', '=', row.task_key).orderBy('elapsed_us').limit(1).offset(Math.min(count - 1, Math.floor(count * fraction))).executeTakeFirst();
        return hit ? Number(hit.elapsed_us) : null;
      };
      stats.push({ taskKey: row.task_key, count, ok: Number(row.ok), failed: count - Number(row.ok), p50Us: await at(0.5), p95Us: await at(0.95) });
    }
    return stats;
  }

  async runsPerDay(since: number, taskKeys?: readonly string[]): Promise<DayCount[]> {
    let q = this.#reader
      .selectFrom('runs')
      .select((eb) => [
        sql<number>`started_at / 86400000`.as('day'),
        eb.fn.sum<number>(eb.case().when('status', '=', 'ok').then(1).else(0).end()).as('ok'),
        eb.fn.countAll<number>().as('count'),
      ])
      .where('started_at', '>=', since)
      .where('status', '!=', 'running');
    if (taskKeys?.length) q = q.where('task_key', 'in', taskKeys);
    const rows = await q.groupBy(sql`started_at / 86400000`).orderBy(sql`started_at / 86400000`).execute();
    return rows.map((r) => ({ day: new Date(Number(r.day) * 86_400_000).toISOString().slice(0, 10), ok: Number(r.ok), failed: Number(r.count) - Number(r.ok) }));
  }

  async durations(taskKey: string, limit: number): Promise<DurationPoint[]> {
    const rows = await this.#reader
      .selectFrom('runs')
      .select(['id', 'started_at', 'elapsed_us', 'status'])
      .where('task_key', '=', taskKey)
      .where('status', '!=', 'running')
      .orderBy('num', 'desc')
      .limit(limit)
      .execute();
    return rows.reverse().map((r) => ({ id: r.id, startedAt: Number(r.started_at), elapsedUs: Number(r.elapsed_us), status: r.status as RunStatus }));
  }
}

/** Run history in SQLite, written through the single WriteQueue and read through the read-only handle. */
import { sql, type Selectable, type SelectQueryBuilder, type Transaction } from 'kysely';
import type {
  DayCount,
  DurationPoint,
  LogLine,
  PruneCandidate,
  PruneQuery,
  RunCompletion,
  RunFilter,
  RunOrigin,
  RunPage,
  RunRepository,
  RunStart,
  SearchSnippet,
  StoredRun,
  TaskRunSummary,
  TaskStats,
} from '../tasks/run-repository.js';
import type { Progress, RunStatus } from '../tasks/types.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { MATCH_END, MATCH_START, toFtsQuery } from './fts-query.js';
import type { OpenedDatabase } from './open-database.js';
import type { RunsTable, Schema } from './schema.js';
import { WriteQueue } from './write-queue.js';

/** Rows per multi-row INSERT: well under SQLite's bound-parameter limit. */
const LOG_ROWS_PER_INSERT = 400;
const MAX_PAGE = 500;

type RunRow = Selectable<RunsTable>;
type RunsQuery = SelectQueryBuilder<Schema, 'runs', object>;

export class SqliteRunRepository implements RunRepository {
  readonly #db: OpenedDatabase;
  readonly #queue: WriteQueue;
  /** id -> num of runs written by this process, so log appends need no lookup. */
  readonly #nums = new Map<string, number>();

  constructor(db: OpenedDatabase) {
    this.#db = db;
    this.#queue = new WriteQueue(db.writer);
  }

  insertRun(run: RunStart): Promise<void> {
    return this.#queue.enqueue(async (trx) => {
      const inserted = await trx
        .insertInto('runs')
        .values({
          id: run.id,
          task_key: run.taskKey,
          task_title: run.taskTitle,
          task_version: run.taskVersion,
          run_label: run.label,
          args_json: JSON.stringify(run.args),
          status: 'running',
          started_at: run.startedAt,
          origin: run.origin,
        })
        .returning('num')
        .executeTakeFirstOrThrow();
      this.#nums.set(run.id, inserted.num);
      const argRows = argIndexRows(run.args, inserted.num);
      for (let i = 0; i < argRows.length; i += LOG_ROWS_PER_INSERT) {
        await trx.insertInto('run_args').values(argRows.slice(i, i + LOG_ROWS_PER_INSERT)).execute();
      }
    });
  }

  appendLogs(runId: string, lines: readonly LogLine[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    return this.#queue.enqueue(async (trx) => {
      const num = await this.#numOf(trx, runId);
      for (let i = 0; i < lines.length; i += LOG_ROWS_PER_INSERT) {
        const rows = lines.slice(i, i + LOG_ROWS_PER_INSERT).map((l) => ({ run_num: num, seq: l.seq, at: l.at, stream: l.stream, msg: l.msg }));
        await trx.insertInto('run_logs').values(rows).execute();
      }
    });
  }

  saveProgress(runId: string, progress: Progress): Promise<void> {
    return this.#queue.enqueue(async (trx) => {
      await trx
        .updateTable('runs')
        .set({ progress_done: progress.done, progress_total: progress.total, progress_message: progress.message })
        .where('id', '=', runId)
        .execute();
    });
  }

  dropLogs(runId: string, fromSeq: number, toSeq: number): Promise<void> {
    return this.#queue.enqueue(async (trx) => {
      const num = await this.#numOf(trx, runId);
      await trx.deleteFrom('run_logs').where('run_num', '=', num).where('seq', '>=', fromSeq).where('seq', '<=', toSeq).execute();
    });
  }

  completeRun(c: RunCompletion): Promise<void> {
    return this.#queue.enqueue(async (trx) => {
      const num = await this.#numOf(trx, c.id);
      await trx
        .updateTable('runs')
        .set({
          status: c.status,
          finished_at: c.finishedAt,
          elapsed_us: c.elapsedUs,
          summary: c.summary,
          error: c.error,
          error_stack: c.errorStack,
          data_json: c.dataJson,
          metadata_json: JSON.stringify(c.metadata),
          tags_json: JSON.stringify(c.tags),
          log_count: c.logCount,
          logs_dropped: c.logsDropped,
          progress_done: c.progress?.done ?? null,
          progress_total: c.progress?.total ?? null,
          progress_message: c.progress?.message ?? null,
        })
        .where('num', '=', num)
        .execute();
      if (c.tags.length > 0) {
        await trx.insertInto('run_tags').values(c.tags.map((tag) => ({ tag, run_num: num }))).onConflict((oc) => oc.doNothing()).execute();
      }
      // A run becomes searchable when it finishes: the log's hot path carries no index work.
      await indexForSearch(trx, [num]);
      this.#nums.delete(c.id);
    });
  }

  async markInterrupted(now: number): Promise<number> {
    let count = 0;
    await this.#queue.enqueue(async (trx) => {
      const left = await trx.selectFrom('runs').select('num').where('status', '=', 'running').execute();
      const updated = await trx
        .updateTable('runs')
        .set({ status: 'interrupted', finished_at: now, error: 'the process stopped while this run was running' })
        .where('status', '=', 'running')
        .executeTakeFirst();
      count = Number(updated.numUpdatedRows);
      await indexForSearch(trx, left.map((r) => r.num));
    });
    return count;
  }

  async getRun(id: string): Promise<StoredRun | undefined> {
    const row = await this.#db.reader.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toStoredRun(row);
  }

  async getLogs(id: string, options: { afterSeq?: number; limit?: number } = {}): Promise<LogLine[]> {
    let query = this.#db.reader
      .selectFrom('run_logs')
      .innerJoin('runs', 'runs.num', 'run_logs.run_num')
      .select(['run_logs.seq', 'run_logs.at', 'run_logs.stream', 'run_logs.msg'])
      .where('runs.id', '=', id)
      .where('run_logs.seq', '>', options.afterSeq ?? 0)
      .orderBy('run_logs.seq');
    if (options.limit !== undefined) query = query.limit(options.limit);
    const rows = await query.execute();
    return rows.map((r) => ({ seq: r.seq, at: Number(r.at), stream: r.stream as LogLine['stream'], msg: r.msg }));
  }

  async listRuns(filter: RunFilter, options: { limit?: number; cursor?: string | null } = {}): Promise<RunPage> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), MAX_PAGE);
    let query = applyFilter(this.#db.reader.selectFrom('runs'), filter);
    const before = options.cursor ? decodeCursor(options.cursor) : undefined;
    if (before !== undefined) query = query.where('runs.num', '<', before);
    const rows = await query.selectAll('runs').orderBy('runs.num', 'desc').limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      runs: page.map(toStoredRun),
      next: rows.length > limit && last ? encodeCursor(last.num) : null,
    };
  }

  async *streamRuns(filter: RunFilter, pageSize = 1000): AsyncIterable<StoredRun> {
    let cursor: string | null = null;
    do {
      const page = await this.listRuns(filter, { limit: Math.min(pageSize, MAX_PAGE), cursor });
      yield* page.runs;
      cursor = page.next;
    } while (cursor);
  }

  async latestRunPerTask(): Promise<Map<string, TaskRunSummary>> {
    const rows = await this.#db.reader
      .selectFrom('runs')
      .select(['task_key', 'status', 'started_at', 'id'])
      .where('num', 'in', (sub) => sub.selectFrom('runs').select((eb) => eb.fn.max('num').as('num')).groupBy('task_key'))
      .execute();
    return new Map(rows.map((r) => [r.task_key, { taskKey: r.task_key, status: r.status as RunStatus, startedAt: Number(r.started_at), id: r.id }]));
  }

  async findPrunable(query: PruneQuery): Promise<PruneCandidate[]> {
    const ranked = this.#db.reader
      .selectFrom('runs')
      .select((eb) => ['num', 'id', 'task_key', 'started_at', 'status', eb.fn.agg<number>('row_number', []).over((ob) => ob.partitionBy('task_key').orderBy('num', 'desc')).as('rank')])
      .as('ranked');
    let q = this.#db.reader
      .selectFrom(ranked)
      .select(['ranked.id', 'ranked.task_key', 'ranked.started_at', 'ranked.status'])
      .where('ranked.rank', '>', query.keepPerTask)
      .where('ranked.status', '!=', 'running');
    if (query.startedBefore !== undefined) q = q.where('ranked.started_at', '<', query.startedBefore);
    const rows = await q.orderBy('ranked.num', 'asc').limit(query.limit).execute();
    return rows.map((r) => ({ id: r.id, taskKey: r.task_key, startedAt: Number(r.started_at), status: r.status as RunStatus }));
  }

  async deleteRuns(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    let deleted = 0;
    await this.#queue.enqueue(async (trx) => {
      // Never a running run, even if it started between the query and this delete.
      const rows = await trx.selectFrom('runs').select('num').where('id', 'in', ids).where('status', '!=', 'running').execute();
      const nums = rows.map((r) => r.num);
      if (nums.length === 0) return;
      // External-content FTS rows are removed while their content still exists (FTS5 reads it back).
      await trx.deleteFrom('log_search').where('rowid', 'in', (sub) => sub.selectFrom('run_logs').select('run_logs.rowid').where('run_logs.run_num', 'in', nums)).execute();
      await trx.deleteFrom('result_search').where('rowid', 'in', nums).execute();
      await trx.deleteFrom('run_logs').where('run_num', 'in', nums).execute();
      await trx.deleteFrom('run_tags').where('run_num', 'in', nums).execute();
      await trx.deleteFrom('run_args').where('run_num', 'in', nums).execute();
      const result = await trx.deleteFrom('runs').where('num', 'in', nums).executeTakeFirst();
      deleted = Number(result.numDeletedRows);
    });
    return deleted;
  }

  async searchSnippets(runIds: readonly string[], q: string): Promise<SearchSnippet[]> {
    const match = toFtsQuery(q);
    if (!match || runIds.length === 0) return [];
    const snippet = (column: number) => sql<string>`snippet(${sql.raw(column === -1 ? 'log_search' : 'result_search')}, ${column === -1 ? 0 : column}, ${MATCH_START}, ${MATCH_END}, '…', 16)`;
    const logs = await this.#db.reader
      .selectFrom('log_search')
      .innerJoin('run_logs', 'run_logs.rowid', 'log_search.rowid')
      .innerJoin('runs', 'runs.num', 'run_logs.run_num')
      .select(['runs.id', 'run_logs.seq', snippet(-1).as('text')])
      .where(sql<boolean>`log_search MATCH ${match}`)
      .where('runs.id', 'in', runIds)
      .orderBy('run_logs.run_num')
      .orderBy('run_logs.seq')
      .execute();
    const results = await this.#db.reader
      .selectFrom('result_search')
      .innerJoin('runs', 'runs.num', 'result_search.rowid')
      .select(['runs.id', snippet(0).as('error'), snippet(1).as('data')])
      .where(sql<boolean>`result_search MATCH ${match}`)
      .where('runs.id', 'in', runIds)
      .execute();
    const found = new Map<string, SearchSnippet>();
    for (const r of results) {
      const where = r.error.includes(MATCH_START) ? 'error' : 'data';
      found.set(r.id, { runId: r.id, where, seq: null, text: where === 'error' ? r.error : r.data });
    }
    for (const l of logs) if (!found.has(l.id) || found.get(l.id)!.where === 'data') found.set(l.id, { runId: l.id, where: 'log', seq: l.seq, text: l.text });
    return runIds.flatMap((id) => (found.has(id) ? [found.get(id)!] : []));
  }

  async taskStats(since: number, taskKeys?: readonly string[]): Promise<TaskStats[]> {
    const finished = () => {
      let q = this.#db.reader.selectFrom('runs').where('started_at', '>=', since).where('status', 'not in', ['running']);
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
    let q = this.#db.reader
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
    const rows = await this.#db.reader
      .selectFrom('runs')
      .select(['id', 'started_at', 'elapsed_us', 'status'])
      .where('task_key', '=', taskKey)
      .where('status', '!=', 'running')
      .orderBy('num', 'desc')
      .limit(limit)
      .execute();
    return rows.reverse().map((r) => ({ id: r.id, startedAt: Number(r.started_at), elapsedUs: Number(r.elapsed_us), status: r.status as RunStatus }));
  }

  async storageBytes(): Promise<number> {
    return this.#db.usedBytes();
  }

  flush(): Promise<void> {
    return this.#queue.idle();
  }

  async close(): Promise<void> {
    await this.#queue.close();
  }

  async #numOf(trx: Transaction<Schema>, runId: string): Promise<number> {
    const known = this.#nums.get(runId);
    if (known !== undefined) return known;
    const row = await trx.selectFrom('runs').select('num').where('id', '=', runId).executeTakeFirstOrThrow(() => new Error(`run ${runId} is not in the database`));
    return row.num;
  }
}

function applyFilter(query: RunsQuery, filter: RunFilter): RunsQuery {
  let q = query;
  if (filter.task?.length) q = q.where('runs.task_key', 'in', filter.task);
  if (filter.status?.length) q = q.where('runs.status', 'in', filter.status);
  if (filter.label?.length) q = q.where('runs.run_label', 'in', filter.label);
  if (filter.since !== undefined) q = q.where('runs.started_at', '>=', filter.since);
  if (filter.until !== undefined) q = q.where('runs.started_at', '<', filter.until);
  for (const tag of filter.tag ?? []) {
    q = q.where('runs.num', 'in', (sub) => sub.selectFrom('run_tags').select('run_tags.run_num').where('run_tags.tag', '=', tag));
  }
  if (filter.minElapsedUs !== undefined) q = q.where('runs.elapsed_us', '>=', filter.minElapsedUs);
  if (filter.maxElapsedUs !== undefined) q = q.where('runs.elapsed_us', '<=', filter.maxElapsedUs);
  const match = filter.q ? toFtsQuery(filter.q) : null;
  if (filter.q !== undefined && !match) q = q.where(sql<boolean>`0`);
  if (match) {
    q = q.where((eb) =>
      eb.or([
        eb('runs.num', 'in', (sub) =>
          sub.selectFrom('run_logs').select('run_logs.run_num').where('run_logs.rowid', 'in', (fts) => fts.selectFrom('log_search').select('log_search.rowid').where(sql<boolean>`log_search MATCH ${match}`)),
        ),
        eb('runs.num', 'in', (fts) => fts.selectFrom('result_search').select('result_search.rowid').where(sql<boolean>`result_search MATCH ${match}`)),
      ]),
    );
  }
  for (const [name, value] of Object.entries(filter.args ?? {})) {
    q = q.where('runs.num', 'in', (sub) =>
      sub.selectFrom('run_args').select('run_args.run_num').where('run_args.name', '=', name).where('run_args.value', '=', value),
    );
  }
  return q;
}

/** One row per scalar argument value (one per element of a list), as text, for `arg.name=value` filters. */
function argIndexRows(args: Record<string, unknown>, num: number): { name: string; value: string; run_num: number }[] {
  const rows: { name: string; value: string; run_num: number }[] = [];
  for (const [name, value] of Object.entries(args)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === null || item === undefined || typeof item === 'object' && !(item instanceof Date)) continue;
      rows.push({ name, value: item instanceof Date ? item.toISOString() : String(item), run_num: num });
    }
  }
  return rows;
}

function toStoredRun(row: RunRow): StoredRun {
  const progress: Progress | null =
    row.progress_total === null ? null : { done: Number(row.progress_done ?? 0), total: Number(row.progress_total), message: row.progress_message ?? '' };
  return {
    id: row.id,
    taskKey: row.task_key,
    taskTitle: row.task_title,
    taskVersion: row.task_version,
    label: row.run_label,
    args: JSON.parse(row.args_json) as Record<string, unknown>,
    status: row.status as RunStatus,
    startedAt: Number(row.started_at),
    finishedAt: row.finished_at === null ? null : Number(row.finished_at),
    elapsedUs: Number(row.elapsed_us),
    summary: row.summary,
    error: row.error,
    errorStack: row.error_stack,
    dataJson: row.data_json,
    metadata: JSON.parse(row.metadata_json) as Record<string, unknown>,
    tags: JSON.parse(row.tags_json) as string[],
    logCount: row.log_count,
    logsDropped: row.logs_dropped,
    progress,
    origin: row.origin as RunOrigin,
  };
}

/** Adds finished runs' log lines, error and data to the full-text indexes. */
async function indexForSearch(trx: Transaction<Schema>, nums: readonly number[]): Promise<void> {
  if (nums.length === 0) return;
  await trx
    .insertInto('log_search')
    .columns(['rowid', 'msg'])
    .expression((eb) => eb.selectFrom('run_logs_plain').select(['run_logs_plain.rowid', 'run_logs_plain.msg']).where('run_logs_plain.run_num', 'in', nums))
    .execute();
  await trx
    .insertInto('result_search')
    .columns(['rowid', 'error', 'data_json'])
    .expression((eb) => eb.selectFrom('runs').select(['runs.num', 'runs.error', 'runs.data_json']).where('runs.num', 'in', nums))
    .execute();
}

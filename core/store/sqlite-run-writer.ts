/** Every write to run history, through the single WriteQueue (one transaction per turn of the event loop). */
import type { Transaction } from 'kysely';
import type { LogLine, RunCompletion, RunStart } from '../tasks/run-repository.js';
import type { Progress } from '../tasks/types.js';
import type { OpenedDatabase } from './open-database.js';
import type { Schema } from './schema.js';
import { WriteQueue } from './write-queue.js';

/** Rows per multi-row INSERT: well under SQLite's bound-parameter limit. */
const LOG_ROWS_PER_INSERT = 400;

export class SqliteRunWriter {
  readonly #queue: WriteQueue;
  /** id -> num of runs written by this process, so log appends need no lookup. */
  readonly #nums = new Map<string, number>();

  constructor(db: OpenedDatabase) {
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

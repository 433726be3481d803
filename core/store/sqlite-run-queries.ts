/** Reads of run history (runs, logs, filters, full-text snippets, retention candidates), on the read-only handle. */
import type Database from 'better-sqlite3';
import { sql, type Kysely, type Selectable } from 'kysely';
import type {
  LogLine,
  PruneCandidate,
  PruneCount,
  PruneQuery,
  RunFilter,
  RunListRow,
  RunOrigin,
  RunPage,
  SearchSnippet,
  StoredRun,
  TaskRunSummary,
} from '../tasks/run-repository.js';
import type { Progress, RunStatus } from '../tasks/types.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { MATCH_END, MATCH_START, toFtsQuery } from './fts-query.js';
import { filterSql, whereClause, type NumRange } from './run-filter-sql.js';
import type { RunsTable, Schema } from './schema.js';
import { StartOrder } from './start-order.js';

const MAX_PAGE = 500;
/** Rows per read while `streamRuns` streams. */
const STREAM_PAGE = 1000;
/** Rows per read while an export streams list rows (small rows: a larger page costs little memory). */
const EXPORT_PAGE = 1000;
const LIST_COLUMNS = sql`runs.num, runs.id, runs.task_key, runs.run_label, runs.status, runs.started_at, runs.elapsed_us, runs.args_json, runs.tags_json, runs.error`;

type RunRow = Selectable<RunsTable>;
type ListRow = Pick<RunRow, 'num' | 'id' | 'task_key' | 'run_label' | 'status' | 'started_at' | 'elapsed_us' | 'args_json' | 'tags_json' | 'error'>;
type PruneRow = Pick<RunRow, 'num' | 'id' | 'task_key' | 'started_at' | 'status'>;

/** A run's lines after a sequence number; LIMIT -1 is no limit. */
const LOGS_SQL = `SELECT l.seq, l.at, l.stream, l.msg FROM run_logs l JOIN runs r ON r.num = l.run_num
  WHERE r.id = ? AND l.seq > ? ORDER BY l.seq LIMIT ?`;

interface LogRow {
  seq: number;
  at: number | bigint;
  stream: string;
  msg: string;
}

export class SqliteRunQueries {
  readonly #reader: Kysely<Schema>;
  readonly #readHandle: Database.Database;
  readonly #startOrder: StartOrder;
  /** Prepared once: clients catching up read a page of lines many times a second. */
  #logs: Database.Statement<[string, number, number], LogRow> | null = null;

  constructor(reader: Kysely<Schema>, readHandle: Database.Database) {
    this.#reader = reader;
    this.#readHandle = readHandle;
    this.#startOrder = new StartOrder(reader);
  }

  async getRun(id: string): Promise<StoredRun | undefined> {
    const row = await this.#reader.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toStoredRun(row);
  }

  async getLogs(id: string, options: { afterSeq?: number; limit?: number } = {}): Promise<LogLine[]> {
    // Prepared on first use: the schema is migrated by then.
    this.#logs ??= this.#readHandle.prepare<[string, number, number], LogRow>(LOGS_SQL);
    const rows = this.#logs.all(id, options.afterSeq ?? 0, options.limit ?? -1);
    return rows.map((r) => ({ seq: r.seq, at: Number(r.at), stream: r.stream as LogLine['stream'], msg: r.msg }));
  }

  async listRuns(filter: RunFilter, options: { limit?: number; cursor?: string | null } = {}): Promise<RunPage> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), MAX_PAGE);
    const before = options.cursor ? decodeCursor(options.cursor) : undefined;
    const rows = await this.#page(filter, before, limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      runs: page.map(toStoredRun),
      next: rows.length > limit && last ? encodeCursor(last.num) : null,
    };
  }

  async *streamRuns(filter: RunFilter, pageSize = STREAM_PAGE): AsyncIterable<StoredRun> {
    const size = Math.min(Math.max(pageSize, 1), STREAM_PAGE);
    let before: number | undefined;
    for (;;) {
      // One page per read: between pages the reader is free for other requests (a page, not the export, holds it).
      const rows = await this.#page(filter, before, size);
      for (const row of rows) yield toStoredRun(row);
      if (rows.length < size) return;
      before = rows.at(-1)!.num;
    }
  }

  async *streamRunRows(filter: RunFilter): AsyncIterable<RunListRow[]> {
    let before: number | undefined;
    for (;;) {
      const rows = await this.#page<ListRow>(filter, before, EXPORT_PAGE, LIST_COLUMNS);
      if (rows.length) yield rows.map(toListRow);
      if (rows.length < EXPORT_PAGE) return;
      before = rows.at(-1)!.num;
    }
  }

  /**
   * One page of matching rows, newest first, below `before`. With a time range, the num bounds and the
   * page come from one read snapshot (a run added in between cannot fall through the bounds).
   */
  async #page<Row extends { num: number } = RunRow>(filter: RunFilter, before: number | undefined, limit: number, columns = sql`runs.*`): Promise<Row[]> {
    const read = async (db: Kysely<Schema>) => {
      const range = await this.#startOrder.numRange(db, filter.since, filter.until);
      const bounds: NumRange = { ...range };
      if (before !== undefined) bounds.below = Math.min(bounds.below ?? before, before);
      const { from, num, where } = filterSql(filter, bounds, range !== null);
      const { rows } = await sql<Row>`SELECT ${columns} FROM ${from} ${whereClause(where)} ORDER BY ${num} DESC LIMIT ${limit}`.execute(db);
      return rows;
    };
    if (filter.since === undefined && filter.until === undefined) return read(this.#reader);
    return this.#reader.transaction().execute(read);
  }

  async latestRunPerTask(): Promise<Map<string, TaskRunSummary>> {
    const rows = await this.#reader
      .selectFrom('runs')
      .select(['task_key', 'status', 'started_at', 'id'])
      .where('num', 'in', (sub) => sub.selectFrom('runs').select((eb) => eb.fn.max('num').as('num')).groupBy('task_key'))
      .execute();
    return new Map(rows.map((r) => [r.task_key, { taskKey: r.task_key, status: r.status as RunStatus, startedAt: Number(r.started_at), id: r.id }]));
  }

  /**
   * Oldest first (by start for the age limit, by num for the size budget). Each task's latest
   * `keepPerTask` are found once per call through `(task_key, num)`: a run is beyond them when its num
   * is below its task's bound. The scan then reads the candidates in index order and stops at `limit`,
   * skipping only the kept runs among them: a batch costs its own size, not the whole history.
   */
  async findPrunable(query: PruneQuery): Promise<PruneCandidate[]> {
    const bounds = await this.#keepBounds(query.keepPerTask);
    if (bounds && bounds.size === 0) return [];
    const beyondKept = bounds ? sql`num < ${caseByTask(bounds)}` : sql`1`;
    const { rows } =
      query.startedBefore === undefined
        ? await sql<PruneRow>`SELECT num, id, task_key, started_at, status FROM runs
            WHERE num < ${bounds ? Math.max(...bounds.values()) : Number.MAX_SAFE_INTEGER} AND status != 'running' AND ${beyondKept}
            ORDER BY num LIMIT ${query.limit}`.execute(this.#reader)
        : await sql<PruneRow>`SELECT num, id, task_key, started_at, status FROM runs INDEXED BY runs_started
            WHERE started_at < ${query.startedBefore} AND status != 'running' AND ${beyondKept}
            ORDER BY started_at, num LIMIT ${query.limit}`.execute(this.#reader);
    return rows.map((r) => ({ id: r.id, taskKey: r.task_key, startedAt: Number(r.started_at), status: r.status as RunStatus }));
  }

  /**
   * How many runs `findPrunable` would give for this age limit (without a limit), per task. Counted in
   * the `(task_key, started_at)` index, which also holds each entry's num: no run row is read, except
   * those still running (which never go).
   */
  async countPrunable(query: Omit<PruneQuery, 'limit'> & { startedBefore: number }): Promise<PruneCount[]> {
    const bounds = (await this.#keepBounds(query.keepPerTask)) ?? new Map((await this.#taskKeys()).map((k) => [k, Number.MAX_SAFE_INTEGER]));
    const running = await this.#reader.selectFrom('runs').select(['task_key', 'num']).where('status', '=', 'running').where('started_at', '<', query.startedBefore).execute();
    const counts: PruneCount[] = [];
    for (const [taskKey, bound] of bounds) {
      const row = await this.#reader
        .selectFrom('runs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('task_key', '=', taskKey)
        .where('started_at', '<', query.startedBefore)
        .where('num', '<', bound)
        .executeTakeFirstOrThrow();
      const n = Number(row.n) - running.filter((r) => r.task_key === taskKey && r.num < bound).length;
      if (n > 0) counts.push({ taskKey, count: n });
    }
    return counts.sort((a, b) => b.count - a.count || a.taskKey.localeCompare(b.taskKey));
  }

  /** Each task's num of its `keep`-th newest run (tasks with fewer runs have nothing beyond); null when keep is 0. */
  async #keepBounds(keep: number): Promise<Map<string, number> | null> {
    if (keep <= 0) return null;
    const { rows } = await sql<{ task_key: string; bound: number | null }>`
      WITH RECURSIVE tasks(k) AS (SELECT min(task_key) FROM runs UNION ALL SELECT (SELECT min(task_key) FROM runs WHERE task_key > tasks.k) FROM tasks WHERE tasks.k IS NOT NULL)
      SELECT k AS task_key, (SELECT num FROM runs WHERE task_key = tasks.k ORDER BY num DESC LIMIT 1 OFFSET ${keep - 1}) AS bound FROM tasks WHERE k IS NOT NULL`.execute(this.#reader);
    return new Map(rows.flatMap((r) => (r.bound === null ? [] : [[r.task_key, Number(r.bound)] as const])));
  }

  /** Every task key with runs, one index seek per key. */
  async #taskKeys(): Promise<string[]> {
    const { rows } = await sql<{ k: string | null }>`
      WITH RECURSIVE tasks(k) AS (SELECT min(task_key) FROM runs UNION ALL SELECT (SELECT min(task_key) FROM runs WHERE task_key > tasks.k) FROM tasks WHERE tasks.k IS NOT NULL)
      SELECT k FROM tasks WHERE k IS NOT NULL`.execute(this.#reader);
    return rows.map((r) => r.k!);
  }

  /**
   * Each task's p95 duration (nearest rank) over its latest `sample` finished runs, computed in SQL from
   * the `runs_task_finished` index alone (migration 0004): a history page asks it for every task it shows.
   */
  async recentP95(taskKeys: readonly string[], sample: number): Promise<Map<string, number>> {
    const p95 = new Map<string, number>();
    for (const taskKey of new Set(taskKeys)) {
      const { rows } = await sql<{ elapsed_us: number }>`
        WITH s AS MATERIALIZED (SELECT elapsed_us FROM runs INDEXED BY runs_task_finished WHERE task_key = ${taskKey} AND status != 'running' ORDER BY num DESC LIMIT ${sample})
        SELECT elapsed_us FROM s ORDER BY elapsed_us LIMIT 1 OFFSET (SELECT min(count(*) - 1, count(*) * 95 / 100) FROM s)`.execute(this.#reader);
      if (rows[0]) p95.set(taskKey, Number(rows[0].elapsed_us));
    }
    return p95;
  }

  async searchSnippets(runIds: readonly string[], q: string): Promise<SearchSnippet[]> {
    const match = toFtsQuery(q);
    if (!match || runIds.length === 0) return [];
    const snippet = (column: number) => sql<string>`snippet(${sql.raw(column === -1 ? 'log_search' : 'result_search')}, ${column === -1 ? 0 : column}, ${MATCH_START}, ${MATCH_END}, '…', 16)`;
    const logs = await this.#reader
      .selectFrom('log_search')
      .innerJoin('run_logs', 'run_logs.rowid', 'log_search.rowid')
      .innerJoin('runs', 'runs.num', 'run_logs.run_num')
      .select(['runs.id', 'run_logs.seq', snippet(-1).as('text')])
      .where(sql<boolean>`log_search MATCH ${match}`)
      .where('runs.id', 'in', runIds)
      .orderBy('run_logs.run_num')
      .orderBy('run_logs.seq')
      .execute();
    const results = await this.#reader
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

}

/** `CASE task_key WHEN k THEN bound ... ELSE 0 END`: the num below which a task's runs are beyond its kept ones. */
function caseByTask(bounds: ReadonlyMap<string, number>) {
  return sql`CASE task_key ${sql.join([...bounds].map(([key, bound]) => sql`WHEN ${key} THEN ${bound}`), sql` `)} ELSE 0 END`;
}

function toListRow(row: ListRow): RunListRow {
  return {
    id: row.id,
    taskKey: row.task_key,
    label: row.run_label,
    status: row.status as RunStatus,
    startedAt: Number(row.started_at),
    elapsedUs: Number(row.elapsed_us),
    args: JSON.parse(row.args_json) as Record<string, unknown>,
    tags: JSON.parse(row.tags_json) as string[],
    error: row.error,
  };
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

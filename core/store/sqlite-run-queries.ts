/** Reads of run history (runs, logs, filters, full-text snippets, retention candidates), on the read-only handle. */
import { sql, type Kysely, type Selectable, type SelectQueryBuilder } from 'kysely';
import type {
  LogLine,
  PruneCandidate,
  PruneQuery,
  RunFilter,
  RunOrigin,
  RunPage,
  SearchSnippet,
  StoredRun,
  TaskRunSummary,
} from '../tasks/run-repository.js';
import type { Progress, RunStatus } from '../tasks/types.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { MATCH_END, MATCH_START, toFtsQuery } from './fts-query.js';
import type { RunsTable, Schema } from './schema.js';

const MAX_PAGE = 500;

type RunRow = Selectable<RunsTable>;
type RunsQuery = SelectQueryBuilder<Schema, 'runs', object>;

export class SqliteRunQueries {
  readonly #reader: Kysely<Schema>;

  constructor(reader: Kysely<Schema>) {
    this.#reader = reader;
  }

  async getRun(id: string): Promise<StoredRun | undefined> {
    const row = await this.#reader.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toStoredRun(row);
  }

  async getLogs(id: string, options: { afterSeq?: number; limit?: number } = {}): Promise<LogLine[]> {
    let query = this.#reader
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
    let query = applyFilter(this.#reader.selectFrom('runs'), filter);
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
    const rows = await this.#reader
      .selectFrom('runs')
      .select(['task_key', 'status', 'started_at', 'id'])
      .where('num', 'in', (sub) => sub.selectFrom('runs').select((eb) => eb.fn.max('num').as('num')).groupBy('task_key'))
      .execute();
    return new Map(rows.map((r) => [r.task_key, { taskKey: r.task_key, status: r.status as RunStatus, startedAt: Number(r.started_at), id: r.id }]));
  }

  async findPrunable(query: PruneQuery): Promise<PruneCandidate[]> {
    const ranked = this.#reader
      .selectFrom('runs')
      .select((eb) => ['num', 'id', 'task_key', 'started_at', 'status', eb.fn.agg<number>('row_number', []).over((ob) => ob.partitionBy('task_key').orderBy('num', 'desc')).as('rank')])
      .as('ranked');
    let q = this.#reader
      .selectFrom(ranked)
      .select(['ranked.id', 'ranked.task_key', 'ranked.started_at', 'ranked.status'])
      .where('ranked.rank', '>', query.keepPerTask)
      .where('ranked.status', '!=', 'running');
    if (query.startedBefore !== undefined) q = q.where('ranked.started_at', '<', query.startedBefore);
    const rows = await q.orderBy('ranked.num', 'asc').limit(query.limit).execute();
    return rows.map((r) => ({ id: r.id, taskKey: r.task_key, startedAt: Number(r.started_at), status: r.status as RunStatus }));
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

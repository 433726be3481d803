/**
 * Run history in SQLite: writes go through the single writer's queue, reads through the read-only handle.
 * A text search first waits for the runs finished so far to be indexed (a background write away).
 */
import type {
  DayCount,
  DurationPoint,
  LogLine,
  PruneCandidate,
  PruneCount,
  PruneQuery,
  RunCompletion,
  RunFilter,
  RunListRow,
  RunPage,
  RunRepository,
  RunStart,
  RunTurn,
  SearchSnippet,
  StoredRun,
  TaskRunSummary,
  TaskStats,
} from '../tasks/run-repository.js';
import type { OpenedDatabase } from './open-database.js';
import { SqliteRunAnalytics } from './sqlite-run-analytics.js';
import { SqliteRunQueries } from './sqlite-run-queries.js';
import { SqliteRunWriter, type SqliteRunWriterOptions } from './sqlite-run-writer.js';

export class SqliteRunRepository implements RunRepository {
  readonly #db: OpenedDatabase;
  readonly #writer: SqliteRunWriter;
  readonly #queries: SqliteRunQueries;
  readonly #analytics: SqliteRunAnalytics;

  /** `options.logger`: where background indexing reports what it cannot return to a caller (silent if none). */
  constructor(db: OpenedDatabase, options: SqliteRunWriterOptions = {}) {
    this.#db = db;
    this.#writer = new SqliteRunWriter(db, options);
    this.#queries = new SqliteRunQueries(db.reader, db.readHandle);
    this.#analytics = new SqliteRunAnalytics(db.reader);
  }

  insertRun(run: RunStart): Promise<void> {
    return this.#writer.insertRun(run);
  }

  writeTurn(runId: string, turn: RunTurn): Promise<void> {
    return this.#writer.writeTurn(runId, turn);
  }

  completeRun(completion: RunCompletion): Promise<void> {
    return this.#writer.completeRun(completion);
  }

  markInterrupted(now: number): Promise<number> {
    return this.#writer.markInterrupted(now);
  }

  deleteRuns(ids: readonly string[]): Promise<number> {
    return this.#writer.deleteRuns(ids);
  }

  getRun(id: string): Promise<StoredRun | undefined> {
    return this.#queries.getRun(id);
  }

  getLogs(id: string, options?: { afterSeq?: number; limit?: number }): Promise<LogLine[]> {
    return this.#queries.getLogs(id, options);
  }

  async listRuns(filter: RunFilter, options?: { limit?: number; cursor?: string | null }): Promise<RunPage> {
    if (filter.q) await this.#writer.searchable();
    return this.#queries.listRuns(filter, options);
  }

  async *streamRuns(filter: RunFilter, pageSize?: number): AsyncIterable<StoredRun> {
    if (filter.q) await this.#writer.searchable();
    yield* this.#queries.streamRuns(filter, pageSize);
  }

  latestRunPerTask(): Promise<Map<string, TaskRunSummary>> {
    return this.#queries.latestRunPerTask();
  }

  findPrunable(query: PruneQuery): Promise<PruneCandidate[]> {
    return this.#queries.findPrunable(query);
  }

  countPrunable(query: Omit<PruneQuery, 'limit'> & { startedBefore: number }): Promise<PruneCount[]> {
    return this.#queries.countPrunable(query);
  }

  recentP95(taskKeys: readonly string[], sample: number): Promise<Map<string, number>> {
    return this.#queries.recentP95(taskKeys, sample);
  }

  async *streamRunRows(filter: RunFilter): AsyncIterable<RunListRow[]> {
    if (filter.q) await this.#writer.searchable();
    yield* this.#queries.streamRunRows(filter);
  }

  async searchSnippets(runIds: readonly string[], q: string): Promise<SearchSnippet[]> {
    await this.#writer.searchable();
    return this.#queries.searchSnippets(runIds, q);
  }

  taskStats(since: number, taskKeys?: readonly string[]): Promise<TaskStats[]> {
    return this.#analytics.taskStats(since, taskKeys);
  }

  runsPerDay(since: number, taskKeys?: readonly string[]): Promise<DayCount[]> {
    return this.#analytics.runsPerDay(since, taskKeys);
  }

  durations(taskKey: string, limit: number): Promise<DurationPoint[]> {
    return this.#analytics.durations(taskKey, limit);
  }

  storageBytes(): Promise<number> {
    return Promise.resolve(this.#db.usedBytes());
  }

  flush(): Promise<void> {
    return this.#writer.flush();
  }

  close(): Promise<void> {
    return this.#writer.close();
  }
}

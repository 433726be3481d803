/**
 * The contract between the task layer and whatever keeps history. `tasks/` reaches the database only
 * through this interface, so a PostgreSQL store can replace SQLite without touching the kernel.
 * Every write resolves once it is durable (committed). A write the storage cannot take now (disk full,
 * I/O error, database locked) rejects with an `ERR_STORE` error that `isRetryableStoreError` accepts:
 * nothing of it was written, and the same write may succeed later.
 */
import { TaskdeckError } from '../errors.js';
import type { Progress, RunStatus, TaskArgs } from './types.js';

/** True for a write that failed because of the storage, not because of what was written: retry it later. */
export function isRetryableStoreError(error: unknown): boolean {
  return error instanceof TaskdeckError && error.code === 'ERR_STORE' && error.details.retryable === true;
}

export type LogStream = 'log' | 'stderr' | 'system';

export interface LogLine {
  seq: number;
  /** Epoch milliseconds. */
  at: number;
  stream: LogStream;
  msg: string;
}

export type RunOrigin = 'code' | 'http' | 'ws' | 'cli' | 'batch';

export interface RunStart {
  id: string;
  taskKey: string;
  taskTitle: string;
  taskVersion: string;
  label: string;
  args: TaskArgs;
  /** Epoch milliseconds. */
  startedAt: number;
  origin: RunOrigin;
}

/** Lines `fromSeq..toSeq` (inclusive) of a run to delete: the middle of a log over its cap. */
export interface LogTrim {
  fromSeq: number;
  toSeq: number;
}

/** What a run wrote in one turn of the event loop: stored in one commit, or not at all. */
export interface RunTurn {
  lines: readonly LogLine[];
  progress?: Progress | null;
  dropLines?: LogTrim | null;
}

export interface RunCompletion {
  id: string;
  status: Exclude<RunStatus, 'running' | 'interrupted'>;
  finishedAt: number;
  elapsedUs: number;
  summary: string;
  error: string;
  errorStack: string;
  /** The data, already serialised to JSON; null when the run produced none. */
  dataJson: string | null;
  metadata: Record<string, unknown>;
  tags: string[];
  logCount: number;
  logsDropped: number;
  progress: Progress | null;
  /** The run's last log lines, not appended yet: written in the same transaction as the outcome. */
  finalLines: readonly LogLine[];
  /** Lines to delete in that transaction too (the middle of a log over its cap), or null. */
  dropLines: LogTrim | null;
}

/** A run as history holds it. */
export interface StoredRun {
  id: string;
  taskKey: string;
  taskTitle: string;
  taskVersion: string;
  label: string;
  args: TaskArgs;
  status: RunStatus;
  startedAt: number;
  finishedAt: number | null;
  elapsedUs: number;
  summary: string;
  error: string;
  errorStack: string;
  dataJson: string | null;
  metadata: Record<string, unknown>;
  tags: string[];
  logCount: number;
  logsDropped: number;
  progress: Progress | null;
  origin: RunOrigin;
}

export interface RunFilter {
  task?: string[];
  status?: RunStatus[];
  label?: string[];
  tag?: string[];
  /** Epoch milliseconds, inclusive. */
  since?: number;
  /** Epoch milliseconds, exclusive. */
  until?: number;
  /** Argument name -> value; every pair must match. */
  args?: Record<string, string>;
  /** Full-text search over log lines, error and data (words are ANDed; `word*` is a prefix). */
  q?: string;
  /** Duration range in microseconds, inclusive. */
  minElapsedUs?: number;
  maxElapsedUs?: number;
}

/** Where a text search matched in one run, with the match between \u0002 and \u0003. */
export interface SearchSnippet {
  runId: string;
  where: 'log' | 'error' | 'data';
  /** The log line's number when `where` is `log`. */
  seq: number | null;
  text: string;
}

export interface TaskStats {
  taskKey: string;
  count: number;
  ok: number;
  failed: number;
  /** Microseconds; null without finished runs. */
  p50Us: number | null;
  p95Us: number | null;
}

export interface DayCount {
  /** YYYY-MM-DD (UTC). */
  day: string;
  ok: number;
  failed: number;
}

export interface DurationPoint {
  id: string;
  startedAt: number;
  elapsedUs: number;
  status: RunStatus;
}

export interface RunPage {
  runs: StoredRun[];
  /** Opaque cursor of the next (older) page, or null at the end. */
  next: string | null;
}

export interface TaskRunSummary {
  taskKey: string;
  status: RunStatus;
  startedAt: number;
  id: string;
}

/** What retention may delete: finished runs older than the age limit, beyond each task's latest few. */
export interface PruneQuery {
  /** Only runs started before this (epoch ms); omit to ignore age (the size budget). */
  startedBefore?: number;
  /** Each task's latest `keepPerTask` runs are never candidates. */
  keepPerTask: number;
  limit: number;
}

export interface PruneCandidate {
  id: string;
  taskKey: string;
  startedAt: number;
  status: RunStatus;
}

/** A run as a history list shows it (no data, log or metadata): what an export streams. */
export interface RunListRow {
  id: string;
  taskKey: string;
  label: string;
  status: RunStatus;
  startedAt: number;
  elapsedUs: number;
  args: TaskArgs;
  tags: string[];
  error: string;
}

/** How many runs of one task the age limit would remove. */
export interface PruneCount {
  taskKey: string;
  count: number;
}

export interface RunRepository {
  insertRun(run: RunStart): Promise<void>;
  /**
   * A running run's new log lines, its progress and a trim of its log, in one commit: a subscriber
   * shown the lines never misses a trim the store kept, nor the other way round.
   */
  writeTurn(runId: string, turn: RunTurn): Promise<void>;
  /**
   * Records the outcome with the run's last lines, in one commit: the run is never `ok` in history
   * without its whole log. Its log is searchable when this resolves or, for a long log, once `flush`
   * resolves (indexed in the background).
   */
  completeRun(completion: RunCompletion): Promise<void>;
  /**
   * At start-up: marks rows still `running` (left by a process that died) as `interrupted`; returns how
   * many. Also resumes indexing logs the previous process had not finished indexing.
   */
  markInterrupted(now: number): Promise<number>;
  getRun(id: string): Promise<StoredRun | undefined>;
  /** Log lines with `seq > afterSeq`, in order, at most `limit`. */
  getLogs(id: string, options?: { afterSeq?: number; limit?: number }): Promise<LogLine[]>;
  listRuns(filter: RunFilter, options?: { limit?: number; cursor?: string | null }): Promise<RunPage>;
  /** Every matching run, newest first, read page by page so memory stays flat. */
  streamRuns(filter: RunFilter, pageSize?: number): AsyncIterable<StoredRun>;
  /** The latest run of each task. */
  latestRunPerTask(): Promise<Map<string, TaskRunSummary>>;
  /** For the runs given, where the text query matched (the first match per run). */
  searchSnippets(runIds: readonly string[], q: string): Promise<SearchSnippet[]>;
  /** Count, outcome and duration percentiles per task of the finished runs started since `since`. */
  taskStats(since: number, taskKeys?: readonly string[]): Promise<TaskStats[]>;
  /** Finished runs per UTC day since `since`. */
  runsPerDay(since: number, taskKeys?: readonly string[]): Promise<DayCount[]>;
  /** The latest finished runs of a task, oldest first, for a duration chart. */
  durations(taskKey: string, limit: number): Promise<DurationPoint[]>;
  /** Oldest first; never a `running` run. */
  findPrunable(query: PruneQuery): Promise<PruneCandidate[]>;
  /** How many runs `findPrunable` would give for this age limit, without a limit, per task (largest first; tasks with none left out). */
  countPrunable(query: Omit<PruneQuery, 'limit'> & { startedBefore: number }): Promise<PruneCount[]>;
  /** Each task's p95 duration in microseconds (nearest rank) over its latest `sample` finished runs; tasks without any are left out. */
  recentP95(taskKeys: readonly string[], sample: number): Promise<Map<string, number>>;
  /** Every matching run as a list row, newest first, a page at a time (memory holds one page). */
  streamRunRows(filter: RunFilter): AsyncIterable<RunListRow[]>;
  /** Deletes runs with their logs, tags and argument index; returns how many runs went. */
  deleteRuns(ids: readonly string[]): Promise<number>;
  /** Bytes the history occupies (pages in use, not free pages). */
  storageBytes(): Promise<number>;
  /** Waits for every queued write to commit and for finished runs' logs to be searchable. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

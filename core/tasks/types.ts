/**
 * The one home of the task model's shared types: what a plugin author declares, what the kernel keeps,
 * and the Result a run produces.
 */
import type { Logger } from 'pino';

export type FieldType = 'string' | 'int' | 'float' | 'bool' | '[]string' | 'time';

export const FIELD_TYPES: readonly FieldType[] = ['string', 'int', 'float', 'bool', '[]string', 'time'];

/** A typed input of a task: a form control in the UI, a query parameter over HTTP. */
export interface FieldDesc {
  key: string;
  title?: string;
  description?: string;
  /** Defaults to `string`. */
  type?: FieldType;
  /** Used when the argument is missing. A string is coerced like a query value; a typed value is used as is. */
  default?: unknown;
  choices?: readonly string[];
  required?: boolean;
}

/** A field after normalisation: every optional part filled in. */
export interface Field {
  key: string;
  title: string;
  description: string;
  type: FieldType;
  default: unknown;
  choices: readonly string[];
  required: boolean;
}

/** The value a field of each type gives the task. */
export interface FieldValueTypes {
  string: string;
  int: number;
  float: number;
  bool: boolean;
  '[]string': string[];
  time: Date | null;
}

export type TaskArgs = Record<string, unknown>;

export type RunStatus = 'running' | 'ok' | 'error' | 'cancelled' | 'timeout' | 'interrupted';

export const RUN_STATUSES: readonly RunStatus[] = ['running', 'ok', 'error', 'cancelled', 'timeout', 'interrupted'];

export interface Progress {
  done: number;
  total: number;
  message: string;
}

/** What a task function can do to its own run while it runs. */
export interface ResultHandle {
  readonly id: string;
  /** Appends log lines. Several parts are joined with a space; non-strings are rendered like `console.log`. */
  log(...parts: unknown[]): void;
  /** Adds tags; the Result keeps them de-duplicated and sorted. */
  addTags(...tags: string[]): void;
  /** Reports progress: shown as a bar on the live page and sent over the WebSocket. */
  progress(done: number, total: number, message?: string): void;
  /** Completes the run as `ok` with this data. The first completion wins; later ones are ignored. */
  complete(data?: unknown): void;
  /** Completes the run as `error`. */
  completeError(error: unknown): void;
  readonly completed: boolean;
}

export interface TaskContext<Args = TaskArgs> {
  /** Arguments, coerced by the task's fields. Undeclared query keys arrive as strings (lists when repeated). */
  readonly args: Args;
  /** The run label (`category` in the query string); `ad-hoc` by default. */
  readonly label: string;
  readonly runId: string;
  log(...parts: unknown[]): void;
  readonly result: ResultHandle;
  /** Aborted when the run is cancelled or times out: pass it to fetch, child processes, timers. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

export type TaskFunction<Args = TaskArgs> = (ctx: TaskContext<Args>) => unknown;

/** What a plugin author writes. Only `key` and `run` are required. */
export interface TaskDefinition<Args = TaskArgs> {
  key: string;
  title?: string;
  category?: string;
  icon?: string;
  description?: string;
  tags?: readonly string[];
  fields?: readonly FieldDesc[];
  /** A warning shown before running; the form asks the operator to confirm. */
  dangerous?: string;
  expensive?: boolean;
  /** Where links to the task point; the run routes stay under `/admin/task/{key}`. */
  webURL?: string;
  /** Parallelism of `runAll`: 0 = number of CPUs, -1 = 128, n > 0 = n. */
  maxConcurrent?: number;
  /** Milliseconds before the run is aborted with status `timeout`. 0 = no limit. */
  timeout?: number;
  /** Refuse undeclared arguments with 400 instead of passing them through as strings. */
  strictArgs?: boolean;
  run: TaskFunction<Args>;
}

/** Where a registered task came from. */
export type TaskSource =
  | { kind: 'plugin'; file: string }
  | { kind: 'dynamic'; by: string }
  | { kind: 'preset'; base: string };

/** A task as the registry keeps it: normalised, frozen, with its origin and code version. */
export interface Task {
  readonly key: string;
  readonly title: string;
  readonly category: string;
  readonly icon: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly fields: readonly Field[];
  readonly dangerous: string;
  readonly expensive: boolean;
  readonly webURL: string;
  readonly maxConcurrent: number;
  readonly timeout: number;
  readonly strictArgs: boolean;
  readonly source: TaskSource;
  /** A hash of the code that defines the task (the plugin file's content), to tell runs of old code apart. */
  readonly version: string;
  readonly run: TaskFunction<any>;
}

/** The JSON shape of a task: the seed's keys, plus ours. */
export interface TaskJson {
  key: string;
  title: string;
  category: string;
  icon: string;
  description: string;
  tags: string[];
  fields: Field[];
  dangerous: string;
  expensive: boolean;
  webURL: string;
  maxConcurrent: number;
  timeout: number;
  strictArgs: boolean;
  source: TaskSource;
  version: string;
}

/** The persisted outcome of a run. Keeps the seed's JSON keys. */
export interface ResultJson {
  id: string;
  /** The task object on a full result; the key on a history row. */
  task: TaskJson | { key: string; title: string };
  run: string;
  args: TaskArgs;
  started: string;
  /** Integer microseconds. */
  elapsed: number;
  status: RunStatus;
  summary: string;
  logs: string[];
  data: unknown;
  tags: string[];
  metadata: Record<string, unknown>;
  success: boolean;
  error: string;
}

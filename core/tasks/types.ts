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
  /**
   * Sets a key of the Result's `metadata` (kept in history with the run). The value is normalised like
   * data; `taskVersion` is the kernel's. `ctx.exec` sets `exitCode`, `exitSignal` and `commands`.
   */
  setMetadata(key: string, value: unknown): void;
  readonly completed: boolean;
}

/** How `ctx.exec` runs a command. */
export interface ExecOptions {
  /** Working directory; it must exist. Default: the kernel's working directory. */
  cwd?: string;
  /**
   * Added to the environment the command inherits; a key set to `undefined` removes that variable.
   * The inherited environment never holds the kernel's own `TASKDECK_*` settings (its token among them).
   */
  env?: Record<string, string | undefined>;
  /** `false`: `env` is the whole environment; nothing is inherited, not even `PATH`. Default `true`. */
  inheritEnv?: boolean;
  /**
   * Run `command` as a shell script (`true`: `/bin/sh -c`; a string: that shell, e.g. `'bash'`). The
   * arguments are still never parsed by the shell: they become the script's `"$1"`, `"$2"`, ….
   */
  shell?: boolean | string;
  /** Resolve with any exit (a non-zero code, a signal) instead of rejecting. Default `false`. */
  allowNonZero?: boolean;
  /** On cancel or timeout the process group gets SIGTERM, then SIGKILL after this many ms. Default 5000. */
  killGraceMs?: number;
  /** Written to the command's standard input, which is then closed. Default: no input (`/dev/null`). */
  input?: string | Uint8Array;
  /**
   * Sees every line as it arrives, before it is logged (to parse progress, say). `rewrite` marks an
   * intermediate state of a line a `\r` rewrites: only the last state is logged. A throw stops the command.
   */
  onLine?: (line: string, info: { stream: 'stdout' | 'stderr'; rewrite: boolean }) => void;
}

/** How a command ended. */
export interface ExecResult {
  /** The command as given (the script, with `shell`). */
  command: string;
  args: string[];
  pid: number;
  /** The exit code; null when a signal ended the command. */
  code: number | null;
  signal: NodeJS.Signals | null;
  elapsedMs: number;
}

export type ExecFunction = (command: string, args?: readonly (string | number)[], options?: ExecOptions) => Promise<ExecResult>;

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
  /**
   * Runs a command without a shell, its stdout and stderr streamed line by line into the run's log (ANSI
   * colours kept), and resolves with how it ended. A non-zero exit rejects (`command "pg_dump" exited
   * with code 2`) unless `allowNonZero`; cancel and timeout stop its whole process group.
   *
   * @example
   * const { code } = await ctx.exec('du', ['-sh', '--', folder], { cwd: '/srv' });
   */
  exec: ExecFunction;
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
  /**
   * `'worker'`: run the function in a worker thread, so heavy work does not hold up the kernel. Needs
   * `module`. The worker imports that module again and takes the task with this key from its exports.
   */
  isolate?: 'worker';
  /** With `isolate`: the module that defines this task, as a file URL or absolute path: `import.meta.url`. */
  module?: string;
  /** With `isolate`: after cancel or timeout, how long the worker may take to stop before it is terminated. Default 5000. */
  workerGraceMs?: number;
  /** With `isolate`: the worker's heap limit in MiB (it ends as `error` beyond it). Default: Node's. */
  workerMaxMemoryMb?: number;
  run: TaskFunction<Args>;
}

/** How an isolated task runs. */
export interface WorkerIsolation {
  kind: 'worker';
  /** A `file:` URL. */
  module: string;
  graceMs: number;
  /** 0: Node's default. */
  maxMemoryMb: number;
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
  /** Null: the function runs in the kernel's thread. */
  readonly isolate: WorkerIsolation | null;
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

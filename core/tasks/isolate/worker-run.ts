/**
 * Runs an isolated task's function in a worker thread and bridges it to its LiveRun: log lines,
 * progress, tags, metadata and the outcome come back as messages; cancel and timeout go in as an
 * `abort` message, and a worker still running `graceMs` later is terminated. However the worker ends
 * (an uncaught exception, `process.exit`, out of memory), the run ends `error`, never the kernel.
 * A worker does not outlive its run by more than the grace period.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { describeThrown } from '../../errors.js';
import type { ProcessGroups, TrackedGroup } from '../exec-process-groups.js';
import type { LiveRun } from '../live-run.js';
import type { WorkerIsolation } from '../types.js';
import { isWorkerBatch, isWorkerEvent, type AbortCommand, type WorkerEvent, type WorkerStart } from './worker-protocol.js';

/** Plain JavaScript: it registers tsx in the worker, then imports worker-main.ts. */
const BOOT = new URL('./worker-boot.mjs', import.meta.url);

export interface WorkerRunOptions {
  isolation: WorkerIsolation;
  live: LiveRun;
  /** The run's signal: cancel and timeout. */
  signal: AbortSignal;
  processes: ProcessGroups;
  logger: Logger;
  maxLineLength: number;
}

export class WorkerRun {
  readonly #options: WorkerRunOptions;
  readonly #groups = new Map<number, TrackedGroup>();
  #worker: Worker | null = null;
  #crash: unknown = null;
  /** The task's function has returned or thrown. */
  #finished = false;
  #stopTimer: NodeJS.Timeout | null = null;
  #abortSent = false;
  readonly exited: Promise<void>;
  #resolveExited!: () => void;

  constructor(options: WorkerRunOptions) {
    this.#options = options;
    this.exited = new Promise((resolve) => (this.#resolveExited = resolve));
  }

  start(): void {
    const { isolation, live, signal } = this.#options;
    const start: WorkerStart = {
      module: isolation.module,
      key: live.task.key,
      args: live.args,
      label: live.label,
      runId: live.id,
      maxLineLength: this.#options.maxLineLength,
      logLevel: this.#options.logger.level,
    };
    let worker: Worker;
    try {
      worker = new Worker(BOOT, {
        workerData: start,
        execArgv: [],
        resourceLimits: isolation.maxMemoryMb > 0 ? { maxOldGenerationSizeMb: isolation.maxMemoryMb } : undefined,
      });
    } catch (error) {
      // A DataCloneError (an argument from code that cannot cross into a thread, a function say), or tsx missing.
      live.completeError(new Error(`the task could not start in a worker: ${describeThrown(error)}`, { cause: error }));
      this.#resolveExited();
      return;
    }
    this.#worker = worker;
    worker.on('message', (message: unknown) => this.#onMessage(message));
    worker.on('error', (error) => (this.#crash ??= error));
    worker.on('exit', (code) => this.#onExit(code));
    const onAbort = () => this.#stop(describeThrown(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    void live.done.then(() => {
      signal.removeEventListener('abort', onAbort);
      // Completed while the function still runs (`ctx.result.complete()` early): stop it like a cancel.
      if (this.#finished) this.terminate();
      else this.#stop('completed');
    });
  }

  /** Ends the worker now. */
  terminate(): void {
    if (this.#stopTimer) clearTimeout(this.#stopTimer);
    void this.#worker?.terminate();
  }

  /** Asks the task to stop through its signal; terminates the worker if it is still there after the grace period. */
  #stop(reason: string): void {
    if (!this.#worker || this.#abortSent) return;
    this.#abortSent = true;
    const command: AbortCommand = { type: 'abort', reason };
    this.#worker.postMessage(command);
    this.#stopTimer = setTimeout(() => {
      this.#options.logger.warn(`the worker of run ${this.#options.live.id} did not stop within ${this.#options.isolation.graceMs} ms of "${reason}": terminated`);
      this.terminate();
    }, this.#options.isolation.graceMs);
  }

  #onMessage(message: unknown): void {
    if (!isWorkerBatch(message)) return;
    for (const event of message.batch) if (isWorkerEvent(event)) this.#apply(event);
  }

  #apply(event: WorkerEvent): void {
    const { live, processes } = this.#options;
    switch (event.type) {
      case 'line':
        return live.appendLine(event.msg, event.stream);
      case 'progress':
        return live.progress(event.done, event.total, event.message);
      case 'tags':
        return live.addTags(...event.tags);
      case 'metadata':
        try {
          live.setMetadata(event.key, event.value);
        } catch (error) {
          this.#options.logger.warn({ err: error }, 'metadata from a worker was refused');
        }
        return;
      case 'complete':
        return live.complete(event.data);
      case 'fail':
        return live.settle({ status: 'error', data: undefined, error: event.message, errorStack: event.stack });
      case 'finished':
        this.#finished = true;
        if (live.completed) this.terminate();
        return;
      case 'logger':
        return this.#relog(event.line);
      case 'spawned':
        this.#groups.set(event.pid, processes.track(event.pid, event.label, event.graceMs));
        return;
      case 'terminate':
        return this.#groups.get(event.pid)?.terminate(event.why);
      case 'released':
        this.#groups.get(event.pid)?.release();
        this.#groups.delete(event.pid);
        return;
    }
  }

  #onExit(code: number): void {
    if (this.#stopTimer) clearTimeout(this.#stopTimer);
    this.#worker = null;
    const { live, isolation } = this.#options;
    if (!live.completed) {
      const crash = this.#crash;
      const error =
        (crash as { code?: unknown } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new Error(`the worker ran out of memory${isolation.maxMemoryMb > 0 ? ` (limit ${isolation.maxMemoryMb} MiB)` : ''}: ${describeThrown(crash)}`, { cause: crash })
          : crash !== null
            ? withStack(new Error(`the worker crashed: ${describeThrown(crash)}`, { cause: crash }), crash)
            : new Error(`the worker exited with code ${code} before the task finished (process.exit() in the task?)`);
      live.completeError(error);
    }
    this.#resolveExited();
  }

  /** A line of the worker's pino logger, logged again through the run's logger (with its bindings). */
  #relog(line: string): void {
    const logger = this.#options.logger;
    try {
      const { level, msg, ...fields } = JSON.parse(line) as { level?: number; msg?: string };
      const label = typeof level === 'number' ? logger.levels.labels[level] : undefined;
      const log = label ? (logger as unknown as Record<string, unknown>)[label] : undefined;
      if (typeof log === 'function') (log as (obj: object, msg?: string) => void).call(logger, fields, msg);
    } catch {
      logger.info({ line }, 'unreadable log line from a worker');
    }
  }
}

/** The crash's own stack points into the task; ours would point here. */
function withStack(error: Error, crash: unknown): Error {
  if (crash instanceof Error && crash.stack) error.stack = crash.stack;
  return error;
}

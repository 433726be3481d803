/**
 * Runs tasks: coerces arguments, records each run from its first moment, enforces cancellation and
 * time limits, and turns every way a task can fail into a completed Result. The HTTP and WebSocket
 * layers talk to this service, never to the store.
 */
import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import { TaskdeckError, runNotFound } from '../errors.js';
import { concurrencyLimit } from './concurrency.js';
import { createExec } from './exec.js';
import { ProcessGroups } from './exec-process-groups.js';
import { coerceArgs, coerceCodeArgs, type RawArgs } from './fields.js';
import { WorkerRun } from './isolate/worker-run.js';
import { LiveRun, type LogLimits } from './live-run.js';
import type { TaskRegistry } from './registry.js';
import type { LogLine, RunFilter, RunOrigin, RunPage, RunRepository, StoredRun, TaskRunSummary } from './run-repository.js';
import type { ResultJson, Task, TaskArgs, TaskContext } from './types.js';

export const DEFAULT_LABEL = 'ad-hoc';

export interface TaskServiceOptions {
  registry: TaskRegistry;
  repository: RunRepository;
  logger: Logger;
  limits: LogLimits;
  now?: () => number;
}

export interface RunOptions {
  label?: string;
  origin?: RunOrigin;
  /** Aborts the run like a cancel (for a caller with its own deadline). */
  signal?: AbortSignal;
}

/** Arguments as they arrive: raw query values (coerced like a form) or typed values from code. */
export type ArgsInput =
  /** `fromForm`: submitted by our HTML form, where an unchecked checkbox is absent and an empty input means "not given". */
  | { raw: RawArgs; fromForm?: boolean }
  | { typed: Record<string, unknown> };

/** What a finished run may leave behind for a while: process groups being stopped, a worker shutting down. */
interface Lingering {
  /** Resolves once nothing of the run is left. */
  settled: Promise<void>;
  /** Ends what is left at once (the kernel's grace period is over). */
  force(): void;
}

export class TaskService {
  readonly #registry: TaskRegistry;
  readonly #repository: RunRepository;
  readonly #logger: Logger;
  readonly #limits: LogLimits;
  readonly #now: () => number;
  readonly #active = new Map<string, { run: LiveRun; abort: AbortController }>();
  readonly #lingering = new Set<Lingering>();
  #stopping = false;

  constructor(options: TaskServiceOptions) {
    this.#registry = options.registry;
    this.#repository = options.repository;
    this.#logger = options.logger;
    this.#limits = options.limits;
    this.#now = options.now ?? Date.now;
  }

  get registry(): TaskRegistry {
    return this.#registry;
  }

  /** Validates and coerces arguments for a task; throws a 400 error naming every bad field. */
  prepareArgs(task: Task, input: ArgsInput): TaskArgs {
    if ('typed' in input) return coerceCodeArgs(task, input.typed);
    const fromForm = input.fromForm ?? false;
    return coerceArgs(task, input.raw, { checkboxes: fromForm, blankAsMissing: fromForm });
  }

  /** Runs a task to completion and returns its Result. Bad arguments throw; a failing task does not. */
  async run(key: string, args: Record<string, unknown> = {}, options: RunOptions = {}): Promise<ResultJson> {
    const task = this.#registry.require(key);
    const live = await this.start(task, this.prepareArgs(task, { typed: args }), options);
    return live.done;
  }

  /**
   * Starts a run with already-prepared arguments and returns as soon as its row is written.
   * The run goes on in the background; `live.done` resolves with the final Result.
   */
  async start(task: Task, args: TaskArgs, options: RunOptions = {}): Promise<LiveRun> {
    if (this.#stopping) throw new TaskdeckError('ERR_STORE', 'taskdeck is shutting down: no new runs', { status: 503, expose: true, headers: { 'Retry-After': '5' } });
    const id = randomUUID();
    const logger = this.#logger.child({ task: task.key, run: id });
    const live = new LiveRun({ id, task, label: options.label || DEFAULT_LABEL, args, repository: this.#repository, limits: this.#limits, logger, now: this.#now });
    await this.#repository.insertRun({
      id,
      taskKey: task.key,
      taskTitle: task.title,
      taskVersion: task.version,
      label: live.label,
      args,
      startedAt: live.startedAt,
      origin: options.origin ?? 'code',
    });
    const abort = new AbortController();
    this.#active.set(id, { run: live, abort });
    void live.done.then(() => this.#active.delete(id));
    this.#execute(task, live, abort, logger, options.signal);
    return live;
  }

  /**
   * Runs one task once per argument set, at most `maxConcurrent` at a time; results in input order.
   * A run leaves its place to the next once its task is over: recording its outcome overlaps the next
   * start (they share a commit), and each Result still resolves only once persisted.
   */
  async runAll(key: string, argSets: readonly Record<string, unknown>[], options: RunOptions = {}): Promise<ResultJson[]> {
    const task = this.#registry.require(key);
    const prepared = argSets.map((args) => this.prepareArgs(task, { typed: args }));
    const limit = pLimit(concurrencyLimit(task.maxConcurrent));
    const started = prepared.map((args) =>
      limit(async () => {
        const live = await this.start(task, args, { origin: 'batch', ...options });
        await live.settled;
        return live;
      }),
    );
    return Promise.all(started.map(async (live) => (await live).done));
  }

  /** Cancels a running run; its Result ends `cancelled`. Unknown: 404; already finished: 409. */
  async cancel(id: string): Promise<ResultJson> {
    const entry = this.#active.get(id);
    if (!entry) {
      await this.getStoredRun(id);
      throw this.#notRunning(id);
    }
    entry.abort.abort(new TaskdeckError('ERR_RUN_NOT_RUNNING', 'cancelled'));
    return entry.run.done;
  }

  activeRun(id: string): LiveRun | undefined {
    return this.#active.get(id)?.run;
  }

  activeRuns(): LiveRun[] {
    return [...this.#active.values()].map((e) => e.run);
  }

  async getStoredRun(id: string): Promise<StoredRun> {
    const run = await this.#repository.getRun(id);
    if (!run) throw runNotFound(id);
    return run;
  }

  getLogs(id: string, options?: { afterSeq?: number; limit?: number }): Promise<LogLine[]> {
    return this.#repository.getLogs(id, options);
  }

  listRuns(filter: RunFilter, options?: { limit?: number; cursor?: string | null }): Promise<RunPage> {
    return this.#repository.listRuns(filter, options);
  }

  streamRuns(filter: RunFilter): AsyncIterable<StoredRun> {
    return this.#repository.streamRuns(filter);
  }

  latestRunPerTask(): Promise<Map<string, TaskRunSummary>> {
    return this.#repository.latestRunPerTask();
  }

  /** Waits until every write queued so far is committed and every finished run is searchable. */
  flush(): Promise<void> {
    return this.#repository.flush();
  }

  /**
   * Refuses new runs, cancels the ones in flight and waits (up to `graceMs`) for them to be recorded and
   * for their processes and workers to end; what is still there then is killed. Every Result recorded
   * is durable; the search index of a long log may still be catching up (it resumes at the next start).
   */
  async stop(graceMs = 5000): Promise<void> {
    this.#stopping = true;
    const pending = [...this.#active.values()];
    for (const { abort } of pending) abort.abort(new TaskdeckError('ERR_RUN_NOT_RUNNING', 'taskdeck is shutting down'));
    const deadline = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.all(pending.map((e) => e.run.done)), deadline]);
    await Promise.race([Promise.all([...this.#lingering].map((l) => l.settled)), deadline]);
    for (const lingering of this.#lingering) lingering.force();
    // Within the grace period too: what is left of indexing long logs for search resumes at the next start.
    await Promise.race([this.#repository.flush(), deadline]);
  }

  #execute(task: Task, live: LiveRun, abort: AbortController, logger: Logger, external?: AbortSignal): void {
    const timer = task.timeout > 0 ? setTimeout(() => abort.abort(new TaskdeckError('ERR_RUN_NOT_RUNNING', 'timeout')), task.timeout) : null;
    const onExternalAbort = () => abort.abort(new TaskdeckError('ERR_RUN_NOT_RUNNING', 'cancelled'));
    external?.addEventListener('abort', onExternalAbort, { once: true });
    // Every command the run starts, wherever it runs: stopped on cancel, timeout and when the run ends.
    const processes = new ProcessGroups({ onLine: (msg) => live.appendLine(msg, 'system'), logger });
    const onAbort = () => {
      const reason = (abort.signal.reason as { message?: string } | undefined)?.message;
      const timedOut = reason === 'timeout';
      const text = timedOut ? `timed out after ${task.timeout}ms` : reason === 'cancelled' ? 'cancelled' : (reason ?? 'cancelled');
      live.appendLine(`run ${text}`, 'system');
      processes.close(text); // before settling, so the log records what was stopped
      live.settle({ status: timedOut ? 'timeout' : 'cancelled', data: undefined, error: text, errorStack: '' });
    };
    abort.signal.addEventListener('abort', onAbort, { once: true });
    const worker = task.isolate ? new WorkerRun({ isolation: task.isolate, live, signal: abort.signal, processes, logger, maxLineLength: this.#limits.maxLineLength }) : null;
    const cleanUp = () => {
      if (timer) clearTimeout(timer);
      abort.signal.removeEventListener('abort', onAbort);
      external?.removeEventListener('abort', onExternalAbort);
      processes.close('the run is over');
      if (processes.size === 0 && !worker) return;
      const lingering: Lingering = {
        settled: Promise.all([processes.whenIdle(), worker?.exited]).then(() => undefined),
        force: () => {
          processes.killAll();
          worker?.terminate();
        },
      };
      this.#lingering.add(lingering);
      void lingering.settled.then(() => this.#lingering.delete(lingering));
    };
    void live.done.then(cleanUp);
    if (worker) return worker.start();
    const ctx: TaskContext = {
      args: live.args,
      label: live.label,
      runId: live.id,
      log: (...parts) => live.log(...parts),
      result: live,
      signal: abort.signal,
      logger,
      exec: createExec({
        appendLine: (msg, stream) => live.appendLine(msg, stream),
        setMetadata: (key, value) => live.setMetadata(key, value),
        signal: abort.signal,
        maxLineLength: this.#limits.maxLineLength,
        processes,
      }),
    };
    // Deferred so that a task throwing synchronously is caught like a rejection.
    Promise.resolve()
      .then(() => task.run(ctx))
      .then(
        (data) => live.complete(data),
        (error: unknown) => live.completeError(error),
      );
  }

  #notRunning(id: string): TaskdeckError {
    return new TaskdeckError('ERR_RUN_NOT_RUNNING', `run "${id.slice(0, 200)}" is not running`, { status: 409, details: { run: id.slice(0, 200) } });
  }
}

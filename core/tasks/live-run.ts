/**
 * One run while it runs: the Result a task writes to through `ctx.result`, persisted as it goes.
 * Log lines and progress are batched into the store (what a task logs in one turn of the event loop
 * goes in one write) and handed to subscribers only after their batch has committed, so anything a
 * client has seen is already in history. Batches are queued without waiting for the previous one to
 * commit (the store commits in queue order); subscribers get them in order all the same. The lines
 * still pending when the run ends go in the same commit as its outcome: a task that logs and returns
 * within one turn costs one commit for the whole run after its start.
 */
import type { Logger } from 'pino';
import { describeThrown } from '../errors.js';
import { toPlain } from './to-plain.js';
import { LogBuffer } from './log-buffer.js';
import { capLineLength, formatLogParts, splitLogLines, wellFormed } from './log-lines.js';
import { microsToMillis } from './micros.js';
import { isRetryableStoreError, type LogLine, type LogStream, type RunCompletion, type RunRepository } from './run-repository.js';
import { taskToJson } from './task.js';
import type { Progress, ResultHandle, ResultJson, RunStatus, Task, TaskArgs } from './types.js';

export type RunEvent =
  | { type: 'log'; line: LogLine }
  | { type: 'progress'; progress: Progress }
  | { type: 'complete'; result: ResultJson };

export type RunListener = (event: RunEvent) => void;

export interface LogLimits {
  /** Characters kept of one line; the rest is cut with a marker. */
  maxLineLength: number;
  /** Serialised data larger than this ends the run as `error` ("result too large"). */
  maxDataBytes: number;
  /** Lines kept of one run: the first half and the last half; the middle is dropped (also from the store). */
  maxLogLines: number;
}

/** Dropped lines are deleted from the store in steps of at least this many, not line by line. */
const DROP_STEP = 1000;

/** Pauses between attempts to record a run's outcome while the storage fails (disk full): 0.1 s doubling to 5 s. */
const COMPLETION_RETRY_FIRST_MS = 100;
const COMPLETION_RETRY_MAX_MS = 5000;

/** Bytes of JSON a run's metadata may hold, all keys together. */
const MAX_METADATA_BYTES = 64 * 1024;

const RESERVED_METADATA_KEYS = new Set(['taskVersion', '__proto__', 'constructor', 'prototype']);

/** What a task adds to its Result's `metadata`: checked keys, normalised values, a size limit. */
export class RunMetadata {
  /** key -> [normalised value, its JSON size in bytes]. */
  readonly #entries = new Map<string, [unknown, number]>();

  /** Returns the normalised value. Throws a TypeError for a bad key, a RangeError past the size limit. */
  set(key: string, value: unknown): unknown {
    if (typeof key !== 'string' || key === '' || key.length > 100 || RESERVED_METADATA_KEYS.has(key)) {
      throw new TypeError(`setMetadata: expected a key of 1-100 characters other than ${[...RESERVED_METADATA_KEYS].map((k) => `"${k}"`).join(', ')}, got ${JSON.stringify(String(key).slice(0, 100))}`);
    }
    const plain = toPlain(value);
    const bytes = Buffer.byteLength(JSON.stringify(plain) ?? 'null');
    let total = bytes;
    for (const [other, [, size]] of this.#entries) if (other !== key) total += size;
    if (total > MAX_METADATA_BYTES) throw new RangeError(`setMetadata "${key}": the metadata would hold ${total} bytes of JSON, the limit is ${MAX_METADATA_BYTES}`);
    this.#entries.set(key, [plain, bytes]);
    return plain;
  }

  toObject(): Record<string, unknown> {
    return Object.fromEntries([...this.#entries].map(([key, [value]]) => [key, value]));
  }
}

export interface LiveRunOptions {
  id: string;
  task: Task;
  label: string;
  args: TaskArgs;
  repository: RunRepository;
  limits: LogLimits;
  logger: Logger;
  now: () => number;
}

type FinalStatus = RunCompletion['status'];

interface Outcome {
  status: FinalStatus;
  data: unknown;
  error: string;
  errorStack: string;
}

export class LiveRun implements ResultHandle {
  readonly id: string;
  readonly task: Task;
  readonly label: string;
  readonly args: TaskArgs;
  readonly startedAt: number;
  readonly #startedHr = process.hrtime.bigint();
  readonly #options: LiveRunOptions;
  readonly #lines: LogBuffer;
  /** Lines up to this sequence number (past the head) have been deleted from the store: committed. */
  #droppedThrough = 0;
  /** Lines up to this one are in a trim queued to the store (committed or not yet). */
  #dropQueuedThrough = 0;
  readonly #tags = new Set<string>();
  readonly #metadata = new RunMetadata();
  readonly #listeners = new Set<RunListener>();
  #pendingLines: LogLine[] = [];
  #pendingProgress: Progress | null = null;
  #flushScheduled = false;
  /** Batches queued to the store whose outcome is not handled yet. */
  #inFlight = 0;
  /** Settles once every batch queued so far is committed (or failed) and its events handed out, in order. */
  #emitted: Promise<void> = Promise.resolve();
  #progress: Progress | null = null;
  #outcome: Outcome | null = null;
  #result: ResultJson | null = null;
  #storageError: unknown = null;
  /** Lines handed out that the store refused (their batch failed): never shown to a subscriber. */
  #unstoredLines = 0;
  readonly #done: Promise<ResultJson>;
  #resolveDone!: (result: ResultJson) => void;
  readonly #settled: Promise<void>;
  #resolveSettled!: () => void;

  constructor(options: LiveRunOptions) {
    this.#options = options;
    this.id = options.id;
    this.task = options.task;
    this.label = options.label;
    this.args = options.args;
    this.startedAt = options.now();
    this.#lines = new LogBuffer(options.limits.maxLogLines);
    this.#droppedThrough = this.#lines.headSize;
    this.#dropQueuedThrough = this.#droppedThrough;
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
    this.#settled = new Promise((resolve) => (this.#resolveSettled = resolve));
  }

  get completed(): boolean {
    return this.#outcome !== null;
  }

  get status(): RunStatus {
    return this.#result?.status ?? 'running';
  }

  get progressState(): Progress | null {
    return this.#progress;
  }

  /** The last sequence number handed out (lines may still be on their way to the store). */
  get lastSeq(): number {
    return this.#lines.count;
  }

  /** Resolves with the final Result once it is persisted. */
  get done(): Promise<ResultJson> {
    return this.#done;
  }

  /** Resolves once the outcome is fixed (the task is over), before it is persisted. */
  get settled(): Promise<void> {
    return this.#settled;
  }

  log(...parts: unknown[]): void {
    for (const line of splitLogLines(formatLogParts(parts))) this.appendLine(line, 'log');
  }

  appendLine(msg: string, stream: LogStream): void {
    if (this.#outcome) return;
    const line: LogLine = { seq: this.#lines.count + 1, at: this.#options.now(), stream, msg: capLineLength(wellFormed(msg), this.#options.limits.maxLineLength) };
    this.#lines.push(line.msg);
    this.#pendingLines.push(line);
    this.#scheduleFlush();
  }

  addTags(...tags: string[]): void {
    if (this.#outcome) return;
    for (const tag of tags) if (typeof tag === 'string') this.#tags.add(wellFormed(tag));
  }

  /** Sets a key of the Result's metadata; ignored once the run is completed, like a log line. */
  setMetadata(key: string, value: unknown): void {
    if (this.#outcome) return;
    this.#metadata.set(key, value);
  }

  progress(done: number, total: number, message = ''): void {
    if (this.#outcome) return;
    if (!Number.isFinite(done) || !Number.isFinite(total)) return;
    this.#progress = { done, total, message: String(message) };
    this.#pendingProgress = this.#progress;
    this.#scheduleFlush();
  }

  complete(data?: unknown): void {
    this.settle({ status: 'ok', data, error: '', errorStack: '' });
  }

  completeError(error: unknown): void {
    this.settle({ status: 'error', data: undefined, error: describeThrown(error), errorStack: error instanceof Error ? (error.stack ?? '') : '' });
  }

  /** Fixes the outcome (the first call wins) and persists it. Later logs and completions are ignored. */
  settle(outcome: Outcome): void {
    if (this.#outcome) return;
    this.#outcome = outcome;
    this.#resolveSettled();
    void this.#finish(outcome);
  }

  subscribe(listener: RunListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The Result as it stands: final once completed, a running snapshot before. */
  snapshot(): ResultJson {
    return this.#result ?? this.#toJson({ status: 'running', data: undefined, error: '', errorStack: '' }, this.#elapsedUs());
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // After the current turn: what the task logs in it goes in one batch, or with the outcome if it ends.
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    // Once the outcome is fixed, #finish takes what is pending into the completion.
    if (this.#outcome) return;
    const lines = this.#pendingLines;
    const progress = this.#pendingProgress;
    this.#pendingLines = [];
    this.#pendingProgress = null;
    // Past the head, keep only the tail in the store too (deleted in steps, not line by line).
    const dropThrough = this.#lines.count - this.#lines.tailSize;
    const dropLines = dropThrough - this.#dropQueuedThrough >= DROP_STEP ? { fromSeq: this.#dropQueuedThrough + 1, toSeq: dropThrough } : null;
    if (dropLines) this.#dropQueuedThrough = dropThrough;
    if (lines.length === 0 && !progress && !dropLines) return;
    // One write for the turn: its lines, progress and trim commit together or not at all.
    const written = this.#options.repository.writeTurn(this.id, { lines, progress, dropLines });
    this.#inFlight += 1;
    const handled = written.then(
      () => () => {
        // Only a trim that follows the last committed one moves the mark: one after a failed trim does not.
        if (dropLines && dropLines.fromSeq <= this.#droppedThrough + 1) this.#droppedThrough = Math.max(this.#droppedThrough, dropLines.toSeq);
        for (const line of lines) this.#emit({ type: 'log', line });
        if (progress) this.#emit({ type: 'progress', progress });
      },
      (error: unknown) => () => {
        // Not shown to anyone, so nothing acknowledged is missing; the run will end `error: storage: …`.
        if (this.#storageError === null) this.#options.logger.error({ err: error, run: this.id }, 'could not persist log lines');
        this.#storageError ??= error;
        this.#unstoredLines += lines.length;
        // The trim is planned again from what the store did delete: at the next turn, or with the outcome.
        this.#dropQueuedThrough = this.#droppedThrough;
      },
    );
    // In queue order, whichever promise settles first.
    this.#emitted = Promise.all([this.#emitted, handled]).then(([, after]) => {
      this.#inFlight -= 1;
      after();
    });
  }

  async #finish(outcome: Outcome): Promise<void> {
    const elapsedUs = this.#elapsedUs();
    const { dataJson, data, tooLarge } = this.#serialiseData(outcome.data);
    const final: Outcome = tooLarge
      ? { status: 'error', data: undefined, error: `result too large: ${tooLarge} bytes of JSON, the limit is ${this.#options.limits.maxDataBytes}`, errorStack: '' }
      : { ...outcome, data };
    // Appended directly: the outcome is already fixed, which closes `appendLine` to the task.
    const line: LogLine = { seq: this.#lines.count + 1, at: this.#options.now(), stream: 'system', msg: `task [${this.task.title}] completed in [${microsToMillis(elapsedUs)}]` };
    this.#lines.push(line.msg);
    this.#pendingLines.push(line);
    // Batches still on their way decide whether lines were lost (the outcome then says so): wait for them.
    // A short run has none, and its whole log goes with the outcome.
    if (this.#inFlight > 0) await this.#emitted;
    const finalLines = this.#pendingLines;
    const finalProgress = this.#pendingProgress;
    this.#pendingLines = [];
    this.#pendingProgress = null;
    const lastDrop = this.#lines.count - this.#lines.tailSize;
    const dropLines = lastDrop > this.#droppedThrough ? { fromSeq: this.#droppedThrough + 1, toSeq: lastDrop } : null;
    this.#droppedThrough = Math.max(this.#droppedThrough, lastDrop);
    this.#dropQueuedThrough = this.#droppedThrough;
    if (this.#storageError && final.status === 'ok') {
      final.status = 'error';
      final.error = `storage: ${describeThrown(this.#storageError)}`;
      if (this.#unstoredLines > 0) final.error += ` (${this.#unstoredLines} log line(s) could not be recorded)`;
    }
    const result = this.#toJson(final, elapsedUs);
    const completion: RunCompletion = {
      id: this.id,
      status: final.status,
      finishedAt: this.#options.now(),
      elapsedUs,
      summary: result.summary,
      error: final.error,
      errorStack: final.errorStack,
      dataJson: tooLarge ? null : dataJson,
      metadata: result.metadata,
      tags: result.tags,
      logCount: this.#lines.count,
      logsDropped: this.#lines.dropped,
      progress: this.#progress,
      finalLines,
      dropLines,
    };
    const unrecorded = await this.#recordCompletion(completion);
    if (unrecorded === null) {
      for (const final of finalLines) this.#emit({ type: 'log', line: final });
      if (finalProgress) this.#emit({ type: 'progress', progress: finalProgress });
    } else {
      // History will read `interrupted` (the row stays `running` until the next start-up): the Result
      // must not claim an outcome that was never recorded.
      const own = result.status === 'ok' ? '' : `; the run itself ended ${result.status}${result.error ? `: ${result.error}` : ''}`;
      result.status = 'error';
      result.error = `storage: the outcome could not be recorded (${describeThrown(unrecorded)})${own}`;
    }
    this.#result = result;
    this.#emit({ type: 'complete', result });
    this.#listeners.clear();
    this.#resolveDone(result);
  }

  /**
   * Writes the outcome; while the storage fails (disk full) it tries again, pausing longer each time,
   * until it is written or the store closes. Until then the row reads `running`, which the next
   * start-up turns into `interrupted` if the process ends first: the outcome is late, never wrong.
   * Resolves with null once written, or with the error that ended the attempts (the store closed).
   */
  async #recordCompletion(completion: RunCompletion): Promise<unknown> {
    for (let pause = COMPLETION_RETRY_FIRST_MS; ; pause = Math.min(pause * 2, COMPLETION_RETRY_MAX_MS)) {
      try {
        await this.#options.repository.completeRun(completion);
        return null;
      } catch (error) {
        if (!isRetryableStoreError(error)) {
          this.#options.logger.error({ err: error, run: this.id }, 'could not persist the completed run');
          return error;
        }
        if (pause === COMPLETION_RETRY_FIRST_MS) this.#options.logger.error({ err: error, run: this.id }, 'could not persist the completed run: retrying until the storage recovers');
        await new Promise((resolve) => setTimeout(resolve, pause).unref());
      }
    }
  }

  #serialiseData(raw: unknown): { dataJson: string | null; data: unknown; tooLarge: number | null } {
    if (raw === undefined) return { dataJson: null, data: undefined, tooLarge: null };
    const data = toPlain(raw);
    const dataJson = JSON.stringify(data) ?? null;
    const bytes = dataJson === null ? 0 : Buffer.byteLength(dataJson);
    return bytes > this.#options.limits.maxDataBytes ? { dataJson: null, data: undefined, tooLarge: bytes } : { dataJson, data, tooLarge: null };
  }

  #toJson(outcome: Omit<Outcome, 'status'> & { status: RunStatus }, elapsedUs: number): ResultJson {
    const status = outcome.status;
    return {
      id: this.id,
      task: taskToJson(this.task),
      run: this.label,
      args: this.args,
      started: new Date(this.startedAt).toISOString(),
      elapsed: elapsedUs,
      status,
      summary: status,
      logs: this.#lines.logs(),
      data: outcome.data,
      tags: [...this.#tags].sort(),
      metadata: { ...this.#metadata.toObject(), taskVersion: this.task.version },
      success: status === 'ok',
      error: outcome.error,
    };
  }

  #elapsedUs(): number {
    return Number((process.hrtime.bigint() - this.#startedHr) / 1000n);
  }

  #emit(event: RunEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#options.logger.error({ err: error, run: this.id }, 'a run listener threw');
      }
    }
  }
}

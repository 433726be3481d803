/**
 * The entry of an isolated task's worker thread: imports the task's module, finds the task by key, and
 * runs it with a TaskContext whose log, progress, tags, metadata, exec and outcome travel to the run
 * in the kernel's thread as batched messages. The run's cancel and timeout arrive as an `abort` message.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describeThrown } from '../../errors.js';
import { createExec, type ExecHost } from '../exec.js';
import type { ProcessTracker } from '../exec-process-groups.js';
import { RunMetadata } from '../live-run.js';
import { capLineLength, formatLogParts, splitLogLines } from '../log-lines.js';
import { toPlain } from '../to-plain.js';
import type { ResultHandle, TaskContext } from '../types.js';
import { findTaskInModule } from './find-task.js';
import { isAbortCommand, type WorkerEvent, type WorkerStart } from './worker-protocol.js';

/** Events go out at once after a quiet spell; within BATCH_MS of the last batch they wait to join the next. */
const BATCH_EVENTS = 512;
const BATCH_MS = 25;

/**
 * Batches events: a task logging in a tight loop would otherwise post one message per line, and the
 * kernel's thread would spend its time receiving them. Only a push or a turn of the worker's event
 * loop can send, so a task that logs and then computes without yielding delivers that last batch when
 * it next logs, yields or ends.
 */
class Outbox {
  readonly #port: MessagePort;
  #queue: WorkerEvent[] = [];
  #lastFlush = 0;
  #scheduled = false;

  constructor(port: MessagePort) {
    this.#port = port;
  }

  push(event: WorkerEvent, urgent = false): void {
    const last = this.#queue.at(-1);
    // Only the latest progress matters: consecutive reports collapse into one.
    if (event.type === 'progress' && last?.type === 'progress') this.#queue[this.#queue.length - 1] = event;
    else this.#queue.push(event);
    if (urgent || this.#queue.length >= BATCH_EVENTS || Date.now() - this.#lastFlush >= BATCH_MS) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.flush();
      });
    }
  }

  flush(): void {
    this.#lastFlush = Date.now();
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    this.#port.postMessage({ batch });
  }
}

async function main(port: MessagePort, start: WorkerStart): Promise<void> {
  const outbox = new Outbox(port);
  // process.exit() in the task, or an uncaught exception: what it logged before still reaches the run.
  process.on('exit', () => outbox.flush());
  const abort = new AbortController();
  let completed = false;
  port.on('message', (message: unknown) => {
    if (!isAbortCommand(message) || abort.signal.aborted) return;
    completed = true; // the run is over in the kernel: what the task does now is ignored there anyway
    abort.abort(Object.assign(new Error(message.reason), { code: 'ERR_RUN_NOT_RUNNING' }));
  });

  const logger = pino(
    { level: start.logLevel, base: undefined, timestamp: false },
    { write: (line: string) => outbox.push({ type: 'logger', line }) },
  );
  const line = (msg: string, stream: 'log' | 'stderr' | 'system') => {
    if (!completed) outbox.push({ type: 'line', msg: capLineLength(msg, start.maxLineLength), stream });
  };
  const metadata = new RunMetadata();
  const setMetadata = (key: string, value: unknown) => {
    const plain = metadata.set(key, value);
    if (!completed) outbox.push({ type: 'metadata', key, value: plain });
  };
  const complete = (data?: unknown) => {
    if (completed) return;
    completed = true;
    outbox.push({ type: 'complete', data: toPlain(data) }, true);
  };
  const completeError = (error: unknown) => {
    if (completed) return;
    completed = true;
    outbox.push({ type: 'fail', message: describeThrown(error), stack: error instanceof Error ? (error.stack ?? '') : '' }, true);
  };
  const log = (...parts: unknown[]) => {
    for (const text of splitLogLines(formatLogParts(parts))) line(text, 'log');
  };

  const result: ResultHandle = {
    id: start.runId,
    log,
    addTags: (...tags) => {
      if (!completed) outbox.push({ type: 'tags', tags: tags.filter((t) => typeof t === 'string') });
    },
    progress: (done, total, message = '') => {
      if (!completed && Number.isFinite(done) && Number.isFinite(total)) outbox.push({ type: 'progress', done, total, message: String(message) });
    },
    complete,
    completeError,
    setMetadata,
    get completed() {
      return completed;
    },
  };
  // The kernel's thread owns the process groups: it stops them even if this worker is terminated.
  const processes: ProcessTracker = {
    track(pid, label, graceMs) {
      outbox.push({ type: 'spawned', pid, label, graceMs }, true);
      return {
        terminate: (why = '') => outbox.push({ type: 'terminate', pid, why }, true),
        release: () => outbox.push({ type: 'released', pid }, true),
      };
    },
  };
  const host: ExecHost = { appendLine: line, setMetadata, signal: abort.signal, maxLineLength: start.maxLineLength, processes };
  const ctx: TaskContext = {
    args: start.args,
    label: start.label,
    runId: start.runId,
    log,
    result,
    signal: abort.signal,
    logger: logger.child({ isolate: 'worker' }),
    exec: createExec(host),
  };

  try {
    const file = fileURLToPath(start.module);
    let namespace: unknown;
    try {
      namespace = await import(start.module);
    } catch (error) {
      throw new Error(`the worker could not import ${file}: ${describeThrown(error)}`, { cause: error });
    }
    const { task, keys } = await findTaskInModule(namespace, start.key, logger);
    if (!task) {
      const found = keys.length ? `it exports ${keys.map((k) => `"${k}"`).join(', ')}` : 'it exports no task';
      throw new Error(`${file} does not export the task "${start.key}" (${found}): an isolated task must be exported by its module`);
    }
    complete(await task.run(ctx));
  } catch (error) {
    completeError(error);
  } finally {
    outbox.push({ type: 'finished' }, true);
  }
}

if (!parentPort) throw new Error('worker-main.ts runs in a worker thread only');
void main(parentPort, workerData as WorkerStart);

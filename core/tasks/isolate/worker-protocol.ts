/**
 * The messages between a run and the worker thread that runs its task. The worker batches what it
 * sends (a CPU-bound loop can log or report progress far faster than it is worth delivering); the
 * run applies each event in order. What arrives from the worker is narrowed by `isWorkerBatch`: a task
 * could post anything on the port.
 */
import type { LogStream } from '../run-repository.js';
import type { TaskArgs } from '../types.js';

/** The worker's `workerData`. */
export interface WorkerStart {
  /** The `file:` URL of the module that exports the task. */
  module: string;
  key: string;
  args: TaskArgs;
  label: string;
  runId: string;
  maxLineLength: number;
  /** The run logger's level, so the worker does not build messages nobody keeps. */
  logLevel: string;
}

export type WorkerEvent =
  | { type: 'line'; msg: string; stream: LogStream }
  | { type: 'progress'; done: number; total: number; message: string }
  | { type: 'tags'; tags: string[] }
  | { type: 'metadata'; key: string; value: unknown }
  /** The run's outcome: `ctx.result.complete`, or the function's return value. */
  | { type: 'complete'; data: unknown }
  /** The run's outcome: `ctx.result.completeError`, or what the function threw. */
  | { type: 'fail'; message: string; stack: string }
  /** The function has returned or thrown: the worker is of no further use. */
  | { type: 'finished' }
  /** One line of the worker's pino logger, as JSON. */
  | { type: 'logger'; line: string }
  /** `ctx.exec` started a process group / asks to stop it / saw it end. */
  | { type: 'spawned'; pid: number; label: string; graceMs: number }
  | { type: 'terminate'; pid: number; why: string }
  | { type: 'released'; pid: number };

export interface WorkerBatch {
  batch: WorkerEvent[];
}

/** From the run to the worker: its signal fired. */
export interface AbortCommand {
  type: 'abort';
  reason: string;
}

const STREAMS: readonly string[] = ['log', 'stderr', 'system'];

export function isWorkerBatch(value: unknown): value is WorkerBatch {
  return typeof value === 'object' && value !== null && Array.isArray((value as { batch?: unknown }).batch);
}

/** Narrows one event; anything malformed is dropped by the caller. */
export function isWorkerEvent(value: unknown): value is WorkerEvent {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  switch (e.type) {
    case 'line':
      return typeof e.msg === 'string' && typeof e.stream === 'string' && STREAMS.includes(e.stream);
    case 'progress':
      return typeof e.done === 'number' && typeof e.total === 'number' && typeof e.message === 'string';
    case 'tags':
      return Array.isArray(e.tags);
    case 'metadata':
      return typeof e.key === 'string';
    case 'complete':
    case 'finished':
      return true;
    case 'fail':
      return typeof e.message === 'string' && typeof e.stack === 'string';
    case 'logger':
      return typeof e.line === 'string';
    case 'spawned':
      return Number.isInteger(e.pid) && (e.pid as number) > 0 && typeof e.label === 'string' && typeof e.graceMs === 'number';
    case 'terminate':
      return Number.isInteger(e.pid) && typeof e.why === 'string';
    case 'released':
      return Number.isInteger(e.pid);
    default:
      return false;
  }
}

export function isAbortCommand(value: unknown): value is AbortCommand {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'abort' && typeof (value as { reason?: unknown }).reason === 'string';
}

/**
 * Coded errors. Every error the kernel raises on purpose carries a stable `code`, the HTTP status it maps
 * to at the edge, and `expose` (whether its message is safe to show to a client). Anything else that
 * reaches the edge is an internal error with a generic message.
 */
export type ErrorCode =
  | 'ERR_TASK_NOT_FOUND'
  | 'ERR_RUN_NOT_FOUND'
  | 'ERR_INVALID_ARG'
  | 'ERR_INVALID_TASK'
  | 'ERR_DUPLICATE_TASK'
  | 'ERR_TASK_NOT_REMOVABLE'
  | 'ERR_INVALID_CONFIG'
  | 'ERR_INVALID_REQUEST'
  | 'ERR_FORBIDDEN'
  | 'ERR_METHOD_NOT_ALLOWED'
  | 'ERR_UPGRADE_REQUIRED'
  | 'ERR_PREFETCH'
  | 'ERR_UNAUTHORIZED'
  | 'ERR_RATE_LIMITED'
  | 'ERR_MISDIRECTED'
  | 'ERR_STORE'
  | 'ERR_RUN_NOT_RUNNING'
  | 'ERR_NOT_FOUND'
  | 'ERR_INTERNAL';

/** One problem with one argument: which field, what arrived, what was expected. */
export interface InvalidParam {
  name: string;
  reason: string;
}

export interface TaskdeckErrorOptions {
  status?: number;
  expose?: boolean;
  cause?: unknown;
  /** Structured details a client may use (the invalid params, the task key, the file to delete). */
  details?: Record<string, unknown>;
  headers?: Record<string, string>;
}

export class TaskdeckError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  readonly details: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: TaskdeckErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TaskdeckError';
    this.code = code;
    this.status = options.status ?? 500;
    this.expose = options.expose ?? this.status < 500;
    this.details = options.details ?? {};
    this.headers = options.headers ?? {};
  }
}

export function taskNotFound(key: string): TaskdeckError {
  return new TaskdeckError('ERR_TASK_NOT_FOUND', `no task found with key "${truncate(key, 200)}"`, {
    status: 404,
    details: { task: truncate(key, 200) },
  });
}

export function runNotFound(id: string): TaskdeckError {
  return new TaskdeckError('ERR_RUN_NOT_FOUND', `no run found with id "${truncate(id, 200)}"`, {
    status: 404,
    details: { run: truncate(id, 200) },
  });
}

/** Bad arguments for a run: nothing ran. The message lists every problem, field by field. */
export function invalidArgs(taskKey: string, params: InvalidParam[]): TaskdeckError {
  const message = params.map((p) => `field "${p.name}": ${p.reason}`).join('; ');
  return new TaskdeckError('ERR_INVALID_ARG', `invalid arguments for task "${taskKey}": ${message}`, {
    status: 400,
    details: { task: taskKey, invalid_params: params },
  });
}

export function badRequest(message: string, details: Record<string, unknown> = {}): TaskdeckError {
  return new TaskdeckError('ERR_INVALID_REQUEST', message, { status: 400, details });
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** The message of anything thrown: an Error, a string, undefined, an object with a circular property. */
export function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message || thrown.name || 'Error';
  if (typeof thrown === 'string') return thrown || '(empty string thrown)';
  if (thrown === undefined) return 'undefined was thrown';
  if (thrown === null) return 'null was thrown';
  if (typeof thrown === 'object') {
    const message = (thrown as { message?: unknown }).message;
    if (typeof message === 'string' && message) return message;
    try {
      return `non-error thrown: ${JSON.stringify(thrown) ?? String(thrown)}`;
    } catch {
      return `non-error thrown: ${Object.prototype.toString.call(thrown)}`;
    }
  }
  return `non-error thrown: ${String(thrown)}`;
}

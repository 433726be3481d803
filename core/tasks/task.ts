/** Turns a task definition from a plugin (untrusted: `unknown`) into the frozen Task the registry keeps. */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TaskdeckError } from '../errors.js';
import { normalizeFields } from './fields.js';
import { titleCase } from './title-case.js';
import type { Task, TaskFunction, TaskJson, TaskSource, WorkerIsolation } from './types.js';

export const TASK_KEY_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function isTaskKey(key: unknown): key is string {
  return typeof key === 'string' && TASK_KEY_PATTERN.test(key);
}

/** True when a plugin export looks like a task definition (an object with a key and a run function). */
export function looksLikeTask(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && 'key' in value && typeof (value as { run?: unknown }).run === 'function';
}

/** What the code registering a task knows about it beyond its definition. */
export interface TaskOrigin {
  /** The module the definition came from (a plugin's import URL): the default of `module` for `isolate`. */
  module?: string;
}

export function normalizeTask(input: unknown, source: TaskSource, version?: string, origin: TaskOrigin = {}): Task {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalid('(unknown)', `expected a task definition object, got ${describe(input)}`);
  }
  const def = input as Record<string, unknown>;
  const key = def.key;
  if (!isTaskKey(key)) {
    throw invalid(String(key).slice(0, 80), `key: expected 1-64 characters of a-z, 0-9, ".", "_", "-" starting with a letter or digit, got ${describe(key)}`);
  }
  if (typeof def.run !== 'function') throw invalid(key, `run: expected a function, got ${describe(def.run)}`);
  const maxConcurrent = optional(def, key, 'maxConcurrent', 'number', 0);
  if (!Number.isInteger(maxConcurrent) || maxConcurrent < -1) {
    throw invalid(key, `maxConcurrent: expected 0 (CPUs), -1 (128) or a positive integer, got ${describe(def.maxConcurrent)}`);
  }
  const timeout = optional(def, key, 'timeout', 'number', 0);
  if (!Number.isFinite(timeout) || timeout < 0) throw invalid(key, `timeout: expected milliseconds >= 0, got ${describe(def.timeout)}`);
  const tags = def.tags ?? [];
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) {
    throw invalid(key, `tags: expected an array of strings, got ${describe(def.tags)}`);
  }
  const run = def.run as TaskFunction;
  const task: Task = {
    key,
    title: optional(def, key, 'title', 'string', '') || titleCase(key),
    category: optional(def, key, 'category', 'string', ''),
    icon: optional(def, key, 'icon', 'string', '') || 'star',
    description: optional(def, key, 'description', 'string', ''),
    tags: Object.freeze([...new Set(tags as string[])]),
    fields: Object.freeze(normalizeFields(def.fields ?? [], key)),
    dangerous: optional(def, key, 'dangerous', 'string', ''),
    expensive: optional(def, key, 'expensive', 'boolean', false),
    webURL: webUrlOf(def, key),
    maxConcurrent,
    timeout,
    strictArgs: optional(def, key, 'strictArgs', 'boolean', false),
    isolate: normalizeIsolation(def, key, origin.module),
    source,
    version: version ?? hashOf(`${key}\n${run.toString()}`),
    run,
  };
  return Object.freeze(task);
}

/** Default time an isolated task's worker gets to stop after cancel or timeout before it is terminated. */
export const DEFAULT_WORKER_GRACE_MS = 5000;

function normalizeIsolation(def: Record<string, unknown>, key: string, originModule: string | undefined): WorkerIsolation | null {
  if (def.isolate === undefined || def.isolate === null || def.isolate === false) return null;
  if (def.isolate !== 'worker') throw invalid(key, `isolate: expected "worker", got ${describe(def.isolate)}`);
  const module = def.module ?? originModule;
  if (typeof module !== 'string' || module === '') {
    throw invalid(
      key,
      `isolate "worker" needs module: the file that exports this task (module: import.meta.url), since the worker imports it again to find the task by key; got ${describe(module)}. A task made from a closure in code cannot be isolated`,
    );
  }
  const url = moduleUrl(module);
  if (!url) throw invalid(key, `module: expected a file: URL or an absolute path (import.meta.url), got ${describe(module)}`);
  if (!existsSync(fileURLToPath(url))) throw invalid(key, `module: ${fileURLToPath(url)} does not exist`);
  const graceMs = optional(def, key, 'workerGraceMs', 'number', DEFAULT_WORKER_GRACE_MS);
  if (!Number.isFinite(graceMs) || graceMs < 0) throw invalid(key, `workerGraceMs: expected milliseconds >= 0, got ${describe(def.workerGraceMs)}`);
  const maxMemoryMb = optional(def, key, 'workerMaxMemoryMb', 'number', 0);
  if (!Number.isFinite(maxMemoryMb) || maxMemoryMb < 0) throw invalid(key, `workerMaxMemoryMb: expected MiB > 0 (0 = Node's default), got ${describe(def.workerMaxMemoryMb)}`);
  return Object.freeze({ kind: 'worker', module: url.href, graceMs, maxMemoryMb });
}

function moduleUrl(module: string): URL | null {
  try {
    const url = module.startsWith('file:') ? new URL(module) : path.isAbsolute(module) ? pathToFileURL(module) : null;
    if (url) fileURLToPath(url); // refuses a file: URL with a host, say
    return url;
  } catch {
    return null;
  }
}

export function hashOf(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** The task as JSON: the seed's keys in the seed's order, then ours. */
export function taskToJson(task: Task): TaskJson {
  return {
    key: task.key,
    title: task.title,
    category: task.category,
    icon: task.icon,
    description: task.description,
    tags: [...task.tags],
    fields: task.fields.map((f) => ({ ...f, choices: [...f.choices] })),
    dangerous: task.dangerous,
    expensive: task.expensive,
    webURL: task.webURL,
    maxConcurrent: task.maxConcurrent,
    timeout: task.timeout,
    strictArgs: task.strictArgs,
    source: task.source,
    version: task.version,
  };
}

/** Where links to the task point. */
export function taskWebPath(task: Pick<Task, 'key' | 'webURL'>): string {
  return task.webURL || `/admin/task/${task.key}`;
}

export function describeSource(source: TaskSource): string {
  switch (source.kind) {
    case 'plugin':
      return `plugin file ${source.file}`;
    case 'dynamic':
      return `dynamic registration by ${source.by}`;
    case 'preset':
      return `preset over task "${source.base}"`;
  }
}

function optional<T extends string | number | boolean>(def: Record<string, unknown>, key: string, name: string, type: string, fallback: T): T {
  const value = def[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== type) throw invalid(key, `${name}: expected a ${type}, got ${describe(value)}`);
  return value as T;
}

/** Links to a task may point elsewhere (a host app's page), but only to a path or an http(s) URL. */
function webUrlOf(def: Record<string, unknown>, key: string): string {
  const url = optional(def, key, 'webURL', 'string', '');
  if (url === '' || /^\/(?!\/)/.test(url) || /^https?:\/\/[^\s]+$/i.test(url)) return url;
  throw invalid(key, `webURL: expected a path starting with "/" or an http(s) URL, got ${describe(url)}`);
}

function invalid(key: string, problem: string): TaskdeckError {
  return new TaskdeckError('ERR_INVALID_TASK', `task "${key}": ${problem}`, { status: 400 });
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 80));
  if (value === null) return 'null';
  if (value === undefined) return 'nothing (undefined)';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

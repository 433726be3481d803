/**
 * The registry of tasks: one map, mutated only through register and remove. Plugin-file tasks are
 * owned by their file; dynamic tasks and presets may be removed through the API.
 */
import { EventEmitter } from 'node:events';
import { TaskdeckError, taskNotFound } from '../errors.js';
import { describeSource } from './task.js';
import type { Task } from './types.js';

export interface RegistryEvents {
  'task:registered': [Task];
  'task:removed': [Task];
}

export interface RemoveOptions {
  /** Plugin-file tasks are removed by the plugin loader only (the file was deleted or changed). */
  allowPlugin?: boolean;
}

export class TaskRegistry extends EventEmitter<RegistryEvents> {
  readonly #tasks = new Map<string, Task>();

  register(task: Task): void {
    const existing = this.#tasks.get(task.key);
    if (existing) {
      throw new TaskdeckError(
        'ERR_DUPLICATE_TASK',
        `a task with key "${task.key}" is already registered by ${describeSource(existing.source)}; refused the one from ${describeSource(task.source)}`,
        { status: 409, details: { task: task.key } },
      );
    }
    this.#tasks.set(task.key, task);
    this.emit('task:registered', task);
  }

  /** Swaps a task for a new version of itself (a changed plugin file); runs in flight keep the old code. */
  replace(task: Task): void {
    if (!this.#tasks.has(task.key)) return this.register(task);
    this.#tasks.set(task.key, task);
    this.emit('task:registered', task);
  }

  remove(key: string, options: RemoveOptions = {}): Task {
    const task = this.#tasks.get(key);
    if (!task) throw taskNotFound(key);
    if (task.source.kind === 'plugin' && !options.allowPlugin) {
      throw new TaskdeckError(
        'ERR_TASK_NOT_REMOVABLE',
        `task "${key}" comes from the plugin file ${task.source.file}: delete or edit that file to remove it`,
        { status: 409, details: { task: key, file: task.source.file } },
      );
    }
    this.#tasks.delete(key);
    this.emit('task:removed', task);
    return task;
  }

  get(key: string): Task | undefined {
    return this.#tasks.get(key);
  }

  require(key: string): Task {
    const task = this.#tasks.get(key);
    if (!task) throw taskNotFound(key);
    return task;
  }

  has(key: string): boolean {
    return this.#tasks.has(key);
  }

  /** Every task, sorted by key. */
  list(): Task[] {
    return [...this.#tasks.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Tasks grouped by category, categories sorted (uncategorised last), tasks by key within each. */
  byCategory(): { category: string; tasks: Task[] }[] {
    const groups = new Map<string, Task[]>();
    for (const task of this.list()) {
      const list = groups.get(task.category) ?? [];
      list.push(task);
      groups.set(task.category, list);
    }
    return [...groups.entries()]
      .sort(([a], [b]) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b)))
      .map(([category, tasks]) => ({ category, tasks }));
  }
}

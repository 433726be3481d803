/**
 * Presets: a new key and title over an existing task, with its field defaults fixed to chosen values.
 * They are stored (so they come back at start-up), run the base task's current code, and are removed
 * with `/admin/task/{key}/remove` like any dynamic task. A preset whose base task is gone is kept in
 * the store and registered again when the base comes back.
 */
import type { Logger } from 'pino';
import { TaskdeckError } from '../errors.js';
import type { TaskRegistry } from './registry.js';
import { isTaskKey, normalizeTask } from './task.js';
import type { Task, TaskArgs, TaskContext } from './types.js';

export interface PresetRecord {
  key: string;
  baseTask: string;
  title: string;
  args: TaskArgs;
  createdAt: number;
}

export interface PresetStore {
  list(): Promise<PresetRecord[]>;
  save(preset: PresetRecord): Promise<void>;
  delete(key: string): Promise<void>;
}

export class Presets {
  readonly #registry: TaskRegistry;
  readonly #store: PresetStore;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #records = new Map<string, PresetRecord>();
  /** Keys being unregistered because their base went away: not a removal by the operator. */
  readonly #suspending = new Set<string>();
  readonly #onRegistered = (task: Task) => this.#baseAppeared(task);
  readonly #onRemoved = (task: Task) => this.#track(this.#taskRemoved(task));
  readonly #pending = new Set<Promise<void>>();

  constructor(options: { registry: TaskRegistry; store: PresetStore; logger: Logger; now?: () => number }) {
    this.#registry = options.registry;
    this.#store = options.store;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
  }

  /** Registers the stored presets whose base task exists, and follows the registry from then on. */
  async start(): Promise<void> {
    for (const record of await this.#store.list()) {
      this.#records.set(record.key, record);
      this.#register(record);
    }
    this.#registry.on('task:registered', this.#onRegistered);
    this.#registry.on('task:removed', this.#onRemoved);
  }

  /** Stops following the registry and waits for deletions still being written. */
  async stop(): Promise<void> {
    this.#registry.off('task:registered', this.#onRegistered);
    this.#registry.off('task:removed', this.#onRemoved);
    await Promise.all(this.#pending);
  }

  #track(work: Promise<void>): void {
    this.#pending.add(work);
    void work.finally(() => this.#pending.delete(work));
  }

  /** Saves the coerced `args` of `base` as a new task `key`. */
  async create(base: Task, key: string, title: string, args: TaskArgs): Promise<Task> {
    if (!isTaskKey(key)) throw presetError(`preset key: expected 1-64 characters of a-z, 0-9, ".", "_", "-" starting with a letter or digit, got "${String(key).slice(0, 80)}"`);
    if (this.#registry.has(key)) throw new TaskdeckError('ERR_DUPLICATE_TASK', `a task with key "${key}" already exists: choose another preset key`, { status: 409, details: { task: key } });
    const baseKey = base.source.kind === 'preset' ? base.source.base : base.key;
    const record: PresetRecord = { key, baseTask: baseKey, title: title.trim() || key, args, createdAt: this.#now() };
    const task = this.#build(record, this.#registry.require(baseKey));
    await this.#store.save(record);
    this.#records.set(key, record);
    this.#registry.register(task);
    return task;
  }

  #register(record: PresetRecord): void {
    const base = this.#registry.get(record.baseTask);
    if (!base || this.#registry.has(record.key)) {
      if (!base) this.#logger.warn({ preset: record.key, base: record.baseTask }, `preset "${record.key}" waits for its task "${record.baseTask}"`);
      return;
    }
    try {
      this.#registry.register(this.#build(record, base));
    } catch (error) {
      this.#logger.error({ err: error, preset: record.key }, `preset "${record.key}" could not be registered`);
    }
  }

  #build(record: PresetRecord, base: Task): Task {
    // The preset's values become the defaults (typed values, or ISO text for times read back from JSON).
    const fields = base.fields.map((f) => ({
      key: f.key,
      title: f.title,
      description: f.description,
      type: f.type,
      default: Object.hasOwn(record.args, f.key) ? record.args[f.key] : f.default,
      choices: f.choices,
      required: f.required,
    }));
    const registry = this.#registry;
    return normalizeTask(
      {
        key: record.key,
        title: record.title,
        category: base.category,
        icon: base.icon,
        description: base.description ? `${base.description} (preset of ${base.title})` : `Preset of ${base.title}`,
        tags: [...base.tags, 'preset'],
        fields,
        dangerous: base.dangerous,
        expensive: base.expensive,
        maxConcurrent: base.maxConcurrent,
        timeout: base.timeout,
        strictArgs: base.strictArgs,
        // The base task's current code, also after its plugin file changed.
        run: (ctx: TaskContext) => registry.require(record.baseTask).run(ctx),
      },
      { kind: 'preset', base: record.baseTask },
      base.version,
    );
  }

  #baseAppeared(task: Task): void {
    for (const record of this.#records.values()) if (record.baseTask === task.key && !this.#registry.has(record.key)) this.#register(record);
  }

  async #taskRemoved(task: Task): Promise<void> {
    if (task.source.kind === 'preset') {
      if (this.#suspending.delete(task.key)) return;
      this.#records.delete(task.key);
      await this.#store.delete(task.key).catch((error: unknown) => this.#logger.error({ err: error, preset: task.key }, 'could not delete a preset'));
      return;
    }
    for (const record of this.#records.values()) {
      if (record.baseTask !== task.key || !this.#registry.has(record.key)) continue;
      this.#suspending.add(record.key);
      this.#registry.remove(record.key);
    }
  }
}

function presetError(message: string): TaskdeckError {
  return new TaskdeckError('ERR_INVALID_ARG', message, { status: 400, details: { invalid_params: [{ name: 'presetKey', reason: message }] } });
}

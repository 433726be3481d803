/**
 * Keeps the registry in step with a folder of plugin files. Every load is a sync: scan the folder,
 * prepare the files whose content changed (imported a few at a time, then checked and set up one at a
 * time, in name order), decide which files win their keys, then apply the difference to the registry
 * in one synchronous step. Syncs never overlap. A file that fails is logged and listed by
 * `failures()`; the others load.
 */
import { EventEmitter } from 'node:events';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { describeThrown } from '../errors.js';
import type { TaskRegistry } from '../tasks/registry.js';
import { hashOf } from '../tasks/task.js';
import type { Task } from '../tasks/types.js';
import { scanPluginFolder, type PluginFolderScan } from './discover.js';
import { FolderWatcher } from './folder-watcher.js';
import { planPlugins } from './plan-plugins.js';
import { PluginLoadError } from './plugin-load-error.js';
import type { PluginHost } from './plugin-shape.js';
import { finishPlugin, importPlugin, type ImportedPlugin, type PreparedPlugin, type PrepareOptions } from './prepare-plugin.js';

export interface PluginLoaderOptions {
  folder: string;
  registry: TaskRegistry;
  logger: Logger;
  /** The kernel as plugins see it; its logger is the parent of each plugin's logger. */
  host: PluginHost;
  /** How long an import (or a plugin's setup) may take. Default 10000. */
  importTimeoutMs?: number;
  /** Quiet time after the last file event before the folder is rescanned. Default 150. */
  debounceMs?: number;
  /**
   * How many files are read and imported ahead of the one being checked. Default 8: an import through
   * tsx mostly waits on its loader thread, so a few at a time start 200 files about twice as fast.
   * Registration order does not depend on it; 1 imports one file at a time.
   */
  importConcurrency?: number;
}

export interface PluginFailure {
  /** Relative to the plugins folder's parent: `plugins/x.ts`. */
  file: string;
  error: string;
}

export interface LoadedPluginFile {
  file: string;
  name: string;
  tasks: string[];
  version: string;
}

/** What one sync changed; sent with `plugins:changed`. */
export interface PluginsChange {
  added: string[];
  updated: string[];
  removed: string[];
  failures: PluginFailure[];
}

export interface PluginLoaderEvents {
  'plugins:changed': [PluginsChange];
}

/** A file read (and imported when its content is new), before it is checked in name order. */
type ReadStep =
  | { kind: 'gone' }
  | { kind: 'unchanged' }
  | { kind: 'imported'; version: string; mtimeMs: number; attempt: number; options: PrepareOptions; imported: ImportedPlugin | PluginLoadError };

interface Outcome {
  version: string;
  mtimeMs: number;
  /** How many times this same content was tried again after failing. */
  attempt: number;
  result: PreparedPlugin | PluginLoadError;
}

export class PluginLoader extends EventEmitter<PluginLoaderEvents> {
  readonly #folder: string;
  readonly #registry: TaskRegistry;
  readonly #logger: Logger;
  readonly #host: PluginHost;
  readonly #importTimeoutMs: number;
  readonly #debounceMs: number;
  readonly #importConcurrency: number;
  /** The last preparation of each file, by content version: unchanged files are not imported again. */
  readonly #outcomes = new Map<string, Outcome>();
  #loaded: PreparedPlugin[] = [];
  /** The exact Task objects this loader put in the registry, by key. */
  #owned = new Map<string, Task>();
  #failures: PluginFailure[] = [];
  #warnings: string[] = [];
  #queue: Promise<void> = Promise.resolve();
  #queued: Promise<void> | undefined;
  #watcher: FolderWatcher | undefined;
  #stopping: Promise<void> | undefined;
  readonly #abort = new AbortController();
  readonly #onTaskRemoved = (task: Task): void => this.#retryConflictsOn(task);

  constructor(options: PluginLoaderOptions) {
    super();
    this.#folder = path.resolve(options.folder);
    this.#registry = options.registry;
    this.#logger = options.logger;
    this.#host = options.host;
    this.#importTimeoutMs = options.importTimeoutMs ?? 10_000;
    this.#debounceMs = options.debounceMs ?? 150;
    const concurrency = options.importConcurrency ?? 8;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new TypeError(`importConcurrency: expected an integer >= 1, got ${String(concurrency)}`);
    this.#importConcurrency = concurrency;
    this.#registry.on('task:removed', this.#onTaskRemoved);
  }

  /** Loads every plugin file in name order, one at a time. Bad files are reported, never thrown. */
  async loadAll(): Promise<void> {
    this.#assertRunning('loadAll');
    await this.#requestSync();
  }

  /** Watches the folder: added, changed and deleted files register, reload and unregister their tasks. */
  async watch(): Promise<void> {
    this.#assertRunning('watch');
    if (this.#watcher) return;
    this.#watcher = new FolderWatcher({ folder: this.#folder, debounceMs: this.#debounceMs, logger: this.#logger, onChange: () => void this.#requestSync() });
    await this.#watcher.start();
    // Files that changed between loadAll() and the watcher being ready are caught by this sync.
    if (!this.#abort.signal.aborted) await this.#requestSync();
  }

  /** Closes the watcher and its timer; waits on slow imports end at once. Idempotent. */
  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#abort.abort(new Error('the plugin loader was stopped'));
    this.#registry.off('task:removed', this.#onTaskRemoved);
    const watcher = this.#watcher;
    this.#watcher = undefined;
    this.#stopping = (async () => {
      await watcher?.close();
      await this.#queue;
    })();
    return this.#stopping;
  }

  /** Files that failed to load and why, in name order: for the banner on /admin/task. */
  failures(): PluginFailure[] {
    return this.#failures.map((f) => ({ ...f }));
  }

  /** Files whose tasks are registered, in name order. */
  filesLoaded(): LoadedPluginFile[] {
    return this.#loaded.map((p) => ({ file: p.display, name: p.name, tasks: p.tasks.map((t) => t.key), version: p.version }));
  }

  /** Operator warnings from the last scan (a world-writable plugins folder). */
  warnings(): string[] {
    return [...this.#warnings];
  }

  #assertRunning(method: string): void {
    if (this.#stopping) throw new Error(`PluginLoader.${method}() called after stop()`);
  }

  /** Queues a sync after the current one; requests made before it starts share it. */
  #requestSync(): Promise<void> {
    if (this.#abort.signal.aborted) return this.#queue;
    if (this.#queued) return this.#queued;
    const next = this.#queue.then(async () => {
      this.#queued = undefined;
      try {
        await this.#sync();
      } catch (error) {
        if (!this.#abort.signal.aborted) this.#logger.error({ err: error }, `plugin sync failed: ${describeThrown(error)}`);
      }
    });
    this.#queued = next;
    this.#queue = next;
    return next;
  }

  async #sync(): Promise<void> {
    let scan: PluginFolderScan;
    try {
      scan = await scanPluginFolder(this.#folder);
    } catch (error) {
      // Keep what is loaded: an unreadable folder is not an empty one.
      this.#logger.error({ err: error, folder: this.#folder }, `cannot read the plugins folder ${this.#folder}: ${describeThrown(error)}`);
      return;
    }
    for (const warning of scan.warnings) if (!this.#warnings.includes(warning)) this.#logger.warn(warning);
    this.#warnings = scan.warnings;
    const present = await this.#prepareChanged(scan.files);
    if (this.#abort.signal.aborted) return;
    const rejected = scan.rejected.map((r) => new PluginLoadError(this.#display(r.file), r.reason));
    this.#apply(present, rejected);
  }

  /**
   * Prepares each file whose content differs from its last preparation; returns the files still there.
   * A file that failed is tried again when it is touched, even with the same content: what it imports
   * may have been fixed. The retry needs a URL of its own, since a failed import stays cached.
   */
  async #prepareChanged(files: readonly string[]): Promise<string[]> {
    const present: string[] = [];
    // Reads and imports run up to #importConcurrency files ahead; the checks, `setup` calls and outcomes
    // follow one at a time in name order, whichever import finished first.
    const reads: Promise<ReadStep>[] = [];
    for (let i = 0; i < files.length; i++) {
      for (let ahead = reads.length; ahead < Math.min(files.length, i + this.#importConcurrency); ahead++) reads.push(this.#readAndImport(files[ahead]!));
      const step = await reads[i]!;
      if (this.#abort.signal.aborted) break;
      if (step.kind === 'gone') continue; // deleted since the scan: the next event rescans
      const file = files[i]!;
      present.push(file);
      if (step.kind === 'unchanged') continue;
      const { options } = step;
      const result =
        step.imported instanceof PluginLoadError
          ? step.imported
          : await finishPlugin(step.imported, options).catch((error: unknown) => asLoadError(options.display, error));
      this.#outcomes.set(file, { version: step.version, mtimeMs: step.mtimeMs, attempt: step.attempt, result });
    }
    const kept = new Set(present);
    for (const file of this.#outcomes.keys()) if (!kept.has(file)) this.#outcomes.delete(file);
    return present;
  }

  /** Never rejects: a failed import is a PluginLoadError in the step. */
  async #readAndImport(file: string): Promise<ReadStep> {
    if (this.#abort.signal.aborted) return { kind: 'gone' };
    let content: Buffer;
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(file)).mtimeMs;
      content = await readFile(file);
    } catch {
      return { kind: 'gone' };
    }
    const version = hashOf(content);
    const cached = this.#outcomes.get(file);
    const failed = cached?.result instanceof PluginLoadError;
    if (cached?.version === version && (!failed || cached.mtimeMs === mtimeMs)) return { kind: 'unchanged' };
    const attempt = cached?.version === version ? cached.attempt + 1 : 0;
    const display = this.#display(file);
    const options: PrepareOptions = { file, display, version, attempt, timeoutMs: this.#importTimeoutMs, logger: this.#host.logger, signal: this.#abort.signal };
    const imported = await importPlugin(options).catch((error: unknown) => asLoadError(display, error));
    return { kind: 'imported', version, mtimeMs, attempt, options, imported };
  }

  /** Decides the winners and updates the registry, synchronously so nothing sees a half-applied state. */
  #apply(files: readonly string[], rejected: PluginLoadError[]): void {
    const outcomes = files.map((file) => this.#outcomes.get(file)?.result).filter((r) => r !== undefined);
    const prepared = outcomes.filter((r): r is PreparedPlugin => !(r instanceof PluginLoadError));
    const plan = planPlugins(prepared, (key) => {
      const current = this.#registry.get(key);
      return current && current !== this.#owned.get(key) ? current : undefined;
    });
    const desired = new Map<string, Task>();
    for (const plugin of plan.winners) for (const task of plugin.tasks) desired.set(task.key, task);
    const change: PluginsChange = { added: [], updated: [], removed: [], failures: [] };
    for (const [key, task] of this.#owned) {
      if (desired.has(key)) continue;
      if (this.#registry.get(key) === task) this.#registry.remove(key, { allowPlugin: true });
      change.removed.push(key);
    }
    for (const [key, task] of desired) {
      const current = this.#registry.get(key);
      if (current === task) continue;
      // replace: a run already holding the old task keeps running the old function.
      if (current) this.#registry.replace(task);
      else this.#registry.register(task);
      (this.#owned.has(key) ? change.updated : change.added).push(key);
    }
    this.#owned = desired;
    this.#logLoads(plan.winners);
    this.#loaded = plan.winners;
    const errors = [...rejected, ...outcomes.filter((r) => r instanceof PluginLoadError), ...plan.conflicts];
    change.failures = errors.map((e) => ({ file: e.file, error: e.message })).sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    this.#logFailures(errors);
    const failuresChanged = JSON.stringify(change.failures) !== JSON.stringify(this.#failures);
    this.#failures = change.failures;
    if (failuresChanged || change.added.length > 0 || change.updated.length > 0 || change.removed.length > 0) this.emit('plugins:changed', change);
  }

  #logLoads(winners: readonly PreparedPlugin[]): void {
    const before = new Map(this.#loaded.map((p) => [p.file, p.version]));
    for (const plugin of winners) {
      if (before.get(plugin.file) === plugin.version) continue;
      const verb = before.has(plugin.file) ? 'reloaded' : 'loaded';
      this.#logger.info({ file: plugin.display, version: plugin.version }, `plugin ${verb}: ${plugin.display} (${plugin.tasks.map((t) => t.key).join(', ') || 'no tasks'})`);
    }
    const kept = new Set(winners.map((p) => p.file));
    for (const plugin of this.#loaded) if (!kept.has(plugin.file)) this.#logger.info({ file: plugin.display }, `plugin unloaded: ${plugin.display}`);
  }

  /** Logs each failure once, not again on every rescan that finds it unchanged. */
  #logFailures(errors: readonly PluginLoadError[]): void {
    for (const error of errors) {
      if (this.#failures.some((f) => f.file === error.file && f.error === error.message)) continue;
      this.#logger.error({ file: error.file, err: error }, error.message);
    }
  }

  /** A task someone else removed may have been what kept a file from loading. */
  #retryConflictsOn(task: Task): void {
    if (this.#owned.get(task.key) === task) return;
    const wanted = [...this.#outcomes.values()].some((o) => !(o.result instanceof PluginLoadError) && o.result.tasks.some((t) => t.key === task.key));
    if (wanted) void this.#requestSync();
  }

  #display(file: string): string {
    return path.relative(path.dirname(this.#folder), file).split(path.sep).join('/');
  }
}

function asLoadError(display: string, error: unknown): PluginLoadError {
  return error instanceof PluginLoadError ? error : new PluginLoadError(display, describeThrown(error), { cause: error });
}

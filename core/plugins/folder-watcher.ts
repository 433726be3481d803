/**
 * Tells when the plugin files directly in a folder may have changed. Events are not trusted for what
 * they say (file systems report creates, renames and deletes inconsistently): a burst of them ends in
 * one debounced call, and the caller rescans.
 */
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import { describeThrown } from '../errors.js';
import { isPluginFile } from './discover.js';

export interface FolderWatcherOptions {
  /** Absolute path. */
  folder: string;
  debounceMs: number;
  logger: Logger;
  /** Called once the folder has been quiet for `debounceMs` after a plugin file was added, changed or removed. */
  onChange: () => void;
}

export class FolderWatcher {
  readonly #options: Readonly<FolderWatcherOptions>;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Ends a start() still waiting for 'ready' when close() comes first. */
  #resolveStart: (() => void) | undefined;

  constructor(options: FolderWatcherOptions) {
    this.#options = Object.freeze({ ...options });
  }

  /** Resolves once the watcher is ready (or closed before it got there). */
  async start(): Promise<void> {
    if (this.#watcher || this.#closed) return;
    const { folder, logger } = this.#options;
    const watcher = watch(folder, {
      depth: 0,
      ignoreInitial: true,
      // A symlink may only lead to a file inside the folder: never watch where it points.
      followSymlinks: false,
      awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 10 },
      ignored: (file) => file !== folder && !isPluginFile(path.basename(file)),
    });
    this.#watcher = watcher;
    watcher.on('all', () => this.#schedule());
    watcher.on('error', (error) => logger.error({ err: error, folder }, `plugins folder watcher: ${describeThrown(error)}`));
    await new Promise<void>((resolve) => {
      this.#resolveStart = resolve;
      watcher.once('ready', resolve);
    });
    this.#resolveStart = undefined;
  }

  /** Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#resolveStart?.();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const watcher = this.#watcher;
    this.#watcher = undefined;
    await watcher?.close();
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#closed) this.#options.onChange();
    }, this.#options.debounceMs);
  }
}

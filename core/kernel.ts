/**
 * The composition root: builds the parts in order (store, registry, service, plugins, HTTP) and stops
 * them in reverse. Everything is injected, so a test can boot many kernels in one process.
 */
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createLogger } from './logger.js';
import { PluginLoader } from './plugins/plugin-loader.js';
import { networkFileSystemWarning, prepareDatabaseFile } from './store/database-file.js';
import { acquireInstanceLock } from './store/instance-lock.js';
import { migrateToLatest } from './store/migrate.js';
import { openDatabase, type OpenedDatabase } from './store/open-database.js';
import { SqlitePresetStore } from './store/sqlite-preset-store.js';
import { SqliteRunRepository } from './store/sqlite-run-repository.js';
import { TaskRegistry } from './tasks/registry.js';
import { normalizeTask } from './tasks/task.js';
import { History } from './tasks/history.js';
import { Presets } from './tasks/presets.js';
import { Retention } from './tasks/retention.js';
import { TaskService } from './tasks/task-service.js';
import type { Task, TaskDefinition } from './tasks/types.js';
import { HttpServer, type HttpServerOptions } from './http/http-server.js';

export interface KernelOptions {
  logger?: Logger;
  /** Start the HTTP server (default true). */
  listen?: boolean;
  /**
   * `server` (default) owns the database: it marks runs left `running` by a dead process as
   * `interrupted`. A `client` (the CLI's `run`) shares the database with a server that may be running,
   * so it leaves other runs alone, does not watch the plugins folder and does not listen.
   */
  role?: 'server' | 'client';
  now?: () => number;
  /** The HTTP server's prefix, access policy (token, or a host's `authorize` hook) and proxy trust. */
  http?: Omit<HttpServerOptions, 'kernel'>;
}

export class Kernel {
  readonly config: Config;
  readonly logger: Logger;
  readonly registry = new TaskRegistry();
  readonly #options: KernelOptions;
  #db: OpenedDatabase | null = null;
  #service: TaskService | null = null;
  #plugins: PluginLoader | null = null;
  #retention: Retention | null = null;
  #history: History | null = null;
  #presets: Presets | null = null;
  #http: HttpServer | null = null;
  #stops: (() => Promise<void>)[] = [];
  #state: 'new' | 'starting' | 'started' | 'stopping' | 'stopped' = 'new';
  /** start() until it settled, its failure clean-up included: what a stop() during start-up waits for. */
  #startup: Promise<void> | null = null;
  #stopRequested = false;
  #stopping: Promise<void> | null = null;

  constructor(config: Config, options: KernelOptions = {}) {
    this.config = config;
    this.#options = options;
    this.logger = options.logger ?? createLogger(config.logLevel);
  }

  get service(): TaskService {
    return started(this.#service);
  }

  get plugins(): PluginLoader {
    return started(this.#plugins);
  }

  get history(): History {
    return started(this.#history);
  }

  get presets(): Presets {
    return started(this.#presets);
  }

  get retention(): Retention {
    return started(this.#retention);
  }

  /** The address the HTTP server listens on (after start). */
  get url(): string {
    const address = this.#http?.address() as AddressInfo | null | undefined;
    if (!address) throw new TypeError('the HTTP server is not listening');
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /**
   * Builds the parts in order. A `stop()` while this runs (SIGTERM during start-up) ends it at the next
   * step: what was built is stopped in reverse and start() rejects with ERR_KERNEL_STOPPED.
   */
  async start(): Promise<this> {
    if (this.#state !== 'new') throw new TypeError(`kernel.start() called twice (state: ${this.#state})`);
    this.#state = 'starting';
    this.#startup = this.#startUp();
    await this.#startup;
    return this;
  }

  async #startUp(): Promise<void> {
    try {
      await this.#boot();
      this.#state = 'started';
    } catch (error) {
      await this.#teardown();
      throw error;
    }
  }

  /** Registers a task at runtime. Such a task can be removed again with `removeTask`. */
  registerTask(definition: TaskDefinition<any>, by = 'api'): Task {
    const task = normalizeTask(definition, { kind: 'dynamic', by });
    this.registry.register(task);
    return task;
  }

  /** Removes a dynamic task or preset; a task from a plugin file is refused (409 naming the file). */
  removeTask(key: string): Task {
    return this.registry.remove(key);
  }

  /**
   * Idempotent: stops what was started, in reverse order. During start-up it ends the start at its
   * next step and resolves once everything built so far is stopped.
   */
  async stop(): Promise<void> {
    if (this.#state === 'starting') {
      this.#stopRequested = true;
      // Ends the wait on a slow plugin import now rather than after its timeout (start-up then stops).
      void this.#plugins?.stop();
      await this.#startup?.catch(() => undefined);
    }
    if (this.#state === 'new') this.#state = 'stopped';
    await this.#teardown();
  }

  #teardown(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#state = 'stopping';
      for (const stop of this.#stops.reverse()) {
        try {
          await stop();
        } catch (error) {
          this.logger.error({ err: error }, 'error while stopping');
        }
      }
      this.#stops = [];
      this.#state = 'stopped';
    })();
    return this.#stopping;
  }

  /** Between the steps of #boot: a stop() asked for during start-up ends the start here. */
  #continueStart(): void {
    if (this.#stopRequested) throw new KernelStoppedError();
  }

  async #boot(): Promise<void> {
    const { config, logger } = this;
    const server = this.#options.role !== 'client';
    // One server per database, refused before the file is even opened (clients share it with the server).
    const dbFile = prepareDatabaseFile(config.db);
    const remote = networkFileSystemWarning(dbFile);
    if (remote) logger.warn({ db: dbFile }, remote);
    if (server && dbFile !== ':memory:') {
      const lock = acquireInstanceLock(dbFile);
      this.#stops.push(async () => lock.release());
    }
    const db = await openDatabase(dbFile);
    this.#db = db;
    this.#stops.push(() => db.close());
    this.#continueStart();
    await migrateToLatest(db.writer);
    this.#continueStart();
    const repository = new SqliteRunRepository(db, { logger });
    this.#stops.push(() => repository.close());
    const interrupted = server ? await repository.markInterrupted((this.#options.now ?? Date.now)()) : 0;
    if (interrupted > 0) logger.warn({ interrupted }, `marked ${interrupted} run(s) left running by a previous process as interrupted`);

    const service = new TaskService({ registry: this.registry, repository, logger, limits: config.limits, now: this.#options.now });
    this.#service = service;
    this.#stops.push(() => service.stop());

    this.#history = new History(repository);
    const retention = new Retention({ repository, policy: config.retention, logger, now: this.#options.now });
    this.#retention = retention;
    if (server && config.retention.intervalMinutes > 0) this.#stops.push(schedulePrune(retention, config.retention.intervalMinutes * 60_000, logger));

    const plugins = new PluginLoader({
      folder: path.resolve(config.plugins),
      registry: this.registry,
      logger,
      host: { registerTask: (def) => void this.registerTask(def, 'plugin setup'), logger },
    });
    this.#plugins = plugins;
    this.#stops.push(() => plugins.stop());
    await plugins.loadAll();
    this.#continueStart();
    // After the plugins: a preset is registered over its base task.
    const presets = new Presets({ registry: this.registry, store: new SqlitePresetStore(db), logger, now: this.#options.now });
    this.#presets = presets;
    await presets.start();
    this.#stops.push(() => presets.stop());
    this.#continueStart();
    // The watcher's first scan (file system calls) runs while the HTTP server is built; start() still
    // waits for both, so a started kernel always watches.
    const watching = server && config.watchPlugins ? plugins.watch() : null;
    watching?.catch(() => undefined); // awaited below; a failure is thrown there, not as unhandled

    if (server && this.#options.listen !== false) {
      const http = new HttpServer({ ...this.#options.http, kernel: this });
      this.#http = http;
      this.#stops.push(() => http.stop());
      // Both settle before a failure is thrown: stopping while `listen` is still pending could leave the port bound.
      const [listened, watched] = await Promise.allSettled([http.listen(config.port, config.host), watching]);
      for (const outcome of [listened, watched]) if (outcome.status === 'rejected') throw outcome.reason;
      this.#continueStart();
      logger.info({ url: `${this.url}/admin/task`, db: db.file, cpus: os.availableParallelism() }, `taskdeck is serving ${this.url}/admin/task`);
    } else {
      await watching;
      this.#continueStart();
    }
  }
}

/** Prunes a minute after start-up, then every interval; one prune at a time. Returns the stop. */
function schedulePrune(retention: Retention, intervalMs: number, logger: Logger): () => Promise<void> {
  let running: Promise<unknown> | null = null;
  const tick = () => {
    running ??= retention
      .prune()
      .catch((error: unknown) => logger.error({ err: error }, 'retention failed'))
      .finally(() => (running = null));
  };
  const first = setTimeout(tick, Math.min(60_000, intervalMs));
  const every = setInterval(tick, intervalMs);
  first.unref();
  every.unref();
  return async () => {
    clearTimeout(first);
    clearInterval(every);
    await running;
  };
}

/** start() ended early because stop() was called during start-up (a SIGTERM while booting, say). */
export class KernelStoppedError extends Error {
  readonly code = 'ERR_KERNEL_STOPPED';

  constructor() {
    super('the kernel was stopped during start-up');
    this.name = 'KernelStoppedError';
  }
}

function started<T>(part: T | null): T {
  if (part === null) throw new TypeError('the kernel is not started: call kernel.start() first');
  return part;
}

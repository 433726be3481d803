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

  async start(): Promise<this> {
    if (this.#state !== 'new') throw new TypeError(`kernel.start() called twice (state: ${this.#state})`);
    this.#state = 'starting';
    try {
      await this.#boot();
      this.#state = 'started';
      return this;
    } catch (error) {
      await this.stop();
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

  /** Idempotent: stops what was started, in reverse order. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return;
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
    await migrateToLatest(db.writer);
    const repository = new SqliteRunRepository(db);
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
    // After the plugins: a preset is registered over its base task.
    const presets = new Presets({ registry: this.registry, store: new SqlitePresetStore(db), logger, now: this.#options.now });
    this.#presets = presets;
    await presets.start();
    this.#stops.push(() => presets.stop());
    if (server && config.watchPlugins) await plugins.watch();

    if (server && this.#options.listen !== false) {
      const http = new HttpServer({ ...this.#options.http, kernel: this });
      this.#http = http;
      this.#stops.push(() => http.stop());
      await http.listen(config.port, config.host);
      logger.info({ url: `${this.url}/admin/task`, db: db.file, cpus: os.availableParallelism() }, `taskdeck is serving ${this.url}/admin/task`);
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

function started<T>(part: T | null): T {
  if (part === null) throw new TypeError('the kernel is not started: call kernel.start() first');
  return part;
}

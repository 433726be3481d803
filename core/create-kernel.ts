/**
 * Library mode: a kernel that a host application creates, starts and embeds, serving the admin
 * standalone (`listen: true`) or inside the host's own Koa app and HTTP server.
 *
 * @example
 * import Koa from 'koa';
 * import { createKernel } from 'taskdeck';
 *
 * const kernel = await createKernel({
 *   config: { db: 'data/ops.db', plugins: 'tasks' },
 *   authorize: (ctx) => ctx.state.user?.isAdmin === true,   // the host's own login protects the admin
 * }).start();
 * const app = new Koa();
 * app.use(kernel.adminMiddleware({ prefix: '/ops' }));       // pages at /ops/admin/task
 * const server = app.listen(3000);
 * kernel.attachWebSocket(server, { prefix: '/ops' });        // live logs on the same server
 * // on shutdown: await kernel.stop();
 */
import type http from 'node:http';
import type https from 'node:https';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { configWith, type Config, type ConfigOverrides } from './config.js';
import { AdminSurface, checkBase } from './http/admin-surface.js';
import { createAccess, type AdminAccess, type AuthorizeHook, type AuthorizeUpgradeHook } from './http/auth-access.js';
import { Kernel } from './kernel.js';
import { createLogger } from './logger.js';

export interface CreateKernelOptions {
  /**
   * Settings over `config/default.json` (no other file and no environment is read; pass
   * `loadConfig()` for exactly what `npm start` would use). `token` protects the admin unless
   * `authorize` is given.
   */
  config?: ConfigOverrides;
  /** Also serve standalone on `config.host:config.port` (default false: a host app mounts the admin). */
  listen?: boolean;
  /**
   * Replaces the token check: the admin's HTTP requests are let in when it returns exactly `true`
   * (else 403). It gets the host app's Koa context when mounted (after the host's own middleware:
   * its session, `ctx.state.user`), taskdeck's context when standalone. Throwing `ctx.throw(401)`
   * answers that status instead.
   */
  authorize?: AuthorizeHook;
  /**
   * The same decision for a WebSocket upgrade, from the raw request (no Koa middleware ran on it).
   * Without it, `authorize` gets a Koa context made from the upgrade request by taskdeck (`ctx.get`,
   * `ctx.cookies`, `ctx.headers` work; the host's middleware did not run).
   */
  authorizeUpgrade?: AuthorizeUpgradeHook;
  /** Standalone only: believe X-Forwarded-Proto/-For (mounted, the host app's `proxy` setting decides). */
  trustProxy?: boolean;
  logger?: Logger;
  now?: () => number;
}

export interface MountOptions {
  /** Where the admin lives in the host app: `/ops` serves `/ops/admin/task` (default ''). */
  prefix?: string;
}

/** A kernel for a host application: `await createKernel(options).start()`. */
export function createKernel(options: CreateKernelOptions = {}): TaskdeckKernel {
  return new TaskdeckKernel(configWith(options.config), options);
}

export class TaskdeckKernel extends Kernel {
  readonly #access: AdminAccess;
  readonly #surfaces = new Map<string, AdminSurface>();

  constructor(config: Config, options: Omit<CreateKernelOptions, 'config'> = {}) {
    const logger = options.logger ?? createLogger(config.logLevel);
    const access = createAccess({ token: config.token, authorize: options.authorize, authorizeUpgrade: options.authorizeUpgrade, logger, now: options.now });
    super(config, { logger, listen: options.listen ?? false, now: options.now, http: { access, trustProxy: options.trustProxy } });
    this.#access = access;
  }

  /** How the admin is protected: `token` (config.token), `hook` (authorize) or `open` (neither). */
  get accessMode(): AdminAccess['mode'] {
    return this.#access.mode;
  }

  /**
   * Koa middleware serving the admin under `prefix` in a host app: every page, link, static file,
   * redirect and live-log URL carries the prefix. Requests outside `<prefix>/admin` pass through.
   * Needs a started kernel, and a token or an `authorize` hook: the host's server may listen on any
   * address, so an unprotected admin is refused (`authorize: () => true` says so on purpose).
   */
  adminMiddleware(options: MountOptions = {}): Middleware {
    return this.#surface(options.prefix ?? '').middleware();
  }

  /**
   * Handles the admin's WebSocket upgrades (`<prefix>/admin/task/{key}/start`,
   * `<prefix>/admin/run/{id}/watch`) on the host's HTTP server, with the same access rules. Other
   * upgrades are left to the host's own listeners. Returns the detach function; `stop()` detaches too.
   */
  attachWebSocket(server: http.Server | https.Server, options: MountOptions = {}): () => void {
    return this.#surface(options.prefix ?? '').attach(server as http.Server);
  }

  /** Closes the mounted admin's sockets (1001, so pages re-attach) and detaches, then stops the kernel. */
  override async stop(): Promise<void> {
    const surfaces = [...this.#surfaces.values()];
    this.#surfaces.clear();
    for (const surface of surfaces) await surface.stop();
    await super.stop();
  }

  #surface(prefix: string): AdminSurface {
    checkBase(prefix, 'prefix');
    const existing = this.#surfaces.get(prefix);
    if (existing) return existing;
    if (this.#access.mode === 'open') {
      throw new TypeError('mounting the admin into a host app needs config.token or an authorize hook (pass authorize: () => true to serve it unprotected on purpose)');
    }
    // Throws "not started" before anything is built.
    void this.service;
    const surface = new AdminSurface({ kernel: this, base: prefix, mounted: true, access: this.#access, loopbackOnly: false });
    this.#surfaces.set(prefix, surface);
    return surface;
  }
}

/**
 * The admin as one unit for one path prefix: the Koa app (pages, API, login) and the live hub
 * (WebSockets), behind one access policy. The standalone HttpServer serves it on its own node:http
 * server; a host application mounts it with `middleware()` and hands it upgrades with `attach(server)`.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type Koa from 'koa';
import type { Context, Middleware } from 'koa';
import type { Kernel } from '../kernel.js';
import { LiveHub } from '../live/live-hub.js';
import { VIEWS_FOLDER, createApp } from './app.js';
import { createAccess, type AdminAccess, type MountState } from './auth-access.js';
import type { HttpDeps } from './http-context.js';
import { resultFragmentRenderer } from './result-fragment.js';

export interface AdminSurfaceOptions {
  kernel: Kernel;
  /** Path prefix of every link, redirect and cookie ('' = none). */
  base?: string;
  /**
   * Whether incoming paths carry `base` (a host app's mount) or arrive without it (standalone, where a
   * reverse proxy that adds `base` strips it again).
   */
  mounted?: boolean;
  /** Default: the kernel's token (`config.token`), else open. */
  access?: AdminAccess;
  /** Answer only to loopback `Host` names (DNS rebinding): for a server bound to loopback. */
  loopbackOnly: boolean;
  /** Believe X-Forwarded-Proto/-For (protocol for the `Secure` cookie, address for the guess limit). */
  trustProxy?: boolean;
  syncWaitMs?: number;
}

/** '' or `/segment[/segment...]` of URL-safe characters: it goes into links, a cookie Path and a regex-free prefix test. */
const BASE = /^(?:\/(?!\.\.?(?:\/|$))[A-Za-z0-9._~-]+)*$/;

export function checkBase(base: string, name = 'prefix'): string {
  if (typeof base !== 'string' || !BASE.test(base)) {
    throw new TypeError(`${name}: expected "" or a path like "/ops" (no trailing slash, letters, digits, . _ ~ -), got ${JSON.stringify(base)}`);
  }
  return base;
}

export class AdminSurface {
  readonly app: Koa;
  readonly hub: LiveHub;
  readonly base: string;
  readonly access: AdminAccess;
  readonly #handle: (ctx: Context) => Promise<void>;
  readonly #mounted: boolean;
  readonly #detachers = new Set<() => void>();
  readonly #attached = new WeakMap<http.Server, () => void>();
  #stopped = false;

  constructor(options: AdminSurfaceOptions) {
    const { kernel } = options;
    this.base = checkBase(options.base ?? '', 'base');
    this.#mounted = options.mounted ?? false;
    this.access = options.access ?? createAccess({ token: kernel.config.token, logger: kernel.logger });
    const deps: HttpDeps = {
      service: kernel.service,
      history: kernel.history,
      presets: kernel.presets,
      retention: kernel.retention,
      registry: kernel.registry,
      plugins: kernel.plugins,
      base: this.base,
      loopbackOnly: options.loopbackOnly,
      syncWaitMs: options.syncWaitMs ?? 30_000,
      now: Date.now,
    };
    this.app = createApp(deps, kernel.logger, this.access);
    this.app.proxy = options.trustProxy ?? false;
    this.#handle = compose(this.app.middleware);
    this.hub = new LiveHub({
      service: kernel.service,
      base: this.base,
      pathPrefix: this.#mounted ? this.base : '',
      loopbackOnly: options.loopbackOnly,
      logger: kernel.logger,
      renderResultHtml: resultFragmentRenderer(VIEWS_FOLDER, this.base, Date.now),
      identify: (req) => this.access.identifyUpgrade(req, () => this.app.createContext(req, new http.ServerResponse(req))),
    });
  }

  /**
   * Koa middleware for a host app: requests under `<base>/admin` are the admin's; all others go on to
   * the host's next middleware. The admin runs in a Koa context of its own (its `ctx.state`, its
   * views, its error pages), then hands its answer to the host's context, so the host's middleware
   * above (logging, compression) sees the status and body as usual.
   */
  middleware(): Middleware {
    const admin = `${this.base}/admin`;
    return async (ctx, next) => {
      // ctx.path is null for a request target Node's legacy URL parser reads as a host (`//?a#b@c`).
      const path: string | null = ctx.path;
      if (typeof path !== 'string' || (path !== admin && !path.startsWith(`${admin}/`))) return next();
      if (this.#stopped) {
        ctx.status = 503;
        ctx.body = 'taskdeck is stopped\n';
        return;
      }
      const req = ctx.req;
      const url = req.url;
      req.url = `${path.slice(this.base.length)}${ctx.search}`;
      try {
        const inner = this.app.createContext(req, ctx.res);
        (inner.state as MountState).mount = { context: ctx, url: url ?? '/' };
        // The host decides whether X-Forwarded-* are believed, for its routes and ours alike.
        this.app.proxy = ctx.app.proxy;
        await this.#handle(inner);
        // Both contexts write the same `res`: read the status before the host's body setter resets it.
        const { status, body } = inner;
        ctx.body = body;
        ctx.status = status;
      } finally {
        req.url = url;
      }
    };
  }

  /** A node:http `upgrade` listener: the admin's WebSocket paths; false (untouched) for any other. */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (this.#stopped) return false;
    return this.hub.handleUpgrade(req, socket, head);
  }

  /**
   * Handles the admin's upgrades on a host's HTTP server. Other upgrades are left to the host's own
   * `upgrade` listeners; with none, they are closed (Node would otherwise leave the socket hanging).
   * Returns the detach function (also run by `stop`).
   */
  attach(server: http.Server): () => void {
    // Twice on one server would answer each upgrade twice: the second call returns the first's detach.
    const attached = this.#attached.get(server);
    if (attached) return attached;
    const listener = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.handleUpgrade(req, socket, head)) return;
      if (server.listenerCount('upgrade') === 1) socket.destroy();
    };
    server.on('upgrade', listener);
    const detach = () => {
      server.off('upgrade', listener);
      this.#detachers.delete(detach);
      this.#attached.delete(server);
    };
    this.#detachers.add(detach);
    this.#attached.set(server, detach);
    return detach;
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const detach of [...this.#detachers]) detach();
    await this.hub.stop();
  }
}

/** Koa's own composition, for running the admin's middleware on a context it made itself. */
function compose(middleware: readonly Middleware[]): (ctx: Context) => Promise<void> {
  return (ctx) => {
    const dispatch = async (i: number): Promise<void> => {
      const fn = middleware[i];
      if (fn) await fn(ctx, () => dispatch(i + 1));
    };
    return dispatch(0);
  };
}

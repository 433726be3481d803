/** The standalone Node HTTP server: the admin's Koa app for requests, its LiveHub for upgrades, bounded sizes. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLoopback } from '../config.js';
import type { Kernel } from '../kernel.js';
import { AdminSurface } from './admin-surface.js';
import type { AdminAccess } from './auth-access.js';

export interface HttpServerOptions {
  kernel: Kernel;
  /** Path prefix of links and cookies, for a reverse proxy that serves taskdeck under it (and strips it). */
  base?: string;
  syncWaitMs?: number;
  /** Default: the kernel's token (`config.token`), else open (loopback only). */
  access?: AdminAccess;
  /** Believe X-Forwarded-Proto/-For from a reverse proxy (default false). */
  trustProxy?: boolean;
}

export class HttpServer {
  readonly #server: http.Server;
  readonly #surface: AdminSurface;
  #stopped = false;

  constructor(options: HttpServerOptions) {
    const { kernel } = options;
    // Bound to loopback, the Host header must name loopback (DNS rebinding). Bound elsewhere, a token is
    // required (config refuses to start without one) and it is the protection: any Host is answered.
    this.#surface = new AdminSurface({
      kernel,
      base: options.base,
      access: options.access,
      loopbackOnly: isLoopback(kernel.config.host),
      trustProxy: options.trustProxy,
      syncWaitMs: options.syncWaitMs,
    });
    this.#server = http.createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 120_000, headersTimeout: 30_000 }, this.#surface.app.callback());
    this.#server.on('upgrade', (req, socket, head) => {
      if (!this.#surface.handleUpgrade(req, socket, head)) socket.destroy();
    });
    this.#server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  address(): AddressInfo | string | null {
    return this.#server.address();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#surface.stop();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

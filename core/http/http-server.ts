/** The Node HTTP server: the Koa app for requests, the LiveHub for WebSocket upgrades, bounded sizes. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLoopback } from '../config.js';
import type { Kernel } from '../kernel.js';
import { LiveHub } from '../live/live-hub.js';
import { VIEWS_FOLDER, createApp } from './app.js';
import type { HttpDeps } from './http-context.js';
import { resultFragmentRenderer } from './result-fragment.js';

export interface HttpServerOptions {
  kernel: Kernel;
  base?: string;
  syncWaitMs?: number;
}

export class HttpServer {
  readonly #server: http.Server;
  readonly #hub: LiveHub;
  #stopped = false;

  constructor(options: HttpServerOptions) {
    const { kernel } = options;
    const base = options.base ?? '';
    const deps: HttpDeps = {
      service: kernel.service,
      history: kernel.history,
      presets: kernel.presets,
      registry: kernel.registry,
      plugins: kernel.plugins,
      base,
      loopbackOnly: isLoopback(kernel.config.host),
      syncWaitMs: options.syncWaitMs ?? 30_000,
      now: Date.now,
    };
    const app = createApp(deps, kernel.logger);
    this.#hub = new LiveHub({
      service: kernel.service,
      base,
      loopbackOnly: deps.loopbackOnly,
      logger: kernel.logger,
      renderResultHtml: resultFragmentRenderer(VIEWS_FOLDER, base, Date.now),
    });
    this.#server = http.createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 120_000, headersTimeout: 30_000 }, app.callback());
    this.#server.on('upgrade', (req, socket, head) => {
      if (!this.#hub.handleUpgrade(req, socket, head)) socket.destroy();
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
    await this.#hub.stop();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

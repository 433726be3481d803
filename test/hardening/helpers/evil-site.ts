/**
 * An "attacker" web site for the cross-site tests: a tiny node:http server on a second loopback port
 * serving the pages given to it, with no CSP, so its inline scripts run. Reached as `127.0.0.1:<port>`
 * it is same-site but cross-origin to a taskdeck on 127.0.0.1; as `localhost:<port>` it is cross-site.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export class EvilSite {
  readonly #pages = new Map<string, string>();
  readonly #server = http.createServer((req, res) => {
    const page = this.#pages.get(new URL(req.url ?? '/', 'http://x').pathname);
    this.requests.push(`${req.method ?? 'GET'} ${req.url ?? '/'}`);
    if (page === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not here');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(page);
  });
  /** What the evil site itself was asked for, in order. */
  readonly requests: string[] = [];

  /** Serves `html` at `path` (a full document; its scripts run). */
  page(path: string, html: string): void {
    this.#pages.set(path, html);
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * WebSocket endpoints on the app's own HTTP server, or a host app's (`noServer` + `handleUpgrade`):
 * `/admin/task/{key}/start` starts a run and streams it; `/admin/run/{id}/watch` attaches to a run.
 * Every upgrade passes the same checks as the HTTP routes before any `101`: the Host, access (token,
 * session cookie or the host's hook), an `Origin` check, and the state-change guards on `/start`.
 */
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { TaskdeckError, badRequest, runNotFound, taskNotFound } from '../errors.js';
import { parseQuery, first } from '../http/parse-query.js';
import type { AccessOutcome } from '../http/auth-access.js';
import { refusal } from '../http/auth-access.js';
import { checkHost, checkStateChange, checkWebSocketOrigin } from '../http/request-guards.js';
import { splitTaskQuery } from '../http/task-query.js';
import { isTaskKey } from '../tasks/task.js';
import type { LiveRun } from '../tasks/live-run.js';
import type { TaskService } from '../tasks/task-service.js';
import type { ResultJson } from '../tasks/types.js';
import * as msg from './messages.js';
import { RunFeed } from './run-feed.js';
import { RunStream } from './run-stream.js';
import { TurnQueue } from './turn-queue.js';

const START_PATH = /^\/admin\/task\/([^/]+)\/start$/;
const WATCH_PATH = /^\/admin\/run\/([^/]+)\/watch$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEARTBEAT_MS = 30_000;
/** Clients only ever send `{cmd: "cancel"}`: anything large is refused (close 1009). */
const MAX_CLIENT_MESSAGE = 64 * 1024;

export interface LiveHubOptions {
  service: TaskService;
  /** Prefix of the links in messages (`href`, `watchPath`). */
  base: string;
  /** Prefix incoming upgrade paths must carry ('' standalone; the mount prefix on a host's server). */
  pathPrefix?: string;
  loopbackOnly: boolean;
  /** Who is asking (default: everyone is let in). */
  identify?: (req: IncomingMessage) => Promise<AccessOutcome>;
  logger: Logger;
  renderResultHtml: (result: ResultJson) => string;
  heartbeatMs?: number;
}

export class LiveHub {
  readonly #o: LiveHubOptions;
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE, perMessageDeflate: false });
  readonly #alive = new WeakMap<WebSocket, boolean>();
  readonly #feeds = new Map<string, RunFeed>();
  readonly #turns = new TurnQueue();
  readonly #heartbeat: NodeJS.Timeout;

  constructor(options: LiveHubOptions) {
    this.#o = options;
    this.#heartbeat = setInterval(() => this.#beat(), options.heartbeatMs ?? HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  /** Handles an HTTP upgrade if it is for one of our paths; returns false otherwise. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const prefix = this.#o.pathPrefix ?? '';
    if (!url.pathname.startsWith(`${prefix}/`)) return false;
    const path = url.pathname.slice(prefix.length);
    const start = START_PATH.exec(path);
    const watch = WATCH_PATH.exec(path);
    if (!start && !watch) return false;
    socket.on('error', () => socket.destroy());
    void this.#upgrade(req, socket, head, url, start?.[1], watch?.[1]).catch((error: unknown) => refuse(socket, error, this.#o.logger));
    return true;
  }

  async stop(): Promise<void> {
    clearInterval(this.#heartbeat);
    // 1001 "going away": the page re-attaches when the server is back, instead of giving up.
    for (const ws of this.#wss.clients) ws.close(1001, 'server stopping');
    await new Promise((resolve) => setTimeout(resolve, 50).unref());
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, taskKey?: string, runId?: string): Promise<void> {
    const { service, loopbackOnly } = this.#o;
    checkHost({ method: req.method ?? 'GET', headers: req.headers, loopbackOnly });
    const who = this.#o.identify ? await this.#o.identify(req) : ({ ok: true, via: 'open' } as const);
    if (!who.ok) throw refusal(who, this.#o.base);
    // Browsers send no Fetch Metadata on a WebSocket handshake, but always Origin: for a session cookie,
    // the Origin check is what tells our own page from a replayed cookie (the HTTP routes use Sec-Fetch-Site).
    checkWebSocketOrigin(req.headers, { bearer: who.via === 'bearer' });
    const query = parseQuery(url.search.slice(1));
    if (taskKey !== undefined) {
      checkStateChange({ method: req.method ?? 'GET', headers: req.headers, loopbackOnly });
      const key = safeDecode(taskKey);
      const task = isTaskKey(key) ? service.registry.get(key) : undefined;
      if (!task) throw taskNotFound(key);
      const split = splitTaskQuery(task, query);
      const args = service.prepareArgs(task, { raw: split.raw, fromForm: split.fromForm });
      checkHandshake(req);
      // Started before the 101, so a refusal (503 while shutting down) is still an HTTP answer.
      const live = await service.start(task, args, { label: split.label, origin: 'ws' });
      const ws = await this.#accept(req, socket, head);
      const runPath = `${this.#o.base}/admin/run/${live.id}`;
      ws.send(JSON.stringify(msg.started(live.id, { id: live.id, href: runPath, watchPath: `${runPath}/watch`, cancelHref: `${runPath}/cancel`, task: task.key })));
      this.#serve(ws, socket, live.id, 0, this.#feedOf(live));
      return;
    }
    const id = safeDecode(runId ?? '');
    if (!UUID.test(id)) throw runNotFound(id);
    await service.getStoredRun(id);
    const after = first(query, 'after');
    const afterSeq = after && /^[0-9]{1,12}$/.test(after) ? Number(after) : 0;
    const ws = await this.#accept(req, socket, head);
    const live = service.activeRun(id);
    this.#serve(ws, socket, id, afterSeq, live ? this.#feedOf(live) : undefined);
  }

  #accept(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<WebSocket> {
    return new Promise((resolve) => this.#wss.handleUpgrade(req, socket, head, (ws) => resolve(ws)));
  }

  /** The run's shared feed, created with its first client; none once the run has completed. */
  #feedOf(live: LiveRun): RunFeed | undefined {
    if (live.status !== 'running') return undefined;
    let feed = this.#feeds.get(live.id);
    if (!feed) {
      const created = new RunFeed({ live, renderResultHtml: this.#o.renderResultHtml, logger: this.#o.logger, onEnd: () => this.#feeds.delete(live.id) });
      this.#feeds.set(live.id, created);
      feed = created;
    }
    return feed;
  }

  #serve(ws: WebSocket, socket: Duplex, runId: string, afterSeq: number, feed: RunFeed | undefined): void {
    const { service, logger } = this.#o;
    this.#alive.set(ws, true);
    ws.on('error', (error) => logger.debug({ err: error, run: runId }, 'WebSocket error'));
    ws.on('pong', () => this.#alive.set(ws, true));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return ws.close(1003, 'text frames only');
      if (msg.parseClientMessage(data.toString())?.cmd === 'cancel') {
        service.cancel(runId).catch(() => undefined);
      }
    });
    // A dropped client never stops the run: closing only detaches this stream.
    new RunStream({ ws, socket, service, runId, afterSeq, feed, turns: this.#turns, logger, renderResultHtml: this.#o.renderResultHtml }).start();
  }

  #beat(): void {
    for (const ws of this.#wss.clients) {
      if (this.#alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      this.#alive.set(ws, false);
      ws.ping();
    }
  }
}

/**
 * The checks `ws` makes before it accepts an upgrade, made first where a run is started before the
 * upgrade: a handshake `ws` would refuse must not start one.
 */
function checkHandshake(req: IncomingMessage): void {
  const key = req.headers['sec-websocket-key'];
  const version = req.headers['sec-websocket-version'];
  const problem =
    req.method !== 'GET' ? `method ${String(req.method).slice(0, 20)}`
    : req.headers.upgrade?.toLowerCase() !== 'websocket' ? `Upgrade: ${JSON.stringify((req.headers.upgrade ?? '').slice(0, 40))}`
    : !key || !/^[+/0-9A-Za-z]{22}==$/.test(key) ? 'no valid Sec-WebSocket-Key'
    : version !== '13' && version !== '8' ? `Sec-WebSocket-Version: ${JSON.stringify(String(version ?? '').slice(0, 20))}`
    : null;
  if (problem) throw badRequest(`WebSocket handshake: expected GET with "Upgrade: websocket", a Sec-WebSocket-Key and Sec-WebSocket-Version 13; got ${problem}`);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Answers a refused upgrade with a plain HTTP response (before any 101) and closes the socket. */
function refuse(socket: Duplex, error: unknown, logger: Logger): void {
  const known = error instanceof TaskdeckError;
  if (!known) logger.error({ err: error }, 'WebSocket upgrade failed');
  const status = known ? error.status : 500;
  const body = JSON.stringify({ status, code: known ? error.code : 'ERR_INTERNAL', message: known && error.expose ? error.message : 'internal error', ...(known ? error.details : {}) });
  if (!socket.writable) return void socket.destroy();
  // Our own headers only (WWW-Authenticate, Retry-After), never text from the request.
  const extra = known ? Object.entries(error.headers).map(([name, value]) => `${name}: ${value.replace(/[\r\n]/g, ' ')}\r\n`).join('') : '';
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
  );
}

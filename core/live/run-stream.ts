/**
 * Streams one run to one WebSocket: first what the database holds (after the client's last line),
 * then the live tail, with no gap and no duplicate; `complete` last, then `close-connection`.
 * A client that falls behind is cut off rather than buffered without bound; it re-attaches with
 * `?after=<last seq>` and catches up from the database.
 */
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { ansiToHtml } from '../http/ansi-html.js';
import type { LiveRun, RunEvent } from '../tasks/live-run.js';
import { storedToResult } from '../tasks/stored-result.js';
import type { TaskService } from '../tasks/task-service.js';
import type { ResultJson } from '../tasks/types.js';
import * as msg from './messages.js';

/** Past this many bytes queued for one socket, the client is too slow: disconnect it. */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const REPLAY_PAGE = 1000;

export interface RunStreamOptions {
  ws: WebSocket;
  service: TaskService;
  runId: string;
  afterSeq: number;
  logger: Logger;
  renderResultHtml: (result: ResultJson) => string;
}

export class RunStream {
  readonly #o: RunStreamOptions;
  #lastSeq: number;
  #buffer: RunEvent[] | null = [];
  #unsubscribe: (() => void) | null = null;
  #closed = false;

  constructor(options: RunStreamOptions) {
    this.#o = options;
    this.#lastSeq = options.afterSeq;
    options.ws.on('close', () => this.#stop());
  }

  async attach(live: LiveRun | undefined): Promise<void> {
    const { service, runId } = this.#o;
    if (live) this.#unsubscribe = live.subscribe((event) => (this.#buffer ? this.#buffer.push(event) : this.#deliver(event)));
    try {
      for (;;) {
        const lines = await service.getLogs(runId, { afterSeq: this.#lastSeq, limit: REPLAY_PAGE });
        for (const line of lines) this.#deliver({ type: 'log', line });
        if (lines.length < REPLAY_PAGE || this.#closed) break;
      }
      const buffered = this.#buffer ?? [];
      this.#buffer = null;
      for (const event of buffered) this.#deliver(event);
      if (!live || live.status !== 'running') {
        // Finished (before or while we attached): the database has the whole Result.
        const stored = await service.getStoredRun(runId);
        if (stored.status !== 'running') {
          const logs = await service.getLogs(runId);
          this.#finish(storedToResult(stored, logs, service.registry.get(stored.taskKey)));
        }
      }
    } catch (error) {
      this.#o.logger.error({ err: error, run: runId }, 'could not stream a run');
      this.#send(msg.errorMessage(runId, 'could not read the run from history'));
      this.#o.ws.close(1011);
    }
  }

  #deliver(event: RunEvent): void {
    if (this.#closed) return;
    switch (event.type) {
      case 'log':
        if (event.line.seq <= this.#lastSeq) return;
        this.#lastSeq = event.line.seq;
        this.#send(msg.output(this.#o.runId, { seq: event.line.seq, msg: event.line.msg, html: ansiToHtml(event.line.msg), stream: event.line.stream }));
        return;
      case 'progress':
        this.#send(msg.progress(this.#o.runId, event.progress));
        return;
      case 'complete':
        this.#finish(event.result);
    }
  }

  #finish(result: ResultJson): void {
    if (this.#closed) return;
    let html = '';
    try {
      html = this.#o.renderResultHtml(result);
    } catch (error) {
      this.#o.logger.error({ err: error }, 'could not render the result fragment');
    }
    // The last two frames are sent whatever is queued: they are bounded (one Result), and cutting the
    // client off here would leave it without `complete` after it received every line.
    this.#send(msg.complete(this.#o.runId, { result, html }), true);
    this.#send(msg.closeConnection(), true);
    this.#stop();
    this.#o.ws.close(1000);
  }

  #send(envelope: msg.Envelope, final = false): void {
    const { ws } = this.#o;
    if (this.#closed || ws.readyState !== ws.OPEN) return;
    if (!final && ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.#o.logger.warn({ run: this.#o.runId, buffered: ws.bufferedAmount }, 'WebSocket client too slow: disconnected');
      this.#stop();
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify(envelope));
  }

  #stop(): void {
    this.#closed = true;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#buffer = null;
  }
}

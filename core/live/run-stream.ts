/**
 * Streams one run to one WebSocket: what the store holds after the client's last line, then the live
 * tail, with no gap and no duplicate; `complete` last, then `close-connection`.
 *
 * Flow control: lines are written only while less than HIGH_WATER_BYTES are queued for the socket.
 * A client that reads slower than the run logs gets no more until its queue has drained, then goes on
 * from where it was: from the run's shared chunks while they still hold its next line, else from the
 * store. So a slow client costs a bounded queue, never the run or the other clients. It sees every line
 * the store kept, in order; of a capped log, lines dropped from the middle before it got there are gone
 * (the Result in `complete` carries the marker). A client that stops reading altogether answers no ping
 * and is terminated by LiveHub's heartbeat.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { storedToResult } from '../tasks/stored-result.js';
import type { TaskService } from '../tasks/task-service.js';
import type { ResultJson } from '../tasks/types.js';
import { outputJson, textFrames } from './frames.js';
import * as msg from './messages.js';
import { finalFrames, firstAbove, type Chunk, type FeedReader, type RunFeed } from './run-feed.js';
import type { TurnQueue } from './turn-queue.js';

/** Past this many bytes queued for the socket, nothing more is written until it has drained. */
export const HIGH_WATER_BYTES = 64 * 1024;
const REPLAY_PAGE = 1000;

export interface RunStreamOptions {
  ws: WebSocket;
  /** The socket under `ws`: the run's frames are written to it as they are, in order with `ws`'s own. */
  socket: Duplex;
  service: TaskService;
  runId: string;
  afterSeq: number;
  /** The run's shared feed while it is running here; none for a finished run (or one run elsewhere). */
  feed?: RunFeed;
  /** Store reads take turns with the other clients' (one page a turn of the event loop). */
  turns: TurnQueue;
  logger: Logger;
  renderResultHtml: (result: ResultJson) => string;
}

export class RunStream implements FeedReader {
  readonly #o: RunStreamOptions;
  #seq: number;
  #next: number;
  /** Lines past `#seq` may be in the store and not in the feed: read the store before the feed. */
  #fromStore = true;
  /** The store had nothing past `#seq`: a gap before the feed's chunks is lines the cap dropped. */
  #skipGap = false;
  #pumping = false;
  #closed = false;
  #drained: (() => void) | null = null;

  constructor(options: RunStreamOptions) {
    this.#o = options;
    this.#seq = options.afterSeq;
    this.#next = options.feed?.nextId ?? 0;
    options.ws.on('close', () => this.#stop());
    options.socket.on('drain', () => this.#drained?.());
    options.feed?.add(this);
  }

  start(): void {
    void this.#pump();
  }

  wake(): void {
    if (!this.#pumping && !this.#drained) void this.#pump();
  }

  async #pump(): Promise<void> {
    const { service, runId, feed } = this.#o;
    this.#pumping = true;
    try {
      while (!this.#closed) {
        const { socket } = this.#o;
        // `drain` comes only after a write was refused (past the socket's own mark, 16 KiB by default).
        if (socket.writableLength > HIGH_WATER_BYTES && socket.writableNeedDrain) {
          await new Promise<void>((resolve) => (this.#drained = resolve));
          this.#drained = null;
          continue;
        }
        if (feed && !this.#fromStore) {
          const read = feed.read({ seq: this.#seq, next: this.#next }, this.#skipGap);
          if (read === 'gap') {
            this.#fromStore = true;
            continue;
          }
          if (read === 'wait') {
            if (feed.final) this.#finish(feed.final);
            return;
          }
          feed.retain(read.chunk);
          this.#write(read.bytes, () => feed.release(read.chunk));
          this.#seq = read.seq;
          this.#next = read.next;
          this.#skipGap = false;
          continue;
        }
        if (feed && (await this.#nextInFeed(feed))) continue;
        if (this.#closed) return;
        const page = await this.#storePage();
        if (this.#closed) return;
        const first = firstAbove(page.seqs, this.#seq);
        const got = first < page.seqs.length;
        if (got) {
          feed?.retain(page);
          this.#write(page.bytes.subarray(page.starts[first]), () => feed?.release(page));
          this.#seq = page.to;
        }
        feed?.release(page);
        if (feed) {
          // Back to the feed as soon as it holds the next line; a full page may be followed by more.
          this.#fromStore = false;
          this.#skipGap = !got;
          this.#next = feed.seek(this.#seq);
          continue;
        }
        if (page.seqs.length === REPLAY_PAGE) continue;
        // Finished before we attached: the store has the whole Result. (Still running with no feed:
        // the run belongs to another process; this client gets what the store had.)
        const stored = await service.getStoredRun(runId);
        if (stored.status !== 'running' && !this.#closed) {
          const logs = await service.getLogs(runId);
          this.#finish(finalFrames(runId, storedToResult(stored, logs, service.registry.get(stored.taskKey)), this.#o.renderResultHtml, this.#o.logger));
        }
        return;
      }
    } catch (error) {
      this.#o.logger.error({ err: error, run: runId }, 'could not stream a run');
      if (this.#open()) this.#o.ws.send(JSON.stringify(msg.errorMessage(runId, 'could not read the run from history')));
      this.#stop();
      this.#o.ws.close(1011);
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * Whether the next line the store holds is in the feed's chunks (lines before it in neither are
   * lines the capped log dropped): then the client goes on from there, with no page to read.
   */
  async #nextInFeed(feed: RunFeed): Promise<boolean> {
    await this.#o.turns.next();
    if (this.#closed) return true;
    const [next] = await this.#o.service.getLogs(this.#o.runId, { afterSeq: this.#seq, limit: 1 });
    if (next && !feed.holds(next.seq)) return false;
    if (next) this.#seq = next.seq - 1;
    this.#fromStore = false;
    this.#skipGap = !next;
    this.#next = feed.seek(this.#seq);
    return true;
  }

  /**
   * The store's lines after the page boundary at or below `#seq`. Pages start on boundaries so that
   * clients catching up through the same lines share them: a full page is kept in the run's feed. The
   * caller holds the page until it releases it to the feed.
   */
  async #storePage(): Promise<Chunk> {
    const { service, runId, feed } = this.#o;
    const from = Math.floor(this.#seq / REPLAY_PAGE) * REPLAY_PAGE;
    const kept = feed?.page(from);
    if (kept) return kept;
    await this.#o.turns.next();
    const lines = this.#closed ? [] : await service.getLogs(runId, { afterSeq: from, limit: REPLAY_PAGE });
    let slab: Chunk['slab'] = null;
    const frames = textFrames(
      lines.map((line) => outputJson(runId, line)),
      feed ? (size) => (slab = feed.pageSlab(size))?.buffer ?? null : undefined,
    );
    const page: Chunk = { from, to: lines.at(-1)?.seq ?? from, bytes: frames.bytes, seqs: lines.map((line) => line.seq), starts: frames.starts, slab, refs: 1 };
    if (lines.length === REPLAY_PAGE) feed?.keepPage(page);
    return page;
  }

  #open(): boolean {
    return !this.#closed && this.#o.ws.readyState === this.#o.ws.OPEN && this.#o.socket.writable;
  }

  /** Writes to the socket if it is open; `done` runs once either way (on error too). */
  #write(bytes: Buffer, done?: () => void): void {
    if (this.#open()) this.#o.socket.write(bytes, done);
    else done?.();
  }

  /** `complete` and `close-connection` go out whatever is queued: one Result, bounded. */
  #finish(final: Buffer): void {
    if (!this.#open()) return;
    this.#write(final);
    this.#stop();
    this.#o.ws.close(1000);
  }

  #stop(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.feed?.remove(this);
    this.#drained?.();
  }
}

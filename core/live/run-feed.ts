/**
 * One live run's events, encoded once for all of its WebSocket clients. Log lines and progress become
 * WebSocket frames in chunks of about 64 KiB; the chunks of the last 16 MiB stay in memory, shared:
 * each RunStream writes the chunks its client has not had yet, and reads from the store what is no
 * longer here. `complete` and `close-connection` are framed once too, after the last chunk.
 */
import type { Logger } from 'pino';
import type { LiveRun, RunEvent } from '../tasks/live-run.js';
import type { ResultJson } from '../tasks/types.js';
import { outputJson, textFrames } from './frames.js';
import * as msg from './messages.js';
import { SlabPool } from './slab-pool.js';

/** A chunk ends at the first line boundary past this many bytes. */
const CHUNK_BYTES = 64 * 1024;
/** Most chunks fit a slab; the pool keeps what the window and the sockets' queues cycle through. */
const SLAB_BYTES = 96 * 1024;
const FREE_SLABS = 16;
/** Pages read from the store (1,000 lines) get slabs of their own size class. */
const PAGE_SLAB_BYTES = 256 * 1024;
const FREE_PAGE_SLABS = 8;
/** What a chunk costs besides its bytes (its object and arrays), so that a window of tiny chunks is bounded too. */
const CHUNK_OVERHEAD = 256;
/** Chunks kept for clients that are behind, all clients of the run together. */
const RETAINED_BYTES = 16 * 1024 * 1024;
/** Full pages read from the store, kept for the other clients catching up through the same lines. */
const KEPT_PAGES = 48;

export interface Chunk {
  /** The seq of the line before the chunk: it holds everything sent after line `from`. */
  from: number;
  /** The seq of its last line (`from` when it holds only progress). */
  to: number;
  bytes: Buffer;
  /** The seq of each line in the chunk, and where its frame starts in `bytes`. */
  seqs: number[];
  starts: number[];
  /** The pooled buffer under `bytes`, if any, and how many still hold the chunk (the feed, socket writes). */
  slab: { buffer: Buffer; pool: SlabPool } | null;
  refs: number;
}

/** Where a client is: the last line it has, and the id of the next chunk it expects. */
export interface FeedPosition {
  seq: number;
  next: number;
}

/** What a client at a position gets next: bytes to write, nothing yet, or a gap only the store fills. */
export type FeedRead = { bytes: Buffer; chunk: Chunk; seq: number; next: number } | 'wait' | 'gap';

export interface FeedReader {
  /** Called when a chunk or the final frames were added. */
  wake(): void;
}

export interface RunFeedOptions {
  live: LiveRun;
  renderResultHtml: (result: ResultJson) => string;
  logger: Logger;
  /** Called once no reader is left, or the run completed: the owner forgets this feed. */
  onEnd: () => void;
}

export class RunFeed {
  readonly runId: string;
  readonly #o: RunFeedOptions;
  readonly #chunks: Chunk[] = [];
  #firstId = 0;
  #retained = 0;
  /** The last line encoded; -1 until the first. */
  #lastSeq = -1;
  #pending: RunEvent[] = [];
  #scheduled = false;
  #final: Buffer | null = null;
  readonly #readers = new Set<FeedReader>();
  readonly #pages = new Map<number, Chunk>();
  readonly #slabs = new SlabPool(SLAB_BYTES, FREE_SLABS);
  readonly #pageSlabs = new SlabPool(PAGE_SLAB_BYTES, FREE_PAGE_SLABS);
  #unsubscribe: (() => void) | null;

  constructor(options: RunFeedOptions) {
    this.#o = options;
    this.runId = options.live.id;
    this.#unsubscribe = options.live.subscribe((event) => {
      this.#pending.push(event);
      if (this.#scheduled) return;
      this.#scheduled = true;
      // LiveRun hands out a committed batch line by line, synchronously: encode it once it is all here.
      queueMicrotask(() => this.#encode());
    });
  }

  /** `complete` and `close-connection`, once the run has completed and every chunk is encoded. */
  get final(): Buffer | null {
    return this.#final;
  }

  /** The id of the chunk the next event will go into. */
  get nextId(): number {
    return this.#firstId + this.#chunks.length;
  }

  add(reader: FeedReader): void {
    this.#readers.add(reader);
  }

  remove(reader: FeedReader): void {
    this.#readers.delete(reader);
    if (this.#readers.size === 0) this.#end();
  }

  /** Whether line `seq` is in the chunks kept here. */
  holds(seq: number): boolean {
    const first = this.#chunks[0];
    return first !== undefined && first.from < seq && seq <= this.#lastSeq;
  }

  /** The id of the first chunk with lines past `seq` (the next id if there is none): for a client that read the store. */
  seek(seq: number): number {
    let i = this.#chunks.length;
    while (i > 0 && this.#chunks[i - 1]!.to > seq) i -= 1;
    return this.#firstId + i;
  }

  /**
   * The bytes a client at `at` is owed next, from one chunk. `gap` when lines between its position
   * and the oldest chunk here are not in memory; with `skipGap` (the store has none of them either: the
   * capped log dropped them) the client moves on to the oldest chunk.
   */
  read(at: FeedPosition, skipGap: boolean): FeedRead {
    let next = Math.max(at.next, this.#firstId);
    for (; next < this.nextId; next += 1) {
      const chunk = this.#chunks[next - this.#firstId]!;
      // Already had from the store: skip it (and progress older than its position).
      if (chunk.to < at.seq || (chunk.to === at.seq && chunk.seqs.length > 0)) continue;
      if (chunk.from > at.seq && !skipGap) return 'gap';
      const offset = chunk.from >= at.seq ? 0 : chunk.starts[firstAbove(chunk.seqs, at.seq)]!;
      return { bytes: chunk.bytes.subarray(offset), chunk, seq: Math.max(chunk.to, at.seq), next: next + 1 };
    }
    return 'wait';
  }

  /** A page of the store's lines after `from` that a client read, if it is still kept; `release` it when done. */
  page(from: number): Chunk | undefined {
    const page = this.#pages.get(from);
    if (page) {
      this.#pages.delete(from);
      this.#pages.set(from, page);
      page.refs += 1;
    }
    return page;
  }

  /** A pooled buffer for a page of `size` bytes, or null. */
  pageSlab(size: number): Chunk['slab'] {
    const buffer = this.#pageSlabs.take(size);
    return buffer ? { buffer, pool: this.#pageSlabs } : null;
  }

  /** Keeps a full page (nothing after its last line can change but by the cap dropping lines). */
  keepPage(page: Chunk): void {
    const replaced = this.#pages.get(page.from);
    if (replaced) this.release(replaced);
    page.refs += 1;
    this.#pages.delete(page.from);
    this.#pages.set(page.from, page);
    if (this.#pages.size > KEPT_PAGES) {
      const [oldest, evicted] = this.#pages.entries().next().value!;
      this.#pages.delete(oldest);
      this.release(evicted);
    }
  }

  /** Holds a chunk for a socket write of its bytes; `release` when the write is done. */
  retain(chunk: Chunk): void {
    chunk.refs += 1;
  }

  release(chunk: Chunk): void {
    chunk.refs -= 1;
    if (chunk.refs === 0 && chunk.slab) chunk.slab.pool.give(chunk.slab.buffer);
  }

  #encode(): void {
    this.#scheduled = false;
    const events = this.#pending;
    this.#pending = [];
    let payloads: string[] = [];
    let seqs: number[] = [];
    let lineIndex: number[] = [];
    let bytes = 0;
    let from = this.#lastSeq;
    const close = (): void => {
      if (payloads.length === 0) return;
      let slab: Chunk['slab'] = null;
      const frames = textFrames(payloads, (size) => {
        const buffer = this.#slabs.take(size);
        slab = buffer ? { buffer, pool: this.#slabs } : null;
        return buffer;
      });
      this.#push({ from, to: this.#lastSeq, bytes: frames.bytes, seqs, starts: lineIndex.map((i) => frames.starts[i]!), slab, refs: 1 });
      payloads = [];
      seqs = [];
      lineIndex = [];
      bytes = 0;
      from = this.#lastSeq;
    };
    for (const event of events) {
      switch (event.type) {
        case 'log': {
          if (bytes >= CHUNK_BYTES) close();
          if (this.#lastSeq < 0) from = event.line.seq - 1;
          const json = outputJson(this.runId, event.line);
          lineIndex.push(payloads.length);
          payloads.push(json);
          seqs.push(event.line.seq);
          bytes += json.length;
          this.#lastSeq = event.line.seq;
          break;
        }
        case 'progress':
          // Before the first line there is no position to anchor it to; the next progress will do.
          if (this.#lastSeq >= 0) payloads.push(JSON.stringify(msg.progress(this.runId, event.progress)));
          break;
        case 'complete':
          close();
          this.#final = finalFrames(this.runId, event.result, this.#o.renderResultHtml, this.#o.logger);
          break;
      }
    }
    close();
    for (const reader of this.#readers) reader.wake();
    if (this.#final) this.#end();
  }

  #push(chunk: Chunk): void {
    this.#chunks.push(chunk);
    this.#retained += chunk.bytes.length + CHUNK_OVERHEAD;
    while (this.#retained > RETAINED_BYTES && this.#chunks.length > 1) {
      const dropped = this.#chunks.shift()!;
      this.#retained -= dropped.bytes.length + CHUNK_OVERHEAD;
      this.#firstId += 1;
      this.release(dropped);
    }
  }

  /** Stops listening to the run; readers that still hold the feed finish from what it has. */
  #end(): void {
    if (!this.#unsubscribe) return;
    this.#unsubscribe();
    this.#unsubscribe = null;
    this.#o.onEnd();
  }
}

/** `complete` (with the Result's HTML fragment) and `close-connection`, framed. */
export function finalFrames(runId: string, result: ResultJson, renderResultHtml: (result: ResultJson) => string, logger: Logger): Buffer {
  let html = '';
  try {
    html = renderResultHtml(result);
  } catch (error) {
    logger.error({ err: error, run: runId }, 'could not render the result fragment');
  }
  return textFrames([JSON.stringify(msg.complete(runId, { result, html })), JSON.stringify(msg.closeConnection())]).bytes;
}

/** The index of the first element greater than `value` in an ascending array (its length if none). */
export function firstAbove(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! > value) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

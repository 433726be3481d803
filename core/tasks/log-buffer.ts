/**
 * The lines of one run kept in memory: the first `head` lines and the last `tail` lines. A run that
 * logs a million lines keeps at most head + tail of them, here and (see LiveRun) in the database; the
 * gap in sequence numbers between the two is where lines were dropped.
 *
 * Sequence numbers are contiguous (line n is the n-th pushed), so only the text is kept, as UTF-8 in
 * buffers outside the JS heap, not as strings: every line of a long log passes through the tail and
 * would otherwise live just long enough to be promoted to V8's old space and die there, a million
 * lines of garbage that only a full GC returns (it showed as 100+ MB of RSS in the load test).
 */
import type { LogLine } from './run-repository.js';

export class LogBuffer {
  readonly #head = new TextRing();
  readonly #tail = new TextRing();
  readonly #headSize: number;
  readonly #tailSize: number;
  #count = 0;

  constructor(maxLines: number) {
    this.#headSize = Math.ceil(maxLines / 2);
    this.#tailSize = Math.floor(maxLines / 2);
  }

  /** Lines ever added (the last sequence number handed out). */
  get count(): number {
    return this.#count;
  }

  get headSize(): number {
    return this.#headSize;
  }

  get tailSize(): number {
    return this.#tailSize;
  }

  /** How many lines fell out between the head and the tail. */
  get dropped(): number {
    return Math.max(0, this.#count - this.#headSize - this.#tailSize);
  }

  push(msg: string): void {
    this.#count += 1;
    if (this.#head.length < this.#headSize) {
      this.#head.push(msg);
      return;
    }
    if (this.#tailSize === 0) return;
    this.#tail.push(msg);
    if (this.#tail.length > this.#tailSize) this.#tail.shift();
  }

  /** The kept lines as text, with the marker where lines were dropped. */
  logs(): string[] {
    const out: string[] = [];
    this.#head.appendTo(out);
    if (this.dropped > 0) out.push(droppedMarker(this.dropped));
    this.#tail.appendTo(out);
    return out;
  }
}

/**
 * Buffers of a ring: the first small (a short run's log is a few lines), each next one twice the last,
 * up to this size; those are reused as lines leave the ring. A longer line gets a buffer of its own.
 */
const FIRST_CHUNK_BYTES = 1024;
const CHUNK_BYTES = 64 * 1024;
/** Line slots per byte of a buffer. */
const BYTES_PER_LINE = 16;

interface Chunk {
  bytes: Buffer;
  /** End offset of each line written into `bytes`. */
  ends: Uint32Array;
  /** Index of the first line still in the ring, and how many were written. */
  first: number;
  written: number;
}

/** A FIFO of text lines held as UTF-8 outside the JS heap. */
class TextRing {
  readonly #chunks: Chunk[] = [];
  #spare: Chunk | null = null;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: measure exactly only when that bound may not fit.
    let last = this.#chunks.at(-1);
    const bound = text.length * 3;
    const start = last && last.written > 0 ? last.ends[last.written - 1]! : 0;
    if (!last || last.written === last.ends.length || (start + bound > last.bytes.length && start + Buffer.byteLength(text) > last.bytes.length)) {
      last = this.#newChunk(Buffer.byteLength(text), last ? Math.min(last.bytes.length * 2, CHUNK_BYTES) : FIRST_CHUNK_BYTES);
      this.#chunks.push(last);
    }
    const from = last.written > 0 ? last.ends[last.written - 1]! : 0;
    last.ends[last.written] = from + last.bytes.write(text, from, 'utf8');
    last.written += 1;
    this.#length += 1;
  }

  shift(): void {
    const first = this.#chunks[0];
    if (!first) return;
    first.first += 1;
    this.#length -= 1;
    if (first.first === first.written) {
      this.#chunks.shift();
      if (first.bytes.length === CHUNK_BYTES) this.#spare = first;
    }
  }

  appendTo(out: string[]): void {
    for (const chunk of this.#chunks) {
      for (let i = chunk.first; i < chunk.written; i++) out.push(chunk.bytes.toString('utf8', i === 0 ? 0 : chunk.ends[i - 1], chunk.ends[i]));
    }
  }

  #newChunk(bytes: number, size: number): Chunk {
    const spare = this.#spare;
    if (spare && bytes <= CHUNK_BYTES) {
      this.#spare = null;
      spare.first = 0;
      spare.written = 0;
      return spare;
    }
    return { bytes: Buffer.allocUnsafeSlow(Math.max(size, bytes)), ends: new Uint32Array(size / BYTES_PER_LINE), first: 0, written: 0 };
  }
}

/** The log as text lines, with a marker where lines were dropped (a gap in sequence numbers). */
export function linesWithMarkers(lines: readonly LogLine[]): string[] {
  const out: string[] = [];
  let previous = 0;
  for (const line of lines) {
    if (line.seq > previous + 1) out.push(droppedMarker(line.seq - previous - 1));
    out.push(line.msg);
    previous = line.seq;
  }
  return out;
}

export function droppedMarker(count: number): string {
  return `… ${count} lines dropped (the log keeps its first and last lines) …`;
}

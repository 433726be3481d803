/**
 * The lines of one run kept in memory: the first `head` lines and the last `tail` lines. A run that
 * logs a million lines keeps at most head + tail of them, here and (see LiveRun) in the database; the
 * gap in sequence numbers between the two is where lines were dropped.
 */
import type { LogLine } from './run-repository.js';

export class LogBuffer {
  readonly #head: LogLine[] = [];
  readonly #tail: LogLine[];
  readonly #headSize: number;
  readonly #tailSize: number;
  #tailStart = 0;
  #count = 0;

  constructor(maxLines: number) {
    this.#headSize = Math.ceil(maxLines / 2);
    this.#tailSize = Math.floor(maxLines / 2);
    this.#tail = [];
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

  push(line: LogLine): void {
    this.#count += 1;
    if (this.#head.length < this.#headSize) {
      this.#head.push(line);
      return;
    }
    if (this.#tailSize === 0) return;
    if (this.#tail.length < this.#tailSize) {
      this.#tail.push(line);
      return;
    }
    this.#tail[this.#tailStart] = line;
    this.#tailStart = (this.#tailStart + 1) % this.#tailSize;
  }

  /** The kept lines in order. */
  lines(): LogLine[] {
    return [...this.#head, ...this.#tail.slice(this.#tailStart), ...this.#tail.slice(0, this.#tailStart)];
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

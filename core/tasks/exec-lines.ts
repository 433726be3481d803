/**
 * Turns the bytes a child process writes into log lines as they arrive: UTF-8 decoded across chunk
 * boundaries (invalid bytes become U+FFFD), split on `\n`, with `\r` rewriting the line as on a
 * terminal. Only the last state of a rewritten line is a log line; the states before it are reported
 * as rewrites, so a task can follow a progress bar without flooding its log. Memory stays bounded: a
 * line is cut while it is still arriving, to `maxLineLength` characters with its marker.
 */
import { StringDecoder } from 'node:string_decoder';

export interface LineSink {
  /** A finished line (the last state of a `\r`-rewritten one). */
  line(text: string): void;
  /** An intermediate state of a line that a `\r` is about to rewrite. */
  rewrite?(text: string): void;
}

/**
 * Control characters other than tab and ESC (which carries the ANSI colours) are binary garbage in a
 * log line: shown as U+FFFD rather than stored raw.
 */
const GARBAGE = /[\u0000-\u0008\u000b\u000c\u000e-\u001a\u001c-\u001f\u007f]/g;

export class LineSplitter {
  readonly #decoder = new StringDecoder('utf8');
  readonly #max: number;
  readonly #sink: LineSink;
  /** The current line since its last `\r`, at most `#max` characters. */
  #segment = '';
  /** Characters of the current segment dropped past `#max`. */
  #cut = 0;
  /** A `\r` was the last character seen: a `\n` next makes it a CRLF line end, anything else a rewrite. */
  #pendingCr = false;

  constructor(maxLineLength: number, sink: LineSink) {
    this.#max = maxLineLength;
    this.#sink = sink;
  }

  write(chunk: Buffer | string): void {
    this.#scan(typeof chunk === 'string' ? chunk : this.#decoder.write(chunk));
  }

  /** The stream ended: a last line without a newline is still a line. */
  end(): void {
    this.#scan(this.#decoder.end());
    if (this.#segment !== '' || this.#cut > 0) this.#emitLine();
    this.#pendingCr = false;
  }

  #scan(text: string): void {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch !== 10 && ch !== 13) continue;
      this.#append(text, start, i);
      start = i + 1;
      if (ch === 10) {
        this.#pendingCr = false;
        this.#emitLine();
      } else {
        // `\r\r` rewrites nothing yet: only text after it does.
        this.#pendingCr = true;
      }
    }
    this.#append(text, start, text.length);
  }

  #append(text: string, from: number, to: number): void {
    if (from === to) return;
    this.#resolveCr();
    const room = this.#max - this.#segment.length;
    if (room >= to - from) {
      this.#segment += text.slice(from, to);
      return;
    }
    if (room > 0) this.#segment += text.slice(from, from + room);
    this.#cut += to - from - Math.max(room, 0);
  }

  /** A `\r` followed by more text (not `\n`): the line so far was an intermediate state. */
  #resolveCr(): void {
    if (!this.#pendingCr) return;
    this.#pendingCr = false;
    this.#sink.rewrite?.(this.#text());
    this.#segment = '';
    this.#cut = 0;
  }

  #emitLine(): void {
    const text = this.#text();
    this.#segment = '';
    this.#cut = 0;
    this.#sink.line(text);
  }

  #text(): string {
    const text = this.#segment.replace(GARBAGE, '\uFFFD');
    if (this.#cut === 0) return text;
    // The whole line, marker included, fits in `#max`: the run's log would cut it again otherwise.
    const total = text.length + this.#cut;
    let kept = this.#max;
    for (let i = 0; i < 3; i++) kept = Math.max(0, this.#max - marker(total - kept).length);
    // Never end on half a surrogate pair.
    if (/[\uD800-\uDBFF]/.test(text[kept - 1] ?? '')) kept -= 1;
    return `${text.slice(0, kept)}${marker(total - kept)}`;
  }
}

/** The same marker as a cut `ctx.log` line. */
function marker(cut: number): string {
  return ` … [${cut} characters truncated]`;
}

/**
 * Server-to-client WebSocket text frames (RFC 6455 §5.2: FIN, opcode 1, no mask), built by taskdeck
 * rather than by `ws`: `ws.send` frames one message for one socket, while a run's lines go to every
 * watcher, so each line is encoded and framed once and the same bytes are written to each socket.
 */
import { ansiToHtml } from '../http/ansi-html.js';
import type { LogLine } from '../tasks/run-repository.js';

export interface Frames {
  bytes: Buffer;
  /** Byte offset where each frame starts. */
  starts: number[];
}

/** The frames of several messages, back to back in one buffer (from `into`, when it returns one that is large enough). */
export function textFrames(payloads: readonly string[], into?: (size: number) => Buffer | null): Frames {
  const lengths = payloads.map((payload) => Buffer.byteLength(payload));
  const total = lengths.reduce((sum, n) => sum + headerSize(n) + n, 0);
  const bytes = into?.(total)?.subarray(0, total) ?? Buffer.allocUnsafe(total);
  const starts: number[] = [];
  let at = 0;
  for (const [i, payload] of payloads.entries()) {
    starts.push(at);
    at = writeHeader(bytes, at, lengths[i]!);
    at += bytes.write(payload, at, 'utf8');
  }
  return { bytes, starts };
}

/**
 * The JSON of one `output` envelope, as `JSON.stringify(msg.output(...))` writes it, built from its
 * parts: it runs for every line, and most lines' HTML is their text (nothing to escape).
 */
export function outputJson(runId: string, line: LogLine): string {
  const html = ansiToHtml(line.msg);
  const text = JSON.stringify(line.msg);
  return `{"channel":${JSON.stringify(runId)},"cmd":"output","param":{"seq":${line.seq},"msg":${text},"html":${html === line.msg ? text : JSON.stringify(html)},"stream":${JSON.stringify(line.stream)}}}`;
}

function headerSize(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}

function writeHeader(bytes: Buffer, at: number, length: number): number {
  bytes[at] = 0x81;
  if (length < 126) {
    bytes[at + 1] = length;
    return at + 2;
  }
  if (length < 65_536) {
    bytes[at + 1] = 126;
    bytes.writeUInt16BE(length, at + 2);
    return at + 4;
  }
  bytes[at + 1] = 127;
  bytes.writeUInt32BE(Math.floor(length / 2 ** 32), at + 2);
  bytes.writeUInt32BE(length >>> 0, at + 6);
  return at + 10;
}

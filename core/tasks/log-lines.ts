/** How what a task logs becomes stored lines. */
import { inspect } from 'node:util';

/** Joins log parts like `console.log` would, but never treats `%` in a message as a format directive. */
export function formatLogParts(parts: readonly unknown[]): string {
  return parts.map((part) => (typeof part === 'string' ? part : inspect(part, { depth: 4, breakLength: Infinity }))).join(' ');
}

/**
 * Splits a message into lines. A carriage return rewrites its line, as on a terminal, so a progress bar
 * drawn with `\r` keeps only its last state. One trailing newline does not make an extra empty line.
 */
export function splitLogLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 1 && lines.at(-1) === '') lines.pop();
  return lines.map(lastCarriageReturnSegment);
}

function lastCarriageReturnSegment(line: string): string {
  const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
  const cut = trimmed.lastIndexOf('\r');
  return cut === -1 ? trimmed : trimmed.slice(cut + 1);
}

export function capLineLength(line: string, max: number): string {
  if (line.length <= max) return line;
  return `${line.slice(0, max)} … [${line.length - max} characters truncated]`;
}

/**
 * One U+FFFD per lone surrogate. SQLite would otherwise receive invalid UTF-8 (WTF-8 bytes) and hand
 * back three U+FFFD, so history would differ from what the live stream showed.
 */
export function wellFormed(text: string): string {
  return /\p{Surrogate}/u.test(text) ? text.replace(/\p{Surrogate}/gu, '\uFFFD') : text;
}

/** Keyset pagination cursors: opaque to clients, validated on the way back in. */
import { badRequest } from '../errors.js';

export function encodeCursor(num: number): string {
  return Buffer.from(`n${num}`).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^n([1-9][0-9]{0,15})$/.exec(text);
  if (!match) throw badRequest(`parameter "cursor": expected a cursor from a previous page, got "${cursor.slice(0, 64)}"`);
  return Number(match[1]);
}

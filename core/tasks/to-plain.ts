/**
 * Normalises anything a task may return into JSON-safe data (plain objects, arrays, strings, finite
 * numbers, booleans, null), so every response format can render it and the store can persist it.
 * Never throws: a part that cannot be read becomes a marker string instead.
 */

/** Deeper values are replaced by this marker; it also bounds recursion (no stack overflow). */
export const MAX_DEPTH = 64;

export const CIRCULAR = '[Circular]';
export const TOO_DEEP = '[Too deep]';

/**
 * Levels a response may wrap around data that was normalised on its own (a run's `data` sits inside
 * the Result, inside a page, inside the debug envelope): serialising a page allows MAX_DEPTH plus these,
 * so stored data comes back as stored instead of losing its deepest level to the envelope.
 */
export const ENVELOPE_DEPTH = 16;

export function toPlain(value: unknown, maxDepth = MAX_DEPTH): unknown {
  const plain = convert(value, 0, [], '', maxDepth);
  return plain === undefined ? null : plain;
}

/** `undefined` means "drop it" (in an object) or null (in an array), as JSON.stringify does. */
function convert(value: unknown, depth: number, ancestors: object[], key: string, maxDepth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return plainNumber(value);
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return null;
  const object = value as object;
  if (depth > maxDepth) return TOO_DEEP;
  // Only ancestors count: the same object reached twice along different paths is copied twice.
  if (ancestors.includes(object)) return CIRCULAR;
  ancestors.push(object);
  try {
    return convertObject(object, depth, ancestors, key, maxDepth);
  } catch (error) {
    return unserializable(error);
  } finally {
    ancestors.pop();
  }
}

function convertObject(object: object, depth: number, ancestors: object[], key: string, maxDepth: number): unknown {
  if (Array.isArray(object)) return convertArray(object, depth, ancestors, maxDepth);
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? null : object.toISOString();
  if (ArrayBuffer.isView(object)) return bytes(object.buffer, object.byteOffset, object.byteLength);
  if (object instanceof ArrayBuffer || object instanceof SharedArrayBuffer) return bytes(object, 0, object.byteLength);
  const toJSON: unknown = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    const replaced: unknown = toJSON.call(object, key);
    // A toJSON returning `this` would recurse forever; read the object's own properties instead.
    if (replaced !== object) return convert(replaced, depth + 1, ancestors, key, maxDepth);
    return convertRecord(object, depth, ancestors, maxDepth);
  }
  if (object instanceof Map) return convertMap(object, depth, ancestors, maxDepth);
  if (object instanceof Set) return convertArray([...object], depth, ancestors, maxDepth);
  if (object instanceof Error) return { name: String(object.name), message: String(object.message) };
  if (object instanceof String || object instanceof Boolean) return object.valueOf();
  if (object instanceof Number) return plainNumber(object.valueOf());
  if (object instanceof BigInt) return object.toString();
  if (object instanceof RegExp) return String(object);
  return convertRecord(object, depth, ancestors, maxDepth);
}

function convertArray(array: readonly unknown[], depth: number, ancestors: object[], maxDepth: number): unknown[] {
  const out = new Array<unknown>(array.length);
  for (let i = 0; i < array.length; i++) {
    const item = convert(read(array, i), depth + 1, ancestors, String(i), maxDepth);
    out[i] = item === undefined ? null : item;
  }
  return out;
}

function convertRecord(object: object, depth: number, ancestors: object[], maxDepth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(object)) {
    const item = convert(read(object, key), depth + 1, ancestors, key, maxDepth);
    if (item !== undefined) setOwn(out, key, item);
  }
  return out;
}

function convertMap(map: Map<unknown, unknown>, depth: number, ancestors: object[], maxDepth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [rawKey, rawValue] of map) {
    const key = mapKey(rawKey);
    const item = convert(rawValue, depth + 1, ancestors, key, maxDepth);
    if (item !== undefined) setOwn(out, key, item);
  }
  return out;
}

function mapKey(key: unknown): string {
  if (typeof key === 'string') return key;
  try {
    return typeof key === 'object' && key !== null ? JSON.stringify(toPlain(key)) : String(key);
  } catch (error) {
    return unserializable(error);
  }
}

/** A property read may run a getter (or a Proxy trap) that throws; `convert` itself never throws. */
function read(source: object, key: string | number): unknown {
  try {
    return (source as Record<string | number, unknown>)[key];
  } catch (error) {
    return unserializable(error);
  }
}

/** A JSON object of plain data (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `out.__proto__ = x` would set the prototype instead of adding a key. */
export function setOwn(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    out[key] = value;
  }
}

function plainNumber(value: number): number | string {
  if (Number.isFinite(value)) return value === 0 ? 0 : value; // -0 prints as 0 everywhere
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

function bytes(buffer: ArrayBufferLike, offset: number, length: number): { type: 'Buffer'; base64: string } {
  return { type: 'Buffer', base64: Buffer.from(buffer, offset, length).toString('base64') };
}

function unserializable(error: unknown): string {
  let message: string;
  try {
    message = error instanceof Error ? String(error.message) : String(error);
  } catch {
    message = 'unreadable error';
  }
  return `[Unserializable: ${message}]`;
}

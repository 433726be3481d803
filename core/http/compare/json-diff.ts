/**
 * A structural diff of two JSON values (what `JSON.parse` gives): the paths where they differ, as
 * `items[2].name`. Objects are compared by key (their order does not matter), arrays index by index.
 * An unchanged subtree produces no entry: it is only counted, so the caller can show it collapsed.
 *
 * `undefined` stands for "absent" (a key missing on one side, or a run without data), and is never
 * the same as `null`: `{x: null}` against `{}` is `x` removed, with `a: null`.
 */

export type JsonChange = 'added' | 'removed' | 'changed';

/** One difference. `a` is absent on an `added` entry, `b` on a `removed` one. */
export interface JsonDiffEntry {
  path: string;
  change: JsonChange;
  a?: unknown;
  b?: unknown;
}

export interface JsonDiff {
  /** The differences, depth first, in the order of `a`'s keys and then `b`'s extra keys; at most `maxEntries`. */
  entries: JsonDiffEntry[];
  /** How many differences there are in all (more than `entries.length` when truncated). */
  total: number;
  /** Leaves (scalars and empty containers) equal on both sides. */
  unchanged: number;
  truncated: boolean;
}

export interface JsonDiffOptions {
  /** Stop recording entries past this many (they are still counted). Default 1,000. */
  maxEntries?: number;
}

type Kind = 'absent' | 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object' | 'other';

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function diffJson(a: unknown, b: unknown, options: JsonDiffOptions = {}): JsonDiff {
  const maxEntries = options.maxEntries ?? 1000;
  if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new TypeError(`diffJson: maxEntries must be a non-negative integer, got ${maxEntries}`);
  const out: JsonDiff = { entries: [], total: 0, unchanged: 0, truncated: false };
  const record = (entry: JsonDiffEntry): void => {
    out.total += 1;
    if (out.entries.length < maxEntries) out.entries.push(entry);
    else out.truncated = true;
  };
  walk(a, b, '', record, (n) => (out.unchanged += n));
  return out;
}

/** Deep equality of two JSON values, with object key order ignored. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  const ka = kindOf(a);
  if (ka !== kindOf(b)) return false;
  if (ka === 'array') {
    const x = a as unknown[];
    const y = b as unknown[];
    return x.length === y.length && x.every((item, i) => jsonEqual(item, y[i]));
  }
  if (ka === 'object') {
    const x = a as Record<string, unknown>;
    const y = b as Record<string, unknown>;
    const keys = Object.keys(x);
    return keys.length === Object.keys(y).length && keys.every((k) => Object.hasOwn(y, k) && jsonEqual(x[k], y[k]));
  }
  return Object.is(a, b) || a === b;
}

/** `parent.key`, `parent["odd key"]`, `parent[3]`; the root is the empty string. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (IDENTIFIER.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

function walk(a: unknown, b: unknown, path: string, record: (entry: JsonDiffEntry) => void, same: (leaves: number) => void): void {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === 'absent' && kb === 'absent') return;
  if (ka === 'absent') return record({ path, change: 'added', b });
  if (kb === 'absent') return record({ path, change: 'removed', a });
  if (ka !== kb) return record({ path, change: 'changed', a, b });
  if (ka === 'array') {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length === 0 && y.length === 0) return same(1);
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      // An index past the end of one array is absent there (a hole in JSON does not exist).
      walk(i < x.length ? x[i] : undefined, i < y.length ? y[i] : undefined, childPath(path, i), record, same);
    }
    return;
  }
  if (ka === 'object') {
    const x = a as Record<string, unknown>;
    const y = b as Record<string, unknown>;
    // Own keys only, read as own properties: a key named `__proto__` is data, never the prototype.
    const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
    if (keys.size === 0) return same(1);
    for (const key of keys) walk(ownValue(x, key), ownValue(y, key), childPath(path, key), record, same);
    return;
  }
  if (Object.is(a, b) || a === b) return same(1);
  record({ path, change: 'changed', a, b });
}

function ownValue(object: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function kindOf(value: unknown): Kind {
  if (value === undefined) return 'absent';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return 'number';
    case 'string':
      return 'string';
    case 'object':
      return 'object';
    default:
      return 'other';
  }
}

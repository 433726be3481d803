/** Reads history filters from the query string; the same names appear in the URL of the filter form. */
import { badRequest } from '../errors.js';
import type { RunFilter } from '../tasks/run-repository.js';
import { RUN_STATUSES, type RunStatus } from '../tasks/types.js';
import { buildQuery, first, type QueryValues } from './parse-query.js';

/** Longer search text is refused: nobody types it, and every word costs an FTS phrase. */
export const MAX_SEARCH_LENGTH = 500;
/** `arg.<name>` query keys filter on an argument's value. */
export const ARG_PREFIX = 'arg.';

export interface RunListForm {
  task: string;
  status: string;
  run: string;
  tag: string;
  since: string;
  until: string;
  q: string;
  minMs: string;
  maxMs: string;
  /** The argument filters, in query order. */
  args: { name: string; value: string }[];
}

export interface RunListQuery {
  filter: RunFilter;
  cursor: string | null;
  limit: number;
  /** The client asked for one page (`cursor` or `limit` given): data formats then answer that page, not an export. */
  paged: boolean;
  /** The raw filter values, to fill the form back in. */
  form: RunListForm;
}

export function parseRunListQuery(query: QueryValues): RunListQuery {
  const filter: RunFilter = {};
  const task = list(query, 'task');
  if (task.length) filter.task = task;
  const status = list(query, 'status');
  for (const s of status) {
    if (!(RUN_STATUSES as readonly string[]).includes(s)) throw badRequest(`parameter "status": expected one of ${RUN_STATUSES.join(', ')}, got "${s.slice(0, 50)}"`, invalid('status', `expected one of ${RUN_STATUSES.join(', ')}`));
  }
  if (status.length) filter.status = status as RunStatus[];
  const label = list(query, 'run');
  if (label.length) filter.label = label;
  const tag = list(query, 'tag');
  if (tag.length) filter.tag = tag;
  const since = first(query, 'since');
  if (since) filter.since = parseInstant('since', since);
  const until = first(query, 'until');
  if (until) filter.until = parseInstant('until', until);

  const q = (first(query, 'q') ?? '').trim();
  if (q.length > MAX_SEARCH_LENGTH) throw badRequest(`parameter "q": expected at most ${MAX_SEARCH_LENGTH} characters, got ${q.length}`, invalid('q', `at most ${MAX_SEARCH_LENGTH} characters`));
  // FTS5 fails on NUL (and there is nothing to find with control characters): refuse before any row streams.
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(q)) throw badRequest('parameter "q": control characters cannot be searched', invalid('q', 'control characters cannot be searched'));
  if (q) filter.q = q;

  const minMs = first(query, 'minMs') ?? '';
  const maxMs = first(query, 'maxMs') ?? '';
  if (minMs) filter.minElapsedUs = parseMillis('minMs', minMs);
  if (maxMs) filter.maxElapsedUs = parseMillis('maxMs', maxMs);
  if (filter.minElapsedUs !== undefined && filter.maxElapsedUs !== undefined && filter.maxElapsedUs < filter.minElapsedUs) {
    throw badRequest(`parameter "maxMs": expected at least minMs (${minMs}), got "${maxMs}"`, invalid('maxMs', 'expected at least minMs'));
  }
  if (minMs || maxMs) {
    // A running run has no duration yet (its elapsed reads 0): a duration range never matches it.
    const finished = (filter.status ?? RUN_STATUSES).filter((s) => s !== 'running');
    if (finished.length === 0) throw badRequest('parameter "status": a running run has no duration yet; drop status=running or the duration range (minMs, maxMs)', invalid('status', 'running runs have no duration'));
    filter.status = [...finished];
  }

  // No prototype: `arg.__proto__=x` is a filter on an argument of that name, not a prototype write.
  const args: Record<string, string> = Object.create(null) as Record<string, string>;
  const argList: RunListForm['args'] = [];
  for (const [key, value] of Object.entries(query)) {
    if (!key.startsWith(ARG_PREFIX) || key.length === ARG_PREFIX.length) continue;
    // One value per argument: `arg.x=a&arg.x=b` would silently drop a filter (a run's x is one value).
    if (Array.isArray(value)) throw badRequest(`parameter "${key.slice(0, 80)}": expected one value, got ${value.length}`, invalid(key, 'expected one value'));
    const name = key.slice(ARG_PREFIX.length);
    args[name] = value;
    argList.push({ name, value });
  }
  if (argList.length) filter.args = args;

  const limitText = first(query, 'limit');
  let limit = 50;
  if (limitText !== undefined && limitText !== '') {
    if (!/^[0-9]{1,4}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 500) throw badRequest(`parameter "limit": expected an integer from 1 to 500, got "${limitText.slice(0, 50)}"`, invalid('limit', 'expected an integer from 1 to 500'));
    limit = Number(limitText);
  }
  const cursor = first(query, 'cursor') || null;
  return {
    filter,
    cursor,
    limit,
    paged: cursor !== null || (limitText !== undefined && limitText !== ''),
    form: { task: task.join(','), status: status.join(','), run: label.join(','), tag: tag.join(','), since: since ?? '', until: until ?? '', q, minMs, maxMs, args: argList },
  };
}

/** The history URL's query without one argument filter (the "remove" link of its chip); also drops the page cursor. */
export function queryWithoutArg(query: QueryValues, name: string): string {
  const rest: QueryValues = Object.create(null) as QueryValues;
  for (const [key, value] of Object.entries(query)) if (key !== ARG_PREFIX + name && key !== 'cursor') rest[key] = value;
  return buildQuery(rest);
}

function list(query: QueryValues, key: string): string[] {
  const value = query[key];
  const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return values.filter((v) => v !== '');
}

function invalid(name: string, reason: string): { invalid_params: { name: string; reason: string }[] } {
  return { invalid_params: [{ name, reason }] };
}

/** Milliseconds as a plain non-negative decimal (`250`, `1.5`), rounded to the microseconds history records. */
function parseMillis(name: 'minMs' | 'maxMs', text: string): number {
  const expected = 'expected a non-negative number of milliseconds';
  if (!/^[0-9]{1,12}(\.[0-9]{1,20})?$/.test(text)) throw badRequest(`parameter "${name}": ${expected}, got "${text.slice(0, 50)}"`, invalid(name, expected));
  return Math.round(Number(text) * 1000);
}

/** ISO 8601 (no offset = UTC, as a datetime-local input sends it) or unix milliseconds. */
function parseInstant(name: string, text: string): number {
  if (/^[0-9]{1,13}$/.test(text)) return Number(text);
  const ms = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(text) ? Date.parse(text.length === 10 ? `${text}T00:00:00Z` : `${text}Z`) : Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms)) throw badRequest(`parameter "${name}": expected an ISO 8601 date or date-time, or unix milliseconds, got "${text.slice(0, 50)}"`, invalid(name, 'expected an ISO 8601 date or date-time, or unix milliseconds'));
  return ms;
}

/** Reads history filters from the query string; the same names appear in the URL of the filter form. */
import { badRequest } from '../errors.js';
import type { RunFilter } from '../tasks/run-repository.js';
import { RUN_STATUSES, type RunStatus } from '../tasks/types.js';
import { first, type QueryValues } from './parse-query.js';

export interface RunListQuery {
  filter: RunFilter;
  cursor: string | null;
  limit: number;
  /** The client asked for one page (`cursor` or `limit` given): data formats then answer that page, not an export. */
  paged: boolean;
  /** The raw filter values, to fill the form back in. */
  form: { task: string; status: string; run: string; tag: string; since: string; until: string };
}

export function parseRunListQuery(query: QueryValues): RunListQuery {
  const filter: RunFilter = {};
  const task = list(query, 'task');
  if (task.length) filter.task = task;
  const status = list(query, 'status');
  for (const s of status) {
    if (!(RUN_STATUSES as readonly string[]).includes(s)) throw badRequest(`parameter "status": expected one of ${RUN_STATUSES.join(', ')}, got "${s.slice(0, 50)}"`);
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
  // No prototype: `arg.__proto__=x` is a filter on an argument of that name, not a prototype write.
  const args: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of Object.entries(query)) {
    if (key.startsWith('arg.') && key.length > 4) args[key.slice(4)] = Array.isArray(value) ? (value[0] ?? '') : value;
  }
  if (Object.keys(args).length) filter.args = args;
  const limitText = first(query, 'limit');
  let limit = 50;
  if (limitText !== undefined && limitText !== '') {
    if (!/^[0-9]{1,4}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 500) throw badRequest(`parameter "limit": expected an integer from 1 to 500, got "${limitText.slice(0, 50)}"`);
    limit = Number(limitText);
  }
  const cursor = first(query, 'cursor') || null;
  return {
    filter,
    cursor,
    limit,
    paged: cursor !== null || (limitText !== undefined && limitText !== ''),
    form: { task: task.join(','), status: status.join(','), run: label.join(','), tag: tag.join(','), since: since ?? '', until: until ?? '' },
  };
}

function list(query: QueryValues, key: string): string[] {
  const value = query[key];
  const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return values.filter((v) => v !== '');
}

/** ISO 8601 (no offset = UTC, as a datetime-local input sends it) or unix milliseconds. */
function parseInstant(name: string, text: string): number {
  if (/^[0-9]{1,13}$/.test(text)) return Number(text);
  const ms = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(text) ? Date.parse(text.length === 10 ? `${text}T00:00:00Z` : `${text}Z`) : Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms)) throw badRequest(`parameter "${name}": expected an ISO 8601 date or date-time, or unix milliseconds, got "${text.slice(0, 50)}"`);
  return ms;
}

/**
 * Reads `?a=ID&b=ID` or `?a=ID&previous=true`. Every problem is reported at once, by parameter name,
 * before anything is looked up (400); a well-formed id of a run that does not exist is the route's 404.
 */
import { TaskdeckError, truncate, type InvalidParam } from '../../errors.js';
import type { QueryValues } from '../parse-query.js';

/** Run ids are lower-case UUIDs (as the run routes accept them). */
export const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type CompareQuery = { a: string; b: string; previous: false } | { a: string; b: null; previous: true };

export function parseCompareQuery(query: QueryValues): CompareQuery {
  const problems: InvalidParam[] = [];
  const a = runId(query, 'a', problems);
  const previous = previousFlag(query, problems);
  let b: string | null = null;
  if (previous === true) {
    if (query.b !== undefined) problems.push({ name: 'b', reason: "not allowed with previous=true (b is then the previous run of a's task)" });
  } else if (previous === false) {
    b = runId(query, 'b', problems);
  }
  if (problems.length) {
    const message = problems.map((p) => `parameter "${p.name}": ${p.reason}`).join('; ');
    throw new TaskdeckError('ERR_INVALID_REQUEST', `cannot compare runs: ${message}`, { status: 400, details: { invalid_params: problems } });
  }
  return previous ? { a: a!, b: null, previous: true } : { a: a!, b: b!, previous: false };
}

function runId(query: QueryValues, name: string, problems: InvalidParam[]): string | null {
  const value = query[name];
  const hint = name === 'b' ? ' (or previous=true)' : '';
  if (value === undefined || value === '') {
    problems.push({ name, reason: `expected a run id${hint}, got nothing` });
    return null;
  }
  if (Array.isArray(value)) {
    problems.push({ name, reason: `expected one run id, got ${value.length} values` });
    return null;
  }
  if (!RUN_ID.test(value)) {
    problems.push({ name, reason: `expected a run id (a lower-case UUID), got "${truncate(value, 64)}"` });
    return null;
  }
  return value;
}

/** null when the value is not valid (then whether `b` is needed is unknown, so it is not checked). */
function previousFlag(query: QueryValues, problems: InvalidParam[]): boolean | null {
  const value = query.previous;
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  const shown = Array.isArray(value) ? `${value.length} values` : `"${truncate(value, 20)}"`;
  problems.push({ name: 'previous', reason: `expected "true" or "false", got ${shown}` });
  return null;
}

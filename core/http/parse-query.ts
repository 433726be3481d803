/**
 * Parses a raw query string into arguments. Unlike Koa's parser it refuses (instead of silently
 * truncating) more than MAX_PARAMS parameters, and refuses malformed percent-encoding.
 */
import { badRequest } from '../errors.js';

export const MAX_PARAMS = 1000;

export type QueryValues = Record<string, string | string[]>;

export function parseQuery(querystring: string): QueryValues {
  const out: QueryValues = Object.create(null) as QueryValues;
  if (!querystring) return out;
  const pairs = querystring.split('&');
  if (pairs.length > MAX_PARAMS) throw badRequest(`too many parameters: at most ${MAX_PARAMS}, got ${pairs.length}`);
  for (const pair of pairs) {
    if (pair === '') continue;
    const cut = pair.indexOf('=');
    const key = decode(cut === -1 ? pair : pair.slice(0, cut));
    const value = cut === -1 ? '' : decode(pair.slice(cut + 1));
    const existing = out[key];
    if (existing === undefined) out[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[key] = [existing, value];
  }
  return out;
}

const NEEDS_DECODING = /[%+]/;

function decode(text: string): string {
  // Most keys and values are plain (`format=json`): no regex replace, no decoder call.
  if (!NEEDS_DECODING.test(text)) return text;
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch (error) {
    throw badRequest(`malformed URL encoding in the query string near "${text.slice(0, 40)}"`, { cause: String(error) });
  }
}

/** The first value of a parameter, or undefined. */
export function first(values: QueryValues, key: string): string | undefined {
  const value = values[key];
  return Array.isArray(value) ? value[0] : value;
}

/** Builds a query string from values (repeated keys for lists), skipping empty lists. */
export function buildQuery(values: Record<string, string | string[] | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, item);
  }
  return params.toString();
}

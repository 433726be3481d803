import { badRequest, truncate } from '../../errors.js';

/**
 * Which representation a request asks for. The query parameter `t` wins over `format`; `format` is not
 * a response format when the task declares a field of that name; with neither, the first media type
 * of `Accept` decides; otherwise HTML. Values match exactly (lower case); an unknown value is refused
 * with 400, so a caller validating before it runs a task never runs one for a response it cannot give.
 */

export type Format = 'json' | 'csv' | 'xml' | 'yaml' | 'debug' | 'html';

export interface FormatQuery {
  t?: string | string[];
  format?: string | string[];
}

export interface SelectFormatOptions {
  /** The task declares a field named `format`: that parameter is the task's, not the response's. */
  formatIsTaskField: boolean;
}

const PARAMETER_VALUES: Readonly<Record<string, Format>> = {
  html: 'html',
  json: 'json',
  csv: 'csv',
  xml: 'xml',
  yaml: 'yaml',
  yml: 'yaml',
  debug: 'debug',
};

const MEDIA_TYPES: Readonly<Record<string, Format>> = {
  'application/json': 'json',
  'text/json': 'json',
  'text/csv': 'csv',
  'application/xml': 'xml',
  'text/xml': 'xml',
  'application/x-yaml': 'yaml',
  'application/yaml': 'yaml',
  'text/yaml': 'yaml',
  'text/plain': 'debug',
};

export const CONTENT_TYPES: Readonly<Record<Exclude<Format, 'html'>, string>> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
  yaml: 'application/yaml; charset=utf-8',
  debug: 'application/json; charset=utf-8',
};

export function selectFormat(query: FormatQuery, accept: string | undefined, options: SelectFormatOptions): Format {
  const t = firstValue(query.t);
  if (t) return parameterFormat('t', t);
  const format = options.formatIsTaskField ? '' : firstValue(query.format);
  if (format) return parameterFormat('format', format);
  return acceptFormat(accept);
}

/**
 * A repeated parameter counts by its first occurrence, as `URLSearchParams.get` (and the original's
 * `url.Values.Get`) read it; the later ones are ignored, not validated.
 */
function firstValue(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

function parameterFormat(name: 't' | 'format', value: string): Format {
  const format = Object.hasOwn(PARAMETER_VALUES, value) ? PARAMETER_VALUES[value] : undefined;
  if (format) return format;
  const expected = Object.keys(PARAMETER_VALUES).filter((v) => v !== 'yml').join(', ');
  throw badRequest(`parameter "${name}": expected one of ${expected}, got ${JSON.stringify(truncate(value, 100))}`, {
    invalid_params: [{ name, reason: `expected one of ${expected}` }],
  });
}

/** Only the first entry counts, and only an exact media type: `*\/*` or a browser's list means HTML. */
function acceptFormat(accept: string | undefined): Format {
  if (!accept) return 'html';
  const first = accept.split(',', 1)[0] ?? '';
  const mediaType = (first.split(';', 1)[0] ?? '').trim().toLowerCase();
  return Object.hasOwn(MEDIA_TYPES, mediaType) ? (MEDIA_TYPES[mediaType] ?? 'html') : 'html';
}

const EXTENSIONS: Readonly<Record<Format, string>> = {
  json: '.json',
  csv: '.csv',
  xml: '.xml',
  yaml: '.yaml',
  debug: '.debug.json',
  html: '.html',
};

/**
 * A file name for `download=true`: `tasks.json`, `run-<id>.csv`. The base keeps only `[A-Za-z0-9._-]`
 * (other runs become `_`), never starts with a dot (no hidden files) and is at most 100 characters.
 */
export function downloadFilename(base: string, format: Format): string {
  const safe = base
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(0, 100);
  return `${safe || 'export'}${EXTENSIONS[format]}`;
}

export function contentDisposition(filename: string): string {
  // Re-sanitised here too: a quote or a control character would break out of the header value.
  const safe = filename.replace(/[^\x20-\x7E]|["\\]/g, '_');
  return `attachment; filename="${safe}"`;
}

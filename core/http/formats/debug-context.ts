import { ENVELOPE_DEPTH, MAX_DEPTH, setOwn, toPlain } from '../../tasks/to-plain.js';

/**
 * The body of `?format=debug`: what the server saw of the request, and the page's data. Unlike the
 * original, credentials never echo back: a debug page is exactly what gets pasted into a bug report.
 */

export const REDACTED = '[redacted]';

const SECRET_HEADERS: ReadonlySet<string> = new Set([
  'cookie',
  'authorization',
  'proxy-authorization',
  'set-cookie',
  'x-taskdeck-token',
]);

const SECRET_PARAMS: ReadonlySet<string> = new Set(['token']);

export interface DebugInput {
  method: string;
  url: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  data: unknown;
  action: string;
}

export interface DebugContext {
  action: string;
  request: {
    method: string;
    url: string;
    path: string;
    query: Record<string, unknown>;
    headers: Record<string, string | string[]>;
  };
  data: unknown;
}

export function debugContext(input: DebugInput): DebugContext {
  return {
    action: input.action,
    request: {
      method: input.method,
      url: redactUrl(input.url),
      path: input.path,
      query: redactQuery(input.query),
      headers: redactHeaders(input.headers),
    },
    data: toPlain(input.data, MAX_DEPTH + ENVELOPE_DEPTH),
  };
}

function redactHeaders(headers: DebugInput['headers']): DebugContext['request']['headers'] {
  const out: DebugContext['request']['headers'] = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    setOwn(out, name, SECRET_HEADERS.has(name.toLowerCase()) ? REDACTED : value);
  }
  return out;
}

function redactQuery(query: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(query)) {
    setOwn(out, name, SECRET_PARAMS.has(name.toLowerCase()) ? REDACTED : toPlain(value));
  }
  return out;
}

/** The raw query string, pair by pair: names are compared decoded (`%74oken` is `token` too). */
function redactUrl(url: string): string {
  const mark = url.indexOf('?');
  if (mark < 0) return url;
  const hash = url.indexOf('#', mark);
  const end = hash < 0 ? url.length : hash;
  const pairs = url.slice(mark + 1, end).split('&').map((pair) => {
    const equals = pair.indexOf('=');
    const name = equals < 0 ? pair : pair.slice(0, equals);
    return SECRET_PARAMS.has(decodeName(name).toLowerCase()) ? `${name}=${REDACTED}` : pair;
  });
  return `${url.slice(0, mark + 1)}${pairs.join('&')}${url.slice(end)}`;
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

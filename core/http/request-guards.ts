/**
 * Checks that protect the routes that change state (run, start, remove, cancel) from being triggered
 * by another site, a prefetch, a HEAD request or an image tag. They read only request headers, so the
 * HTTP routes and the WebSocket upgrade share them.
 *
 * With a token configured, an HTTP request signed in by the session cookie (not by Bearer) must also
 * carry `Sec-Fetch-Site: same-origin` to change state: a browser on one of our pages always sends it
 * (to https and loopback origins), while a script replaying a copied cookie, a link opened from another
 * app (`none`) or a browser too old for Fetch Metadata does not. The access gate marks such requests
 * (`markCookieSession`), so every route that calls `checkStateChange` applies the rule without knowing
 * about auth. (A WebSocket handshake carries no Fetch Metadata in Chromium: there the required Origin
 * plays that part.)
 */
import type { IncomingHttpHeaders } from 'node:http';
import { TaskdeckError } from '../errors.js';

/** Destinations a navigation, a fetch or a WebSocket may have; `image`, `script`, `iframe`... may not. */
const ALLOWED_DESTS = new Set(['document', 'empty', 'websocket']);
const ALLOWED_SITES = new Set(['same-origin', 'none']);

/**
 * Requests signed in by the session cookie alone, keyed by their header object (one per request:
 * `ctx.headers` is `req.headers`); weak, so nothing outlives its request.
 */
const cookieSessions = new WeakSet<IncomingHttpHeaders>();

export function markCookieSession(headers: IncomingHttpHeaders): void {
  cookieSessions.add(headers);
}

export interface GuardInput {
  method: string;
  headers: IncomingHttpHeaders;
  /** Whether the HTTP server listens on loopback only (then the Host header must name loopback). */
  loopbackOnly: boolean;
}

/** DNS-rebinding guard: a loopback-bound server answers only to loopback host names. */
export function checkHost(input: GuardInput): void {
  if (!input.loopbackOnly) return;
  const host = (input.headers.host ?? '').toLowerCase();
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
  if (name === 'localhost' || name === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name ?? '')) return;
  throw new TaskdeckError('ERR_MISDIRECTED', `host "${host.slice(0, 100)}" is not served here: use 127.0.0.1 or localhost`, { status: 421 });
}

/** Refuses anything but a deliberate, same-origin (or typed-in) GET of a state-changing route. */
export function checkStateChange(input: GuardInput): void {
  const h = input.headers;
  if (input.method !== 'GET') {
    throw new TaskdeckError('ERR_METHOD_NOT_ALLOWED', `method ${input.method} is not allowed on this route: use GET`, { status: 405, headers: { Allow: 'GET' } });
  }
  const purpose = `${header(h, 'sec-purpose')} ${header(h, 'purpose')} ${header(h, 'x-moz')} ${header(h, 'x-purpose')}`.toLowerCase();
  if (/prefetch|prerender|preview/.test(purpose)) {
    throw new TaskdeckError('ERR_PREFETCH', 'prefetch and prerender requests do not run tasks', { status: 503, expose: true, headers: { 'Cache-Control': 'no-store' } });
  }
  const site = header(h, 'sec-fetch-site');
  if (site && !ALLOWED_SITES.has(site)) {
    throw forbidden(`cross-site request refused (Sec-Fetch-Site: ${site.slice(0, 40)})`);
  }
  const dest = header(h, 'sec-fetch-dest');
  if (dest && !ALLOWED_DESTS.has(dest)) {
    throw forbidden(`request refused: this route cannot be loaded as ${dest.slice(0, 40)}`);
  }
  const origin = header(h, 'origin');
  if (origin && !sameOrigin(origin, h.host)) {
    throw forbidden(`cross-origin request refused (Origin: ${origin.slice(0, 100)})`);
  }
  if (cookieSessions.has(h) && site !== 'same-origin') {
    throw forbidden(`a session cookie changes state only from taskdeck's own pages (Sec-Fetch-Site: same-origin, got ${site ? site.slice(0, 40) : 'none sent'}): open the page and use its form, or send Authorization: Bearer`);
  }
}

/**
 * The login form's POST: a browser names where it came from, and it must be here. A client sending
 * neither header is not a browser, and could as well send the token as Bearer.
 */
export function checkSameOriginPost(headers: IncomingHttpHeaders): void {
  const site = header(headers, 'sec-fetch-site');
  if (site && site !== 'same-origin') throw forbidden(`cross-site form refused (Sec-Fetch-Site: ${site.slice(0, 40)})`);
  const origin = header(headers, 'origin');
  if (origin && !sameOrigin(origin, headers.host)) throw forbidden(`cross-origin form refused (Origin: ${origin.slice(0, 100)})`);
}

/**
 * The WebSocket upgrade must come from one of our own pages (browsers always send Origin). A client
 * signed in with `Authorization: Bearer` is not a browser page: it may leave Origin out (`bearer`).
 */
export function checkWebSocketOrigin(headers: IncomingHttpHeaders, options: { bearer?: boolean } = {}): void {
  const origin = header(headers, 'origin');
  if (!origin && options.bearer) return;
  if (!origin) throw forbidden('WebSocket refused: the Origin header is missing');
  if (!sameOrigin(origin, headers.host)) throw forbidden(`WebSocket refused: foreign Origin ${origin.slice(0, 100)}`);
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host.toLowerCase() === (host ?? '').toLowerCase();
  } catch {
    return false;
  }
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

function forbidden(message: string): TaskdeckError {
  return new TaskdeckError('ERR_FORBIDDEN', message, { status: 403 });
}

/**
 * Who may use the admin, decided once per kernel:
 * - `open`: no token and no hook; the server listens on loopback only (config refuses anything else).
 * - `token`: `config.token`, as `Authorization: Bearer <token>` or as the session cookie the login form
 *   gives (never in the URL).
 * - `hook`: the host application's `authorize(ctx)` (and `authorizeUpgrade(req)`) replace the token.
 * `identify` says who is asking and never refuses by itself: the gate (HTTP) and the live hub
 * (WebSocket) decide the answer, in the format the request asked for.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import { TaskdeckError } from '../errors.js';
import { FailureLimiter, type FailureLimiterOptions } from './auth-limiter.js';
import { SESSION_COOKIE, SessionSigner, bearerToken, cookieValues, tokensEqual, type Session } from './auth-token.js';

/** Gets the host app's Koa context when the admin is mounted (its session, its `ctx.state`), else taskdeck's. */
export type AuthorizeHook = (ctx: Context) => boolean | Promise<boolean>;
/** Gets the raw upgrade request (no Koa middleware ran on it): read its cookies or headers. */
export type AuthorizeUpgradeHook = (req: IncomingMessage) => boolean | Promise<boolean>;

export type AccessMode = 'open' | 'token' | 'hook';

export interface Granted {
  ok: true;
  via: 'open' | 'bearer' | 'cookie' | 'hook';
  /** The session of a cookie (for logout). */
  session?: Session;
}

export interface Refused {
  ok: false;
  reason: 'missing' | 'bad-token' | 'bad-session' | 'rate-limited' | 'hook' | 'token-in-url';
  retryAfterMs?: number;
}

export type AccessOutcome = Granted | Refused;

export interface AdminAccess {
  readonly mode: AccessMode;
  identify(ctx: Context): Promise<AccessOutcome>;
  /** `contextOf` makes a Koa context of the upgrade request, for an `authorize` hook without `authorizeUpgrade`. */
  identifyUpgrade(req: IncomingMessage, contextOf: () => Context): Promise<AccessOutcome>;
}

export interface AccessOptions {
  token?: string;
  authorize?: AuthorizeHook;
  authorizeUpgrade?: AuthorizeUpgradeHook;
  logger?: Logger;
  now?: () => number;
  sessionMaxAgeMs?: number;
  limiter?: FailureLimiterOptions;
}

const OPEN: Granted = Object.freeze({ ok: true, via: 'open' });

/** The hook when given, else the token when set, else open. */
export function createAccess(options: AccessOptions): AdminAccess {
  if (options.authorizeUpgrade && !options.authorize) throw new TypeError('authorizeUpgrade needs authorize too: the HTTP pages would be unprotected');
  if (options.authorize) {
    if (typeof options.authorize !== 'function') throw new TypeError(`authorize: expected a function, got ${typeof options.authorize}`);
    return new HookAccess(options.authorize, options.authorizeUpgrade);
  }
  if (options.token) {
    if (options.token.length < 16) options.logger?.warn('the token is shorter than 16 characters: a longer random one (openssl rand -hex 32) resists guessing');
    return new TokenAccess(options.token, options);
  }
  return { mode: 'open', identify: async () => OPEN, identifyUpgrade: async () => OPEN };
}

export class TokenAccess implements AdminAccess {
  readonly mode = 'token' as const;
  readonly sessions: SessionSigner;
  readonly #token: string;
  readonly #limiter: FailureLimiter;

  constructor(token: string, options: Omit<AccessOptions, 'token'> = {}) {
    this.#token = token;
    this.sessions = new SessionSigner(token, { maxAgeMs: options.sessionMaxAgeMs, now: options.now });
    this.#limiter = new FailureLimiter({ now: options.now, ...options.limiter });
  }

  async identify(ctx: Context): Promise<AccessOutcome> {
    return this.identifyHeaders(ctx.headers, ctx.ip);
  }

  async identifyUpgrade(req: IncomingMessage): Promise<AccessOutcome> {
    if (this.urlHasToken(req.url ?? '/')) return { ok: false, reason: 'token-in-url' };
    return this.identifyHeaders(req.headers, req.socket.remoteAddress ?? '');
  }

  /**
   * Whether a path segment or a query value of a URL is the token: never accepted there (URLs end up in
   * logs, history and Referer), and refused before anything could echo it back (an error naming a bad
   * parameter value, a page's format links).
   */
  urlHasToken(url: string): boolean {
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    const parts = path.split('/').map(safeDecode);
    if (mark >= 0) for (const [name, value] of new URLSearchParams(url.slice(mark + 1))) parts.push(name, value);
    // Every part is compared (no early exit), each in constant time.
    return parts.reduce((found, part) => tokensEqual(part, this.#token) || found, false);
  }

  /** A Bearer header decides alone (right or wrong); otherwise any valid session cookie. */
  identifyHeaders(headers: IncomingHttpHeaders, address: string): AccessOutcome {
    const bearer = bearerToken(headers.authorization);
    if (bearer !== null) {
      const check = this.#checkToken(bearer, address);
      return check.ok ? { ok: true, via: 'bearer' } : check;
    }
    const values = cookieValues(headers.cookie, SESSION_COOKIE);
    for (const value of values) {
      const session = this.sessions.verify(value);
      if (session) return { ok: true, via: 'cookie', session };
    }
    return { ok: false, reason: values.length ? 'bad-session' : 'missing' };
  }

  /** The login form: the right token gives a new session (its cookie value); a wrong one counts as a guess. */
  signIn(token: string, address: string): { ok: true; value: string; session: Session } | Refused {
    const check = this.#checkToken(token, address);
    return check.ok ? { ok: true, ...this.sessions.issue() } : check;
  }

  #checkToken(token: string, address: string): { ok: true } | Refused {
    const wait = this.#limiter.blockedFor(address);
    if (wait > 0) return { ok: false, reason: 'rate-limited', retryAfterMs: wait };
    if (tokensEqual(token, this.#token)) return { ok: true };
    this.#limiter.fail(address);
    return { ok: false, reason: 'bad-token' };
  }
}

class HookAccess implements AdminAccess {
  readonly mode = 'hook' as const;
  readonly #authorize: AuthorizeHook;
  readonly #authorizeUpgrade: AuthorizeUpgradeHook | undefined;

  constructor(authorize: AuthorizeHook, authorizeUpgrade?: AuthorizeUpgradeHook) {
    this.#authorize = authorize;
    this.#authorizeUpgrade = authorizeUpgrade;
  }

  async identify(ctx: Context): Promise<AccessOutcome> {
    // Only exactly `true` lets in: a hook returning a user object or a truthy string by mistake fails closed.
    const allowed = await withHostContext(ctx, (context) => this.#authorize(context));
    return allowed === true ? { ok: true, via: 'hook' } : { ok: false, reason: 'hook' };
  }

  async identifyUpgrade(req: IncomingMessage, contextOf: () => Context): Promise<AccessOutcome> {
    try {
      const allowed = this.#authorizeUpgrade ? await this.#authorizeUpgrade(req) : await this.#authorize(contextOf());
      return allowed === true ? { ok: true, via: 'hook' } : { ok: false, reason: 'hook' };
    } catch (error) {
      // `ctx.throw(401)` in a hook: its status and message, as on the HTTP routes.
      const status = (error as { status?: unknown })?.status;
      if (typeof status === 'number' && status >= 400 && status < 500 && (error as { expose?: unknown }).expose !== false) {
        throw new TaskdeckError(status === 401 ? 'ERR_UNAUTHORIZED' : 'ERR_FORBIDDEN', (error as Error).message || 'refused', { status, cause: error });
      }
      throw error;
    }
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** How a host app's request reaches the admin: its context, and its URL before the prefix was taken off. */
export interface MountState {
  mount?: { context: Context; url: string };
}

/** The host app's context when the admin is mounted, else taskdeck's own. */
export function hostContextOf(ctx: Context): Context {
  return (ctx.state as MountState).mount?.context ?? ctx;
}

/**
 * Runs `fn` with the host's context as the host sees it: while the admin runs, the shared request's
 * URL lacks the prefix (the admin routes on it), so it is put back for the call.
 */
async function withHostContext<T>(ctx: Context, fn: (context: Context) => T | Promise<T>): Promise<T> {
  const mount = (ctx.state as MountState).mount;
  if (!mount) return fn(ctx);
  const inner = ctx.req.url;
  ctx.req.url = mount.url;
  try {
    return await fn(mount.context);
  } finally {
    ctx.req.url = inner;
  }
}

/** What a refused request gets: 401 with a Bearer challenge, 429 while guessing is blocked, 403 from a hook. */
export function refusal(outcome: Refused, base: string): TaskdeckError {
  const login = `${base}/admin/login`;
  switch (outcome.reason) {
    case 'hook':
      return new TaskdeckError('ERR_FORBIDDEN', 'access refused by the host application', { status: 403, headers: { 'Cache-Control': 'no-store' } });
    case 'rate-limited': {
      const seconds = Math.max(1, Math.ceil((outcome.retryAfterMs ?? 60_000) / 1000));
      return new TaskdeckError('ERR_RATE_LIMITED', `too many wrong tokens from this address: try again in ${seconds} s`, {
        status: 429,
        headers: { 'Retry-After': String(seconds), 'Cache-Control': 'no-store' },
      });
    }
    case 'token-in-url':
      return tokenInUrl(base);
    case 'bad-token':
      return unauthorized('the bearer token is not valid', 'Bearer realm="taskdeck", error="invalid_token"');
    case 'bad-session':
      return unauthorized(`the session has expired or is not valid: sign in again at ${login}`);
    case 'missing':
      return unauthorized(`authentication required: send "Authorization: Bearer <token>", or sign in at ${login}`);
  }
}

export function tokenInUrl(base: string): TaskdeckError {
  return unauthorized(`a token in the URL is not accepted (URLs end up in logs and browser history): send "Authorization: Bearer <token>", or sign in at ${base}/admin/login`);
}

function unauthorized(message: string, challenge = 'Bearer realm="taskdeck"'): TaskdeckError {
  return new TaskdeckError('ERR_UNAUTHORIZED', message, { status: 401, headers: { 'WWW-Authenticate': challenge, 'Cache-Control': 'no-store' } });
}

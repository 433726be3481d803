/**
 * Credentials: the configured token compared in constant time, and the session a browser holds
 * instead of the token (an HMAC-signed id with an expiry, in an HttpOnly cookie).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'taskdeck_session';
/** A session lasts 12 hours from the login; then the browser signs in again. */
export const SESSION_MAX_AGE_MS = 12 * 3_600_000;

/**
 * Whether a presented token is the configured one. Both sides are hashed to 32 bytes first:
 * `timingSafeEqual` needs equal lengths, and then the time taken says nothing about the token's
 * length or about how much of a guess matched.
 */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** The credentials of `Authorization: Bearer <token>`; null for no header or another scheme (Basic from a proxy). */
export function bearerToken(authorization: string | undefined): string | null {
  // `Bearer` alone (Node trims the value) is an attempt with an empty token: refused, not ignored.
  const match = /^bearer(?:[ \t]+(.*))?$/is.exec(authorization ?? '');
  return match ? (match[1] ?? '').trim() : null;
}

/** Every value of a cookie in a `Cookie` header (a browser may hold one per path). */
export function cookieValues(header: string | string[] | undefined, name: string): string[] {
  const text = Array.isArray(header) ? header.join('; ') : (header ?? '');
  const values: string[] = [];
  for (const pair of text.split(';')) {
    const equals = pair.indexOf('=');
    if (equals < 0 || pair.slice(0, equals).trim() !== name) continue;
    values.push(pair.slice(equals + 1).trim().replace(/^"(.*)"$/, '$1'));
  }
  return values;
}

export interface CookieScope {
  /** `<base>/admin`: the cookie goes only to the admin's own paths, not to a host app's other routes. */
  path: string;
  /** Set when the request came over https (or a trusted proxy said so). */
  secure: boolean;
}

export function sessionCookie(value: string, scope: CookieScope, maxAgeMs = SESSION_MAX_AGE_MS): string {
  return `${SESSION_COOKIE}=${value}; Path=${scope.path}; Max-Age=${Math.floor(maxAgeMs / 1000)}; HttpOnly; SameSite=Strict${scope.secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(scope: CookieScope): string {
  return `${SESSION_COOKIE}=; Path=${scope.path}; Max-Age=0; HttpOnly; SameSite=Strict${scope.secure ? '; Secure' : ''}`;
}

export interface Session {
  id: string;
  /** Epoch milliseconds. */
  expires: number;
}

export interface SessionSignerOptions {
  maxAgeMs?: number;
  now?: () => number;
}

const SESSION_VALUE = /^v1\.([0-9a-z]{1,11})\.([A-Za-z0-9_-]{24})\.([A-Za-z0-9_-]{43})$/;

/**
 * Issues and checks session values `v1.<expiry>.<random id>.<HMAC-SHA256>`. The key is derived from
 * the token, so sessions survive a restart and all end when the token changes; a value never
 * contains the token. Logging out revokes the session's id until it would have expired anyway.
 */
export class SessionSigner {
  readonly #key: Buffer;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #revoked = new Map<string, number>();

  constructor(token: string, options: SessionSignerOptions = {}) {
    if (!token) throw new TypeError('SessionSigner needs a non-empty token');
    this.#key = createHmac('sha256', token).update('taskdeck session key v1').digest();
    this.#maxAgeMs = options.maxAgeMs ?? SESSION_MAX_AGE_MS;
    this.#now = options.now ?? Date.now;
  }

  get maxAgeMs(): number {
    return this.#maxAgeMs;
  }

  issue(): { value: string; session: Session } {
    const expires = Math.ceil((this.#now() + this.#maxAgeMs) / 1000) * 1000;
    const id = randomBytes(18).toString('base64url');
    const payload = `v1.${(expires / 1000).toString(36)}.${id}`;
    return { value: `${payload}.${this.#sign(payload)}`, session: { id, expires } };
  }

  /** The session of a cookie value, or null when it is malformed, forged, expired or logged out. */
  verify(value: string): Session | null {
    const match = SESSION_VALUE.exec(value);
    if (!match) return null;
    const payload = value.slice(0, value.lastIndexOf('.'));
    const expected = Buffer.from(this.#sign(payload));
    const given = Buffer.from(match[3]!);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    const expires = parseInt(match[1]!, 36) * 1000;
    if (!(expires > this.#now()) || this.#revoked.has(match[2]!)) return null;
    return { id: match[2]!, expires };
  }

  revoke(session: Session): void {
    const now = this.#now();
    for (const [id, expires] of this.#revoked) if (expires <= now) this.#revoked.delete(id);
    this.#revoked.set(session.id, session.expires);
  }

  #sign(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url');
  }
}

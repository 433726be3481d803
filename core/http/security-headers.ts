/** Headers on every response: a strict CSP with a per-request nonce, no framing, no sniffing, no CORS. */
import { randomFillSync } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { RequestState } from './http-context.js';

const NONCE_BYTES = 16;

/**
 * Nonces cut from a buffer of random bytes refilled 256 nonces at a time: one `randomBytes(16)` per
 * request cost more than the rest of this middleware. Each byte is used once, so every nonce is still
 * 128 fresh bits from the CSPRNG.
 */
class NoncePool {
  readonly #pool = Buffer.alloc(NONCE_BYTES * 256);
  #offset = this.#pool.length;

  next(): string {
    if (this.#offset === this.#pool.length) {
      randomFillSync(this.#pool);
      this.#offset = 0;
    }
    const nonce = this.#pool.toString('base64', this.#offset, this.#offset + NONCE_BYTES);
    this.#offset += NONCE_BYTES;
    return nonce;
  }
}

const FIXED_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export function securityHeaders(): (ctx: Context, next: Next) => Promise<void> {
  const nonces = new NoncePool();
  return async (ctx, next) => {
    const nonce = nonces.next();
    (ctx.state as RequestState).nonce = nonce;
    const res = ctx.res;
    res.setHeader('Content-Security-Policy', `default-src 'self'; script-src 'self' 'nonce-${nonce}'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`);
    for (const name in FIXED_HEADERS) res.setHeader(name, FIXED_HEADERS[name]!);
    await next();
  };
}

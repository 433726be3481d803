/** Headers on every response: a strict CSP with a per-request nonce, no framing, no sniffing, no CORS. */
import { randomBytes } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { RequestState } from './http-context.js';

export async function securityHeaders(ctx: Context, next: Next): Promise<void> {
  const nonce = randomBytes(16).toString('base64');
  (ctx.state as RequestState).nonce = nonce;
  ctx.set({
    'Content-Security-Policy': `default-src 'self'; script-src 'self' 'nonce-${nonce}'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'same-origin',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  });
  await next();
}

/**
 * The login form of token mode: `GET /admin/login` (the page), `POST /admin/login` (the one POST route:
 * the token in a small url-encoded body, from our own page only; a right token sets the session
 * cookie), `GET /admin/logout` (ends the session, clears the cookie). They sit before the access gate.
 */
import type { Context, Next } from 'koa';
import { TaskdeckError } from '../errors.js';
import { hostContextOf, refusal, type TokenAccess } from './auth-access.js';
import { cookieScope, identified, loginHref, safeNext } from './auth-gate.js';
import { clearedSessionCookie, sessionCookie } from './auth-token.js';
import type { HttpDeps } from './http-context.js';
import { first } from './parse-query.js';
import { checkSameOriginPost, checkStateChange } from './request-guards.js';
import { respond, state } from './respond.js';

/** A token, a `next` path and their names fit in far less; anything bigger is not our form. */
const MAX_FORM_BYTES = 8 * 1024;

export function loginRoutes(deps: HttpDeps, access: TokenAccess) {
  const { base } = deps;

  const showLogin = async (ctx: Context, next: string, error = '', status = 200): Promise<void> => {
    await respond(ctx, deps, {
      view: 'login',
      title: 'Sign in',
      crumbs: [{ label: 'Sign in' }],
      locals: { action: `${base}/admin/login`, next, error },
      data: { authenticated: false, login: `${base}/admin/login` },
      root: 'login',
      filename: 'login',
      status,
      formatLinks: false,
    });
  };

  const page = async (ctx: Context): Promise<void> => {
    state(ctx).action = 'auth.login';
    ctx.set('Cache-Control', 'no-store');
    const next = safeNext(first(state(ctx).query, 'next'), base);
    const who = await identified(ctx, access);
    if (!who.ok) return showLogin(ctx, next);
    if (state(ctx).format === 'html') {
      ctx.status = 303;
      return ctx.redirect(next);
    }
    await respond(ctx, deps, { view: 'login', title: 'Sign in', locals: {}, data: { authenticated: true, via: who.via }, root: 'login', filename: 'login', formatLinks: false });
  };

  const submit = async (ctx: Context): Promise<void> => {
    state(ctx).action = 'auth.login';
    ctx.set('Cache-Control', 'no-store');
    checkSameOriginPost(ctx.headers);
    if (!ctx.is('application/x-www-form-urlencoded')) {
      throw new TaskdeckError('ERR_INVALID_REQUEST', 'the login form is sent as application/x-www-form-urlencoded', { status: 415 });
    }
    const form = await readForm(ctx);
    const next = safeNext(form.get('next'), base);
    const result = access.signIn(form.get('token') ?? '', ctx.ip);
    if (!result.ok) {
      if (state(ctx).format === 'html' && result.reason === 'bad-token') {
        ctx.set('WWW-Authenticate', 'Bearer realm="taskdeck"');
        return showLogin(ctx, next, 'That token is not right.', 401);
      }
      throw refusal(result, base);
    }
    ctx.append('Set-Cookie', sessionCookie(result.value, cookieScope(ctx, deps), access.sessions.maxAgeMs));
    if (state(ctx).format === 'html') {
      ctx.status = 303;
      return ctx.redirect(next);
    }
    await respond(ctx, deps, { view: 'login', title: 'Signed in', locals: {}, data: { authenticated: true, next }, root: 'login', filename: 'login', formatLinks: false });
  };

  const logout = async (ctx: Context): Promise<void> => {
    state(ctx).action = 'auth.logout';
    // A GET that changes something: the same guards as run and cancel (no prefetch, no other site).
    checkStateChange({ method: ctx.method, headers: ctx.headers, loopbackOnly: deps.loopbackOnly });
    ctx.set('Cache-Control', 'no-store');
    const who = await identified(ctx, access);
    if (who.ok && who.session) access.sessions.revoke(who.session);
    ctx.append('Set-Cookie', clearedSessionCookie(cookieScope(ctx, deps)));
    if (state(ctx).format === 'html') {
      ctx.status = 303;
      return ctx.redirect(loginHref(base));
    }
    await respond(ctx, deps, { view: 'login', title: 'Signed out', locals: {}, data: { authenticated: false, signed_out: true }, root: 'logout', filename: 'logout', formatLinks: false });
  };

  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.path === '/admin/login') {
      if (ctx.method === 'GET' || ctx.method === 'HEAD') return page(ctx);
      if (ctx.method === 'POST') return submit(ctx);
      throw new TaskdeckError('ERR_METHOD_NOT_ALLOWED', `method ${ctx.method.slice(0, 20)} is not allowed on this route: use GET or POST`, { status: 405, headers: { Allow: 'GET, HEAD, POST' } });
    }
    if (ctx.path === '/admin/logout') return logout(ctx);
    await next();
  };
}

/** The url-encoded body, at most 8 KiB. A host app's body parser may have read it already: then its result. */
async function readForm(ctx: Context): Promise<URLSearchParams> {
  if (ctx.req.readableEnded) {
    const parsed = (hostContextOf(ctx).request as { body?: unknown }).body;
    const form = new URLSearchParams();
    if (parsed && typeof parsed === 'object') {
      for (const [name, value] of Object.entries(parsed)) if (typeof value === 'string') form.append(name, value);
    }
    return form;
  }
  const tooLarge = () => new TaskdeckError('ERR_INVALID_REQUEST', `the login form is larger than ${MAX_FORM_BYTES} bytes`, { status: 413, headers: { Connection: 'close' } });
  if (Number(ctx.get('Content-Length') || 0) > MAX_FORM_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * The access gate of the HTTP routes. Public: the static files (served before the gate), the login and
 * logout routes (before it too), `/` and `/favicon.ico` (redirects). Everything else needs access:
 * a browser opening a page is sent to the login form (303, `?next=` back here); anything else gets the
 * refusal in the format it asked for (401 with `WWW-Authenticate: Bearer`, 429, or 403 from a hook).
 */
import type { Context, Next } from 'koa';
import type { HttpDeps, RequestState } from './http-context.js';
import { TokenAccess, refusal, tokenInUrl, type AccessOutcome, type AdminAccess } from './auth-access.js';
import { bearerToken, clearedSessionCookie, type CookieScope } from './auth-token.js';
import { markCookieSession } from './request-guards.js';
import { selectFormat } from './formats/select-format.js';

const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/', '/favicon.ico']);
/** A `next` longer than this is dropped (the login form would carry it in a hidden field). */
const MAX_NEXT_LENGTH = 2048;

interface AccessState {
  access?: AccessOutcome;
}

/** Who this request is, asked once and remembered for the request (the gate, the login page, the layout). */
export async function identified(ctx: Context, access: AdminAccess): Promise<AccessOutcome> {
  const s = ctx.state as AccessState;
  s.access ??= await access.identify(ctx);
  return s.access;
}

/** Whether the request got in: pages show internals (the plugin failure banner) only then. */
export function isSignedIn(ctx: Context): boolean {
  return (ctx.state as AccessState).access?.ok === true;
}

/** A browser signed in by the login form (it gets a "Sign out" link). */
export function hasSession(ctx: Context): boolean {
  const access = (ctx.state as AccessState).access;
  return access?.ok === true && access.via === 'cookie';
}

/**
 * Before anything reads the request: open mode lets everyone in at once (so even an early error page
 * is as before); token mode refuses a URL that carries the token, before an error message or a page's
 * links could echo it back.
 */
export function earlyAccess(access: AdminAccess, base: string) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (access.mode === 'open') (ctx.state as AccessState).access = { ok: true, via: 'open' };
    if (access instanceof TokenAccess && access.urlHasToken(ctx.url)) {
      // Answered in the format asked for when `t`/`format` is valid (the query is not parsed yet).
      const params = new URLSearchParams(ctx.querystring);
      try {
        (ctx.state as RequestState).format = selectFormat({ t: params.get('t') ?? undefined, format: params.get('format') ?? undefined }, ctx.get('Accept') || undefined, { formatIsTaskField: false });
      } catch {
        // An invalid one: the error funnel falls back to the Accept header.
      }
      throw tokenInUrl(base);
    }
    await next();
  };
}

export function accessGate(deps: HttpDeps, access: AdminAccess) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (PUBLIC_PATHS.has(ctx.path)) return next();
    const outcome = await identified(ctx, access);
    if (outcome.ok) {
      if (outcome.via === 'cookie') markCookieSession(ctx.headers);
      // What a signed-in client gets is for it alone (pages already say no-store; exports did not).
      if (access.mode !== 'open') ctx.set('Cache-Control', 'no-store');
      return next();
    }
    if (outcome.reason === 'bad-session') ctx.append('Set-Cookie', clearedSessionCookie(cookieScope(ctx, deps)));
    const query = (ctx.state as RequestState).query;
    // Refused, never redirected: the token would ride along in `next` and land in the login form.
    if (access.mode === 'token' && Object.hasOwn(query, 'token')) throw tokenInUrl(deps.base);
    if (access.mode === 'token' && outcome.reason !== 'rate-limited' && opensPage(ctx)) {
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 303;
      ctx.redirect(loginHref(deps.base, `${deps.base}${ctx.path}${ctx.search}`));
      return;
    }
    throw refusal(outcome, deps.base);
  };
}

/** Where the session cookie goes: the admin's own paths only (under a host app's prefix too). */
export function cookieScope(ctx: Context, deps: Pick<HttpDeps, 'base'>): CookieScope {
  return { path: `${deps.base}/admin`, secure: ctx.secure };
}

export function loginHref(base: string, next?: string): string {
  const login = `${base}/admin/login`;
  return next && next.length <= MAX_NEXT_LENGTH && next !== `${base}/admin/task` ? `${login}?next=${encodeURIComponent(next)}` : login;
}

/**
 * Where to go after signing in: a path of this admin (`<base>/admin...`), else the task list. Nothing
 * that a browser could read as another site (`//evil`, `/\evil`), no control characters, not the login
 * or logout routes themselves.
 */
export function safeNext(raw: string | undefined | null, base: string): string {
  const fallback = `${base}/admin/task`;
  if (!raw || raw.length > MAX_NEXT_LENGTH || /[\\\u0000-\u001f\u007f]/.test(raw)) return fallback;
  const admin = `${base}/admin`;
  if (!raw.startsWith(admin) || !/^(?:$|[/?#])/.test(raw.slice(admin.length))) return fallback;
  let url: URL;
  try {
    url = new URL(raw, 'http://taskdeck.invalid');
  } catch {
    return fallback;
  }
  if (url.host !== 'taskdeck.invalid' || !url.pathname.startsWith(admin)) return fallback;
  if (url.pathname === `${admin}/login` || url.pathname === `${admin}/logout`) return fallback;
  return raw;
}

/** A browser navigating to a page (not a script's fetch, not an API client, not a Bearer attempt). */
function opensPage(ctx: Context): boolean {
  if ((ctx.state as RequestState).format !== 'html') return false;
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return false;
  if (bearerToken(ctx.get('Authorization') || undefined) !== null) return false;
  const mode = ctx.get('Sec-Fetch-Mode');
  return !mode || mode === 'navigate';
}

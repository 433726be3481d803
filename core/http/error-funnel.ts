/**
 * The top of the middleware chain: every error becomes one response, in the format the request asked
 * for, with the same message in each. Internal errors are logged and shown without their details.
 */
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { TaskdeckError } from '../errors.js';
import { selectFormat } from './formats/select-format.js';
import type { HttpDeps } from './http-context.js';
import { respond, state } from './respond.js';

export function errorFunnel(deps: HttpDeps, logger: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
      if (ctx.body === undefined) {
        // ctx.path is null for a request target Node's legacy URL parser reads as a host (`//?a#b@c`).
        if (ctx.status === 404) throw new TaskdeckError('ERR_NOT_FOUND', `no page at ${(ctx.path ?? ctx.url).slice(0, 200)}`, { status: 404 });
        // The router's bare 405 and 501 (a POST to a GET route, an unknown method): same answer as any error.
        if (ctx.status === 405 || ctx.status === 501) {
          const allow = ctx.response.get('Allow');
          // expose: a 501 (a method the router does not know) would otherwise read "internal error".
          throw new TaskdeckError('ERR_METHOD_NOT_ALLOWED', `method ${ctx.method.slice(0, 20)} is not allowed on this route: use ${allow || 'GET'}`, { status: ctx.status, expose: true, headers: allow ? { Allow: allow } : {} });
        }
      }
    } catch (thrown) {
      const error = asHttpError(thrown);
      if (error.status >= 500 && !(thrown instanceof TaskdeckError)) logger.error({ err: thrown, url: ctx.url.slice(0, 500) }, 'request failed');
      for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
      const data = { status: error.status, code: error.code, message: error.message, ...error.details };
      // Failed before a format was chosen (bad query, bad format parameter): the Accept header decides.
      state(ctx).format ??= selectFormat({}, ctx.get('Accept') || undefined, { formatIsTaskField: true });
      if (!state(ctx).query) state(ctx).query = Object.create(null);
      try {
        await respond(ctx, deps, {
          view: 'error',
          title: `Error ${error.status}`,
          locals: { status: error.status, message: error.message, code: error.code },
          data,
          root: 'error',
          filename: 'error',
          status: error.status,
          formatLinks: false,
        });
      } catch (renderError) {
        logger.error({ err: renderError }, 'could not render an error page');
        ctx.status = error.status;
        ctx.type = 'text/plain; charset=utf-8';
        ctx.body = `${error.status} ${error.message}\n`;
      }
    }
  };
}

function asHttpError(thrown: unknown): TaskdeckError {
  // A hidden message keeps its headers (no-store, Retry-After): they are ours, never a client's text.
  if (thrown instanceof TaskdeckError) return thrown.expose ? thrown : new TaskdeckError(thrown.code, 'internal error', { status: thrown.status, headers: thrown.headers });
  const status = (thrown as { status?: unknown })?.status;
  const expose = (thrown as { expose?: unknown })?.expose;
  if (typeof status === 'number' && status >= 400 && status < 500 && expose !== false) {
    return new TaskdeckError('ERR_INVALID_REQUEST', (thrown as Error).message || 'bad request', { status });
  }
  return new TaskdeckError('ERR_INTERNAL', 'internal error', { status: 500, expose: true });
}

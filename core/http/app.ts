/**
 * The Koa application: one error funnel on top, then the checks every request passes, the public
 * static files, the login routes (token mode), the access gate, then the routes.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import views from 'koa-views';
import type { Logger } from 'pino';
import { badRequest } from '../errors.js';
import { compareRoutes } from './compare-routes.js';
import { analyticsRoutes } from './analytics-routes.js';
import { errorFunnel } from './error-funnel.js';
import { selectFormat } from './formats/select-format.js';
import type { HttpDeps, RequestState } from './http-context.js';
import { parseQuery } from './parse-query.js';
import { checkHost } from './request-guards.js';
import { createAccess, TokenAccess, type AdminAccess } from './auth-access.js';
import { accessGate, earlyAccess } from './auth-gate.js';
import { loginRoutes } from './auth-routes.js';
import { retentionRoutes } from './retention-routes.js';
import { runRoutes } from './run-routes.js';
import { securityHeaders } from './security-headers.js';
import { staticAssets } from './static-assets.js';
import { taskRoutes } from './task-routes.js';

export const VIEWS_FOLDER = fileURLToPath(new URL('../../views', import.meta.url));

export function createApp(deps: HttpDeps, logger: Logger, access: AdminAccess = createAccess({})): Koa {
  const app = new Koa();
  app.silent = true;
  app.on('error', (error: unknown) => logger.debug({ err: error }, 'response error'));

  app.use(errorFunnel(deps, logger));
  app.use(securityHeaders());
  app.use(views(VIEWS_FOLDER, { extension: 'pug', options: { cache: true, basedir: VIEWS_FOLDER } }));
  app.use(earlyAccess(access, deps.base));
  app.use(requestBasics(deps));
  // Public: the CSS, the browser script and the icon hold nothing secret, and the login page needs them.
  app.use(staticAssets(path.join(VIEWS_FOLDER, 'static'), '/admin/static'));
  if (access instanceof TokenAccess) app.use(loginRoutes(deps, access));
  app.use(accessGate(deps, access));

  const router = new Router();
  router.get('/', (ctx) => ctx.redirect(`${deps.base}/admin/task`));
  // Browsers ask for it on pages without an icon link (the JSON, CSV, XML and YAML views).
  router.get('/favicon.ico', (ctx) => ctx.redirect(`${deps.base}/admin/static/favicon.svg`));
  taskRoutes(router, deps);
  compareRoutes(router, deps); // before runRoutes: /admin/run/compare is not a run id
  runRoutes(router, deps);
  analyticsRoutes(router, deps);
  retentionRoutes(router, deps);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

/**
 * Host check, parsed query, the response format (validated before anything runs), then a well-formed
 * path: the format comes first so that a 400 for a bad path answers in the format the client asked for.
 */
function requestBasics(deps: HttpDeps) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const s = ctx.state as RequestState;
    s.action = 'page';
    s.query = Object.create(null) as RequestState['query'];
    checkHost({ method: ctx.method, headers: ctx.headers, loopbackOnly: deps.loopbackOnly });
    s.query = parseQuery(ctx.querystring);
    const accept = ctx.get('Accept') || undefined;
    // null for a request target Node's legacy URL parser reads as a host (`//?a#b@c`): the error funnel's 404.
    const urlPath: string | null = ctx.path;
    try {
      s.format = selectFormat({ t: s.query.t, format: s.query.format }, accept, { formatIsTaskField: false });
    } catch (error) {
      // Refused (the error funnel answers in the Accept header's format), unless the task may own
      // `format`: on a task route the route decides once it knows the task.
      if (!/^\/admin\/task\/[^/]+/.test(urlPath ?? '')) throw error;
      s.format = selectFormat({ t: s.query.t }, accept, { formatIsTaskField: true });
    }
    // Without a `%` there is nothing to decode (and nothing malformed).
    if (urlPath?.includes('%')) {
      try {
        decodeURIComponent(urlPath);
      } catch {
        throw badRequest('malformed URL encoding in the path');
      }
    }
    await next();
  };
}

/**
 * A host application embedding taskdeck: its own Koa app, its own routes and its own (fake) login,
 * with taskdeck's admin mounted under `/ops` and the live logs on the same HTTP server. The host's
 * login protects the admin through the `authorize` hooks (they replace taskdeck's token).
 *
 * Plain JavaScript run by plain `node`: `import ... from 'taskdeck'` registers tsx for taskdeck's
 * TypeScript sources by itself.
 */
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import Koa from 'koa';
import { createKernel } from 'taskdeck';

const USER_COOKIE = 'host_user';

/**
 * @param {object} [options]
 * @param {string} [options.db] the SQLite file (default: examples/host-app/data/host.db)
 * @param {string} [options.plugins] the task folder (default: examples/host-app/tasks)
 * @param {string} [options.prefix] where the admin lives (default: /ops)
 * @param {string[]} [options.admins] the users allowed into the admin (default: alice)
 * @param {string} [options.logLevel] taskdeck's log level (default: warn)
 */
export async function createHostApp(options = {}) {
  const prefix = options.prefix ?? '/ops';
  const admins = options.admins ?? ['alice'];
  /** @param {unknown} user */
  const isAdmin = (user) => typeof user === 'string' && admins.includes(user);

  const kernel = await createKernel({
    config: {
      db: options.db ?? fileURLToPath(new URL('./data/host.db', import.meta.url)),
      plugins: options.plugins ?? fileURLToPath(new URL('./tasks', import.meta.url)),
      watchPlugins: false,
      logLevel: options.logLevel ?? 'warn',
    },
    // Pages and API: the host's own middleware (below) has already put its user in ctx.state.
    authorize: (ctx) => isAdmin(ctx.state.user),
    // WebSocket upgrades bypass Koa: the same session, read from the raw request.
    authorizeUpgrade: (req) => isAdmin(cookieValue(req.headers.cookie, USER_COOKIE)),
  }).start();

  const app = new Koa();
  // The host's session. A real app verifies a signed session here; this fake one trusts a cookie.
  app.use(async (ctx, next) => {
    ctx.state.user = ctx.cookies.get(USER_COOKIE) ?? null;
    await next();
  });

  const router = new Router();
  router.get('/', (ctx) => {
    ctx.type = 'text/plain';
    ctx.body = `host app home, signed in as ${ctx.state.user ?? '(nobody)'}; the admin: ${prefix}/admin/task\n`;
  });
  // The fake login: /login?user=alice signs in as alice (no password), then goes back to `next`.
  router.get('/login', (ctx) => {
    const user = typeof ctx.query.user === 'string' ? ctx.query.user : '';
    if (!user) {
      ctx.type = 'text/plain';
      ctx.body = 'sign in with /login?user=<name>\n';
      return;
    }
    ctx.cookies.set(USER_COOKIE, user, { httpOnly: true, sameSite: 'strict' });
    ctx.redirect(localPath(ctx.query.next) ?? '/');
  });
  // The host's plain-text pages have no icon: answer the browser's automatic request.
  router.get('/favicon.ico', (ctx) => {
    ctx.status = 204;
  });
  router.get('/logout', (ctx) => {
    ctx.cookies.set(USER_COOKIE, null);
    ctx.redirect('/');
  });
  app.use(router.routes());

  // A browser that is not signed in goes to the host's login first; anything else gets the admin's
  // own answer (the hook's 403 in the format asked for).
  app.use(async (ctx, next) => {
    if (ctx.path.startsWith(`${prefix}/admin`) && !ctx.state.user && ctx.method === 'GET' && ctx.accepts(['json', 'html']) === 'html') {
      ctx.redirect(`/login?next=${encodeURIComponent(ctx.originalUrl)}`);
      return;
    }
    await next();
  });
  app.use(kernel.adminMiddleware({ prefix }));

  const server = http.createServer(app.callback());
  kernel.attachWebSocket(server, { prefix });

  return {
    app,
    kernel,
    server,
    /** Listens; resolves with the base URL (`http://127.0.0.1:<port>`). */
    listen(port = 3000, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const address = /** @type {import('node:net').AddressInfo} */ (server.address());
          resolve(`http://${host}:${address.port}`);
        });
      });
    },
    /** Stops taskdeck (runs in flight are cancelled and recorded), then the server. */
    async stop() {
      await kernel.stop();
      await new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      });
    },
  };
}

/** @param {unknown} next a same-site path, or null */
function localPath(next) {
  return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && !next.includes('\\') ? next : null;
}

/**
 * @param {string | undefined} header
 * @param {string} name
 */
function cookieValue(header, name) {
  for (const pair of (header ?? '').split(';')) {
    const [key, ...value] = pair.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return null;
}

import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { expect } from 'chai';
import Koa, { type Context } from 'koa';
import { WebSocketServer } from 'ws';
import * as index from '../../core/index.js';
import { Kernel, createKernel, type CreateKernelOptions, type TaskdeckKernel } from '../../core/index.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { openSocket } from '../helpers/ws-client.js';
import { bearer, fromOurPage, loginBody, makeToken, send, setCookies } from '../auth/auth-helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

interface Host {
  kernel: TaskdeckKernel;
  app: Koa;
  server: http.Server;
  url: string;
  /** What a host middleware above the mount saw: path and status of every response. */
  seen: { path: string; status: number }[];
  close(): Promise<void>;
}

/** A minimal host: a logging middleware, optional middleware of its own, then the admin under `prefix`. */
async function host(options: CreateKernelOptions, prefix = '/ops', before: Koa.Middleware[] = []): Promise<Host> {
  const dir = makeTempDir('taskdeck-lib-');
  const kernel = await createKernel({ ...options, config: { db: path.join(dir, 'k.db'), plugins: path.join(dir, 'plugins'), watchPlugins: false, logLevel: 'silent', ...options.config } }).start();
  kernel.registerTask({ key: 'echo', fields: [{ key: 'text', default: 'hi' }], run: ({ args, log }) => (log(String(args.text)), args.text) });
  const app = new Koa();
  const seen: Host['seen'] = [];
  app.use(async (ctx, next) => {
    await next();
    seen.push({ path: ctx.path, status: ctx.status });
  });
  for (const middleware of before) app.use(middleware);
  app.use(kernel.adminMiddleware({ prefix }));
  app.use((ctx) => {
    ctx.body = 'host fallback';
  });
  const server = http.createServer(app.callback());
  kernel.attachWebSocket(server, { prefix });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    kernel,
    app,
    server,
    url,
    seen,
    async close() {
      await kernel.stop();
      await new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      });
      removeDir(dir);
    },
  };
}

describe('library: createKernel', () => {
  it('returns a kernel to start; mounting needs it started', async () => {
    const dir = makeTempDir();
    try {
      const kernel = createKernel({ config: { db: path.join(dir, 'k.db'), plugins: dir, logLevel: 'silent' }, authorize: () => true });
      expect(kernel).to.be.instanceOf(Kernel);
      expect(() => kernel.adminMiddleware({ prefix: '/ops' })).to.throw(TypeError, /not started/);
      await kernel.start();
      expect(kernel.adminMiddleware({ prefix: '/ops' })).to.be.a('function');
      expect((await kernel.service.run(kernel.registerTask({ key: 'x', run: () => 42 }).key)).data).to.equal(42);
      await kernel.stop();
    } finally {
      removeDir(dir);
    }
  });

  it('refuses to mount an unprotected admin, and a malformed prefix', async () => {
    const dir = makeTempDir();
    const open = await createKernel({ config: { db: path.join(dir, 'a.db'), plugins: dir, logLevel: 'silent' } }).start();
    const hooked = await createKernel({ config: { db: path.join(dir, 'b.db'), plugins: dir, logLevel: 'silent' }, authorize: () => true }).start();
    try {
      expect(open.accessMode).to.equal('open');
      expect(() => open.adminMiddleware({ prefix: '/ops' })).to.throw(TypeError, /needs config\.token or an authorize hook/);
      for (const prefix of ['/ops/', 'ops', '/o ps', '/..', '/a/../b', '/a;b', '//ops']) {
        expect(() => hooked.adminMiddleware({ prefix }), prefix).to.throw(TypeError, /prefix: expected "" or a path like "\/ops"/);
      }
      expect(hooked.adminMiddleware({ prefix: '' })).to.be.a('function');
    } finally {
      await open.stop();
      await hooked.stop();
      removeDir(dir);
    }
  });

  it('is what the package exports: `import ... from "taskdeck"` resolves to core/index.ts, through package-entry.mjs', async () => {
    // The ESM entry; this test file itself runs as CommonJS under mocha + tsx, so the module instances
    // differ (in an ESM host they are one): the names are compared, not the functions.
    const pkg = (await import('taskdeck')) as typeof index;
    expect(Object.keys(pkg).sort()).to.deep.equal(Object.keys(index).sort());
    expect(pkg.createKernel.name).to.equal('createKernel');
  });
});

describe('library: a token-protected admin mounted in a host app', () => {
  const TOKEN = makeToken();
  let h: Host;
  before(async () => {
    // A host body parser that has already read the login form (as koa-bodyparser would).
    const bodyParser: Koa.Middleware = async (ctx, next) => {
      if (ctx.method === 'POST' && ctx.path === '/ops/admin/login' && ctx.get('X-Test-Parse') === 'yes') {
        let text = '';
        for await (const chunk of ctx.req) text += String(chunk);
        (ctx.request as { body?: unknown }).body = Object.fromEntries(new URLSearchParams(text));
      }
      await next();
    };
    h = await host({ config: { token: TOKEN } }, '/ops', [bodyParser]);
  });
  after(() => h.close());

  it('sends a browser to the login form under the prefix, and signs it in with a cookie scoped to /ops/admin', async () => {
    const page = await send(h.url, '/ops/admin/run');
    expect(page.status).to.equal(303);
    expect(page.headers.location).to.equal('/ops/admin/login?next=%2Fops%2Fadmin%2Frun');
    const form = await send(h.url, '/ops/admin/login?next=%2Fops%2Fadmin%2Frun');
    expect(form.body).to.include('action="/ops/admin/login"').and.include('value="/ops/admin/run"');
    const login = await send(h.url, '/ops/admin/login', { method: 'POST', headers: { ...FORM, ...fromOurPage(h.url) }, body: loginBody(TOKEN, '/ops/admin/run') });
    expect(login.status).to.equal(303);
    expect(login.headers.location).to.equal('/ops/admin/run');
    const cookie = setCookies(login)[0]!;
    expect(cookie).to.match(/; Path=\/ops\/admin; /);
    const signedIn = await send(h.url, '/ops/admin/run', { headers: { Cookie: cookie.split(';')[0]! } });
    expect(signedIn.status).to.equal(200);
    expect(signedIn.body).to.include('href="/ops/admin/logout"');
    // The host's middleware above the mount saw each answer as the admin gave it.
    expect(h.seen.filter((s) => s.path.startsWith('/ops/admin')).map((s) => s.status)).to.deep.equal([303, 200, 303, 200]);
  });

  it('reads the login form a host body parser already consumed', async () => {
    const login = await send(h.url, '/ops/admin/login?t=json', { method: 'POST', headers: { ...FORM, 'X-Test-Parse': 'yes' }, body: loginBody(TOKEN) });
    expect(login.status).to.equal(200);
    expect(JSON.parse(login.body)).to.deep.equal({ authenticated: true, next: '/ops/admin/task' });
  });

  it('takes Bearer on pages and on WebSockets through the host server', async () => {
    expect((await send(h.url, '/ops/admin/task?t=json')).status).to.equal(401);
    expect((await send(h.url, '/ops/admin/task?t=json', { headers: bearer(TOKEN) })).status).to.equal(200);
    const ws = h.url.replace(/^http/, 'ws');
    const started = await openSocket(`${ws}/ops/admin/task/echo/start?text=mounted`, { origin: null, headers: bearer(TOKEN) });
    await started.closed;
    expect(started.messages.find((m) => m.cmd === 'output')!.param.msg).to.equal('mounted');
    const refused = await openSocket(`${ws}/ops/admin/task/echo/start`).then(() => null, (e: { status?: number }) => e.status);
    expect(refused).to.equal(401);
  });

  it('falls through to the host for everything outside /ops/admin', async () => {
    for (const p of ['/', '/ops', '/ops/', '/ops/adminx', '/admin/task', '//?a#b@c']) expect((await send(h.url, p)).body, p).to.equal('host fallback');
  });
});

describe('library: authorize hooks', () => {
  it('with only `authorize`, upgrades get a Koa context made from the upgrade request (cookies, headers)', async () => {
    const calls: { path: string; hosted: boolean }[] = [];
    const h = await host({
      authorize: (ctx: Context) => {
        calls.push({ path: ctx.path, hosted: ctx.app !== undefined });
        return ctx.cookies.get('sid') === 'ok';
      },
    });
    try {
      expect((await send(h.url, '/ops/admin/task?t=json', { headers: { Cookie: 'sid=ok' } })).status).to.equal(200);
      expect((await send(h.url, '/ops/admin/task?t=json', { headers: { Cookie: 'sid=no' } })).status).to.equal(403);
      expect(calls[0]!.path, 'the host\'s context: the full path').to.equal('/ops/admin/task');
      const ws = h.url.replace(/^http/, 'ws');
      const started = await openSocket(`${ws}/ops/admin/task/echo/start`, { headers: { Cookie: 'sid=ok' } });
      await started.closed;
      expect(started.messages.some((m) => m.cmd === 'complete')).to.equal(true);
      expect(await openSocket(`${ws}/ops/admin/task/echo/start`).then(() => null, (e: { status?: number }) => e.status)).to.equal(403);
    } finally {
      await h.close();
    }
  });

  it('lets only exactly `true` in, and passes a thrown 401 on (HTTP and WebSocket)', async () => {
    const h = await host({
      authorize: ((ctx: Context) => {
        if (ctx.get('X-Mode') === 'truthy') return 'yes';
        if (ctx.get('X-Mode') === 'throw') ctx.throw(401, 'sign in at /login first');
        return ctx.get('X-Mode') === 'ok';
      }) as unknown as CreateKernelOptions['authorize'],
      authorizeUpgrade: (req) => {
        if (req.headers['x-mode'] === 'throw') throw Object.assign(new Error('sign in at /login first'), { status: 401, expose: true });
        return req.headers['x-mode'] === 'ok';
      },
    });
    try {
      expect((await send(h.url, '/ops/admin/task?t=json', { headers: { 'X-Mode': 'ok' } })).status).to.equal(200);
      expect((await send(h.url, '/ops/admin/task?t=json', { headers: { 'X-Mode': 'truthy' } })).status).to.equal(403);
      const thrown = await send(h.url, '/ops/admin/task?t=json', { headers: { 'X-Mode': 'throw' } });
      expect(thrown.status).to.equal(401);
      expect(JSON.parse(thrown.body)).to.include({ message: 'sign in at /login first' });
      const ws = h.url.replace(/^http/, 'ws');
      const refused = await openSocket(`${ws}/ops/admin/task/echo/start`, { headers: { 'X-Mode': 'throw' } }).then(() => null, (e: { status?: number; body?: string }) => e);
      expect(refused?.status).to.equal(401);
      expect(JSON.parse(refused!.body!)).to.include({ code: 'ERR_UNAUTHORIZED', message: 'sign in at /login first' });
    } finally {
      await h.close();
    }
  });

  it('standalone (listen: true), the hook gets taskdeck\'s own context', async () => {
    const dir = makeTempDir();
    const paths: string[] = [];
    const kernel = await createKernel({
      config: { db: path.join(dir, 'k.db'), plugins: dir, port: 0, logLevel: 'silent' },
      listen: true,
      authorize: (ctx) => (paths.push(ctx.path), ctx.get('X-Key') === 'k'),
    }).start();
    try {
      expect((await send(kernel.url, '/admin/task?t=json', { headers: { 'X-Key': 'k' } })).status).to.equal(200);
      expect((await send(kernel.url, '/admin/task?t=json')).status).to.equal(403);
      expect(paths).to.deep.equal(['/admin/task', '/admin/task']);
    } finally {
      await kernel.stop();
      removeDir(dir);
    }
  });
});

describe('library: attachWebSocket on a server with upgrades of its own', () => {
  it('leaves other paths to the host\'s listeners, and detaches on stop', async () => {
    const h = await host({ authorize: () => true });
    const chat = new WebSocketServer({ noServer: true });
    h.server.on('upgrade', (req, socket, head) => {
      if (req.url === '/chat') chat.handleUpgrade(req, socket, head, (ws) => ws.send('welcome'));
    });
    try {
      const ws = h.url.replace(/^http/, 'ws');
      const { default: WebSocket } = await import('ws');
      const client = new WebSocket(`${ws}/chat`);
      expect(await new Promise((resolve, reject) => client.once('message', (m) => resolve(String(m))).once('error', reject))).to.equal('welcome');
      client.close();
      expect(h.kernel.attachWebSocket(h.server, { prefix: '/ops' }), 'attached once').to.be.a('function');
      expect(h.server.listenerCount('upgrade')).to.equal(2);
      const admin = await openSocket(`${ws}/ops/admin/task/echo/start`);
      await admin.closed;
      expect(admin.messages.some((m) => m.cmd === 'complete')).to.equal(true);
      await h.kernel.stop();
      expect(h.server.listenerCount('upgrade'), 'only the host\'s own listener is left').to.equal(1);
    } finally {
      chat.close();
      await h.close();
    }
  });
});

describe('library: a plain JavaScript host run by plain node (no --import tsx)', () => {
  it('starts the example host app, serves the admin under /ops and stops on SIGTERM', async function () {
    this.timeout(30_000);
    const dir = makeTempDir();
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !k.startsWith('TASKDECK_')));
    const child = spawn(process.execPath, ['examples/host-app/server.mjs'], { cwd: ROOT, env: { ...env, PORT: '0', DB: path.join(dir, 'host.db') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (match) resolve(match[1]!);
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}${stderr}`)));
      });
      expect((await send(url, '/')).status).to.equal(200);
      expect((await send(url, '/ops/admin/task?t=json')).status).to.equal(403);
      const tasks = JSON.parse((await send(url, '/ops/admin/task?t=json', { headers: { Cookie: 'host_user=alice' } })).body) as { key: string }[];
      expect(tasks.map((t) => t.key)).to.deep.equal(['greet']);
      child.kill('SIGTERM');
      expect(await new Promise((resolve) => child.once('exit', resolve))).to.equal(0);
      expect(stderr).to.equal('');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      removeDir(dir);
    }
  });
});

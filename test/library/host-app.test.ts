import { expect } from 'chai';
import WebSocket from 'ws';
import { openSocket } from '../helpers/ws-client.js';
import { decodeEntities } from '../http/http-client.js';
import { send } from '../auth/auth-helpers.js';
import { ALICE, bootHostApp, type BootedHost } from './host-app-fixture.js';

/** Every same-site URL a page points to (links, assets, forms, the live card's socket paths). */
function pathsIn(html: string): string[] {
  return [...html.matchAll(/\s(?:href|src|action|data-start-path|data-watch-path|data-copy|data-load-earlier)="([^"]*)"/g)]
    .map((m) => decodeEntities(m[1]!))
    .filter((v) => v.startsWith('/'));
}

describe('library: the example host app mounts the admin under /ops', () => {
  let host: BootedHost;

  before(async function () {
    this.timeout(30_000);
    host = await bootHostApp();
  });
  after(() => host?.cleanup());

  it('keeps the host\'s own routes, and passes paths outside /ops/admin on', async () => {
    expect((await send(host.url, '/')).body).to.equal('host app home, signed in as (nobody); the admin: /ops/admin/task\n');
    expect((await send(host.url, '/', { headers: ALICE })).body).to.include('signed in as alice');
    expect((await send(host.url, '/ops/other')).status, 'the host\'s 404').to.equal(404);
    expect((await send(host.url, '/admin/task?t=json', { headers: ALICE })).status, 'not mounted at the root').to.equal(404);
  });

  it('lets the authorize hook refuse an unauthenticated or unauthorised request (403), in the format asked for', async () => {
    for (const headers of [{}, { Cookie: 'host_user=bob' }] as Record<string, string>[]) {
      const res = await send(host.url, '/ops/admin/task?t=json', { headers });
      expect(res.status).to.equal(403);
      expect(JSON.parse(res.body)).to.deep.equal({ status: 403, code: 'ERR_FORBIDDEN', message: 'access refused by the host application' });
      expect((await send(host.url, '/ops/admin/run?t=yaml', { headers })).status).to.equal(403);
    }
    // The host's own redirect sends a browser to its login page.
    const page = await send(host.url, '/ops/admin/task', { headers: { Accept: 'text/html' } });
    expect(page.status).to.equal(302);
    expect(page.headers.location).to.equal('/login?next=%2Fops%2Fadmin%2Ftask');
  });

  it('serves every page, link, asset, form and redirect under the prefix', async () => {
    await host.kernel.service.run('greet', { times: 1 });
    const run = (await host.kernel.service.run('greet', { times: 1 })).id;
    const start = ['/ops/admin', '/ops/admin/task', '/ops/admin/task/greet', '/ops/admin/run', `/ops/admin/run/${run}`, '/ops/admin/task/greet/run?times=1', '/ops/admin/task/greet/run?async=true', `/ops/admin/run/compare?a=${run}&previous=true`, '/ops/admin/task/greet/stats'];
    const checked = new Set<string>();
    for (const page of start) {
      const res = await send(host.url, page, { headers: { ...ALICE, 'Sec-Fetch-Site': 'same-origin' } });
      expect(res.status, page).to.equal(200);
      expect(res.headers['content-type'], page).to.match(/^text\/html/);
      for (const path of pathsIn(res.body)) {
        expect(path, `a link on ${page}`).to.match(/^\/ops\/admin(\/|\?|$)/);
        const target = path.replace(/#.*$/, '');
        if (checked.has(target) || /\/(start|watch|remove|cancel|preset)(\?|$)/.test(target)) continue;
        checked.add(target);
        const linked = await send(host.url, target, { headers: ALICE });
        expect(linked.status, `${target} (linked from ${page})`).to.be.oneOf([200, 409]);
      }
    }
    expect(checked.size).to.be.greaterThan(20);
    const css = await send(host.url, '/ops/admin/static/taskdeck.css');
    expect(css.status, 'the static files are public').to.equal(200);
    expect(css.headers['content-type']).to.equal('text/css; charset=utf-8');
    // A redirect of the admin carries the prefix too.
    host.kernel.registerTask({ key: 'temporary', run: () => 1 });
    const removed = await send(host.url, '/ops/admin/task/temporary/remove', { headers: { ...ALICE, 'Sec-Fetch-Site': 'same-origin' } });
    expect(removed.status).to.equal(302);
    expect(removed.headers.location).to.equal('/ops/admin/task?removed=temporary');
    const json = JSON.parse((await send(host.url, `/ops/admin/task/greet/run?times=1&t=json`, { headers: ALICE })).body) as { status: string };
    expect(json.status).to.equal('ok');
  });

  it('runs a task live over a WebSocket on the host\'s server, with prefixed links in the messages', async () => {
    const ws = host.url.replace(/^http/, 'ws');
    const started = await openSocket(`${ws}/ops/admin/task/greet/start?times=3&name=ops`, { headers: ALICE });
    const first = await started.waitFor('started');
    expect(first.param.href).to.match(/^\/ops\/admin\/run\/[0-9a-f-]{36}$/);
    expect(first.param.watchPath).to.equal(`${first.param.href}/watch`);
    expect(first.param.cancelHref).to.equal(`${first.param.href}/cancel`);
    await started.closed;
    expect(started.messages.filter((m) => m.cmd === 'output').map((m) => m.param.msg)).to.deep.include.members(['hello ops (1/3)', 'hello ops (2/3)', 'hello ops (3/3)']);
    expect(started.messages.find((m) => m.cmd === 'complete')!.param.html).to.include('href="/ops/admin/');
    const watched = await openSocket(`${ws}${first.param.watchPath}?after=1`, { headers: ALICE });
    await watched.closed;
    expect(watched.messages.filter((m) => m.cmd === 'output').map((m) => m.param.seq)).to.deep.equal([2, 3, 4]);
  });

  it('refuses an upgrade the host would not let in (403 before 101), and leaves paths outside the prefix alone', async () => {
    const ws = host.url.replace(/^http/, 'ws');
    for (const headers of [{}, { Cookie: 'host_user=bob' }] as Record<string, string>[]) {
      const error = await openSocket(`${ws}/ops/admin/task/greet/start`, { headers }).then(() => null, (e: { status?: number; body?: string }) => e);
      expect(error?.status).to.equal(403);
      expect(JSON.parse(error!.body!)).to.include({ code: 'ERR_FORBIDDEN' });
    }
    // Not the admin's path: no other upgrade listener on this server, so the socket is closed.
    const unmounted = new WebSocket(`${ws}/admin/task/greet/start`, { headers: ALICE, origin: host.url });
    const outcome = await new Promise<string>((resolve) => {
      unmounted.once('open', () => resolve('open'));
      unmounted.once('error', (e) => resolve(`error: ${e.message}`));
    });
    expect(outcome).to.match(/^error: (socket hang up|.*ECONNRESET)/);
  });
});

describe('library: a stopped kernel in a running host app', () => {
  it('answers 503 for the admin and lets the host go on', async () => {
    const host = await bootHostApp();
    try {
      await host.kernel.stop();
      expect((await send(host.url, '/ops/admin/task?t=json', { headers: ALICE })).status).to.equal(503);
      expect((await send(host.url, '/')).status).to.equal(200);
      expect(host.server.listenerCount('upgrade'), 'the upgrade listener is detached').to.equal(0);
    } finally {
      await host.cleanup();
    }
  });
});

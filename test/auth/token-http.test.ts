import { expect } from 'chai';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { HttpServer } from '../../core/http/http-server.js';
import { SessionSigner } from '../../core/http/auth-token.js';
import { CONTENT_TYPE, DATA_FORMATS, errorMessage, parseBody, withFormat, type TestFormat } from '../http/http-client.js';
import { bearer, fromOurPage, loginBody, makeToken, send, setCookies, signIn } from './auth-helpers.js';

const TOKEN = makeToken();
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

describe('auth: a token protects every /admin route (HTTP)', () => {
  let t: TestKernel;
  let url: string;
  let runs = 0;
  const runCount = async () => (await t.kernel.service.listRuns({ task: ['count'] }, { limit: 1000 })).runs.length;

  before(async () => {
    t = await bootKernel({ config: { token: TOKEN }, listen: true, plugins: { 'broken.ts': 'export default {{ not a plugin' } });
    url = t.kernel.url;
    t.kernel.registerTask({ key: 'count', run: () => ++runs });
  });
  after(() => t.cleanup());

  describe('without credentials', () => {
    it('answers API requests 401 with WWW-Authenticate: Bearer, in the format asked for', async () => {
      for (const format of [...DATA_FORMATS, 'debug'] as TestFormat[]) {
        const res = await send(url, withFormat('/admin/task', format));
        expect(res.status, format).to.equal(401);
        expect(res.headers['www-authenticate'], format).to.equal('Bearer realm="taskdeck"');
        expect(res.headers['content-type'], format).to.match(CONTENT_TYPE[format]);
        expect(res.headers['cache-control'], format).to.equal('no-store');
        expect(errorMessage(format, res.body), format).to.match(/^authentication required: send "Authorization: Bearer <token>", or sign in at \/admin\/login$/);
      }
      const json = await send(url, '/admin/run', { headers: { Accept: 'application/json' } });
      expect(json.status).to.equal(401);
      expect(JSON.parse(json.body)).to.include({ status: 401, code: 'ERR_UNAUTHORIZED' });
    });

    it('sends a browser opening a page to the login form (303, next = the page)', async () => {
      const res = await send(url, '/admin/run?task=count&status=ok', { headers: { Accept: 'text/html' } });
      expect(res.status).to.equal(303);
      expect(res.headers.location).to.equal(`/admin/login?next=${encodeURIComponent('/admin/run?task=count&status=ok')}`);
      const navigate = await send(url, '/admin/task/count', { headers: { 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Site': 'none' } });
      expect(navigate.status).to.equal(303);
      // The task list is where the login form goes anyway: no `next` needed.
      expect((await send(url, '/admin/task')).headers.location).to.equal('/admin/login');
    });

    it('answers a script fetching HTML 401, not a redirect to a page it cannot use', async () => {
      const res = await send(url, '/admin/run/00000000-0000-4000-8000-000000000000/logs', { headers: { Accept: 'text/html', 'Sec-Fetch-Mode': 'cors' } });
      expect(res.status).to.equal(401);
      expect(res.headers['content-type']).to.match(CONTENT_TYPE.html);
      expect(errorMessage('html', res.body)).to.match(/^authentication required/);
    });

    it('covers unknown paths too (deny by default), but not the static files, / and the favicon', async () => {
      expect((await send(url, '/admin/nope?t=json')).status).to.equal(401);
      expect((await send(url, '/nope?t=json')).status).to.equal(401);
      for (const file of ['taskdeck.css', 'taskdeck.js', 'favicon.svg']) expect((await send(url, `/admin/static/${file}`)).status, file).to.equal(200);
      expect((await send(url, '/')).headers.location).to.equal('/admin/task');
      expect((await send(url, '/favicon.ico')).headers.location).to.equal('/admin/static/favicon.svg');
    });

    it('runs nothing: run, start, remove, cancel and preset are refused before the route', async () => {
      const before = await runCount();
      for (const path of ['/admin/task/count/run', '/admin/task/count/run?async=true', '/admin/task/count/start', '/admin/task/count/remove', '/admin/task/count/preset?presetKey=p', '/admin/run/00000000-0000-4000-8000-000000000000/cancel']) {
        const res = await send(url, withFormat(path, 'json'), { headers: fromOurPage(url) });
        expect(res.status, path).to.equal(401);
      }
      expect(await runCount()).to.equal(before);
      expect(t.kernel.registry.has('count')).to.equal(true);
    });

    it('keeps the plugin failure banner (file paths, errors) for those signed in', async () => {
      const login = await send(url, '/admin/login');
      expect(login.status).to.equal(200);
      expect(login.body).to.not.include('broken.ts');
      expect((await send(url, '/admin/task', { headers: { 'Sec-Fetch-Mode': 'cors' } })).body).to.not.include('broken.ts');
      expect((await send(url, '/admin/task', { headers: bearer(TOKEN) })).body).to.include('broken.ts');
    });
  });

  describe('Authorization: Bearer', () => {
    it('opens pages and every data format', async () => {
      for (const format of ['html', ...DATA_FORMATS, 'debug'] as TestFormat[]) {
        const res = await send(url, withFormat('/admin/task', format), { headers: bearer(TOKEN) });
        expect(res.status, format).to.equal(200);
      }
      expect((parseBody('json', (await send(url, '/admin/task?t=json', { headers: bearer(TOKEN) })).body) as { key: string }[]).map((x) => x.key)).to.include('count');
    });

    it('runs tasks from a script (no Fetch Metadata needed with Bearer)', async () => {
      const res = await send(url, '/admin/task/count/run?t=json', { headers: bearer(TOKEN) });
      expect(res.status).to.equal(200);
      expect(JSON.parse(res.body)).to.include({ status: 'ok' });
    });

    it('refuses a wrong token with 401 invalid_token, even for a browser page (no redirect)', async () => {
      for (const wrong of [`${TOKEN}x`, TOKEN.slice(0, -1), '', TOKEN.toUpperCase()]) {
        const res = await send(url, '/admin/task', { headers: { Authorization: `Bearer ${wrong}` } });
        expect(res.status, wrong).to.equal(401);
        expect(res.headers['www-authenticate']).to.equal('Bearer realm="taskdeck", error="invalid_token"');
      }
    });

    it('ignores other schemes (a proxy\'s Basic auth) and is case-insensitive about "Bearer"', async () => {
      expect((await send(url, '/admin/task?t=json', { headers: { Authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` } })).status).to.equal(401);
      expect((await send(url, '/admin/task?t=json', { headers: { Authorization: `bearer ${TOKEN}` } })).status).to.equal(200);
    });
  });

  describe('a token in the URL (row 34)', () => {
    it('is never accepted: 401 in every format, no redirect that would carry it into the login form', async () => {
      for (const format of ['html', 'json', 'debug'] as TestFormat[]) {
        const res = await send(url, withFormat(`/admin/task?token=${TOKEN}`, format), { headers: { 'Sec-Fetch-Mode': 'navigate' } });
        expect(res.status, format).to.equal(401);
        expect(errorMessage(format, res.body), format).to.match(/^a token in the URL is not accepted/);
        expect(res.raw, format).to.not.include(TOKEN);
      }
      expect((await send(url, `/admin/task?access_token=${TOKEN}&t=json`)).status).to.equal(401);
    });

    it('is refused wherever it sits in the URL, even from a client signed in, before anything could echo it', async () => {
      const paths = [`/admin/task?token=${TOKEN}`, `/admin/task?t=${TOKEN}`, `/admin/task/${TOKEN}`, `/admin/run?q=${encodeURIComponent(TOKEN)}`, `/admin/task?${TOKEN}`, `/admin/login?next=${TOKEN}`];
      for (const path of paths) {
        for (const format of ['html', 'json'] as TestFormat[]) {
          const res = await send(url, path, { headers: { ...bearer(TOKEN), Accept: format === 'json' ? 'application/json' : 'text/html' } });
          expect(res.status, `${path} ${format}`).to.equal(401);
          expect(res.raw, `${path} ${format}`).to.not.include(TOKEN);
        }
      }
      // A task field named token still works: only the token's own value is refused.
      expect((await send(url, '/admin/task/count/run?token=abc&t=json', { headers: bearer(TOKEN) })).status).to.equal(200);
    });
  });

  describe('the login form', () => {
    it('shows a password field that posts to /admin/login with the page to return to', async () => {
      const res = await send(url, `/admin/login?next=${encodeURIComponent('/admin/run?task=count')}`);
      expect(res.status).to.equal(200);
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(res.body).to.match(/<form method="post" action="\/admin\/login">/);
      expect(res.body).to.include('<input type="hidden" name="next" value="/admin/run?task=count">');
      expect(res.body).to.match(/<input id="login-token" type="password" name="token"/);
      expect(JSON.parse((await send(url, '/admin/login?t=json')).body)).to.deep.equal({ authenticated: false, login: '/admin/login' });
    });

    it('sets an HttpOnly, SameSite=Strict session cookie (not the token) and returns to next', async () => {
      const res = await send(url, '/admin/login', { method: 'POST', headers: { ...FORM, ...fromOurPage(url) }, body: loginBody(TOKEN, '/admin/run?task=count') });
      expect(res.status).to.equal(303);
      expect(res.headers.location).to.equal('/admin/run?task=count');
      const [cookie] = setCookies(res);
      expect(cookie).to.match(/^taskdeck_session=v1\.[0-9a-z]+\.[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{43}; Path=\/admin; Max-Age=43200; HttpOnly; SameSite=Strict$/);
      expect(res.raw).to.not.include(TOKEN);
    });

    it('opens pages and data formats with the cookie, and reads need no Fetch Metadata', async () => {
      const { cookie } = await signIn(url, TOKEN);
      expect((await send(url, '/admin/task', { headers: { Cookie: cookie } })).status).to.equal(200);
      expect((await send(url, '/admin/run?t=json', { headers: { Cookie: `other=1; ${cookie}` } })).status).to.equal(200);
      const page = await send(url, '/admin/task', { headers: { Cookie: cookie } });
      expect(page.body).to.include('href="/admin/logout"');
      // A Bearer client has no session to end: no sign-out link.
      expect((await send(url, '/admin/task', { headers: bearer(TOKEN) })).body).to.not.include('/admin/logout');
    });

    it('sends a signed-in browser on from the login page', async () => {
      const { cookie } = await signIn(url, TOKEN);
      const res = await send(url, '/admin/login?next=%2Fadmin%2Frun', { headers: { Cookie: cookie } });
      expect(res.status).to.equal(303);
      expect(res.headers.location).to.equal('/admin/run');
    });

    it('answers a wrong token with the form again (401), no cookie, nothing echoed', async () => {
      const wrong = `${TOKEN}-wrong`;
      const res = await send(url, '/admin/login', { method: 'POST', headers: { ...FORM, ...fromOurPage(url) }, body: loginBody(wrong, '/admin/run') });
      expect(res.status).to.equal(401);
      expect(res.body).to.include('That token is not right.');
      expect(res.body).to.include('name="next" value="/admin/run"');
      expect(setCookies(res)).to.deep.equal([]);
      expect(res.raw).to.not.include(wrong);
      const json = await send(url, '/admin/login?t=json', { method: 'POST', headers: FORM, body: loginBody(wrong) });
      expect(json.status).to.equal(401);
      expect(JSON.parse(json.body)).to.include({ code: 'ERR_UNAUTHORIZED' });
    });

    it('refuses a form from another site or origin (403), a non-form body (415) and a large one (413)', async () => {
      const refusedHeaders: Record<string, string>[] = [{ 'Sec-Fetch-Site': 'cross-site' }, { 'Sec-Fetch-Site': 'same-site' }, { 'Sec-Fetch-Site': 'none' }, { Origin: 'https://evil.example' }, { Origin: 'null' }];
      for (const headers of refusedHeaders) {
        const res = await send(url, '/admin/login?t=json', { method: 'POST', headers: { ...FORM, ...headers }, body: loginBody(TOKEN) });
        expect(res.status, JSON.stringify(headers)).to.equal(403);
        expect(setCookies(res)).to.deep.equal([]);
      }
      const json = await send(url, '/admin/login?t=json', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: TOKEN }) });
      expect(json.status).to.equal(415);
      const big = await send(url, '/admin/login?t=json', { method: 'POST', headers: FORM, body: loginBody(TOKEN, `/admin/${'x'.repeat(9000)}`) });
      expect(big.status).to.equal(413);
      expect(setCookies(big)).to.deep.equal([]);
    });

    it('a client sending neither Origin nor Fetch Metadata (curl) may sign in: it could send Bearer as well', async () => {
      const res = await send(url, '/admin/login?t=json', { method: 'POST', headers: FORM, body: loginBody(TOKEN) });
      expect(res.status).to.equal(200);
      expect(JSON.parse(res.body)).to.deep.equal({ authenticated: true, next: '/admin/task' });
      expect(setCookies(res)[0]).to.match(/^taskdeck_session=/);
    });

    it('returns only to a path of this admin: next=//evil, /\\evil, https://evil, /adminx, the login itself go to the task list', async () => {
      for (const next of ['//evil.example/admin', '/\\evil.example', 'https://evil.example/admin', '/adminx', '/admin/login', '/admin/logout', 'javascript:alert(1)', '/admin/\u0000x', '']) {
        const res = await send(url, '/admin/login', { method: 'POST', headers: { ...FORM, ...fromOurPage(url) }, body: loginBody(TOKEN, next) });
        expect(res.headers.location, JSON.stringify(next)).to.equal('/admin/task');
      }
    });

    it('allows GET, HEAD and POST only', async () => {
      const res = await send(url, '/admin/login?t=json', { method: 'PUT' });
      expect(res.status).to.equal(405);
      expect(res.headers.allow).to.equal('GET, HEAD, POST');
    });
  });

  describe('sessions that are not (or no longer) valid (row 34)', () => {
    const expectRefused = async (cookie: string, what: string) => {
      const json = await send(url, '/admin/task?t=json', { headers: { Cookie: cookie } });
      expect(json.status, what).to.equal(401);
      expect(errorMessage('json', json.body), what).to.match(/^the session has expired or is not valid: sign in again at \/admin\/login$/);
      expect(setCookies(json)[0], `${what}: the stale cookie is cleared`).to.match(/^taskdeck_session=; Path=\/admin; Max-Age=0/);
      const page = await send(url, '/admin/run', { headers: { Cookie: cookie } });
      expect(page.status, what).to.equal(303);
    };

    it('refuses a forged, expired, other-instance or garbled session cookie', async () => {
      const { cookie } = await signIn(url, TOKEN);
      const value = cookie.slice('taskdeck_session='.length);
      const flipped = value.slice(0, -2) + (value.at(-2) === 'A' ? 'B' : 'A') + value.at(-1);
      await expectRefused(`taskdeck_session=${flipped}`, 'a tampered signature');
      const [v, , id, sig] = value.split('.');
      await expectRefused(`taskdeck_session=${v}.${(Math.floor(Date.now() / 1000) + 86_400 * 365).toString(36)}.${id}.${sig}`, 'an extended expiry');
      await expectRefused(`taskdeck_session=${new SessionSigner(TOKEN, { now: () => Date.now() - 13 * 3_600_000 }).issue().value}`, 'an expired session');
      await expectRefused(`taskdeck_session=${new SessionSigner('another instance token').issue().value}`, 'another instance\'s session');
      await expectRefused(`taskdeck_session=${TOKEN}`, 'the token itself as the cookie');
      await expectRefused('taskdeck_session=', 'an empty cookie');
    });
  });

  describe('a cookie replayed without Fetch Metadata (row 27)', () => {
    let cookie: string;
    before(async () => ({ cookie } = await signIn(url, TOKEN)));

    it('is refused (403) on every route that changes state; nothing runs or is removed', async () => {
      const finished = JSON.parse((await send(url, '/admin/task/count/run?t=json', { headers: bearer(TOKEN) })).body) as { id: string };
      t.kernel.registerTask({ key: 'removable', run: () => 1 });
      const before = await runCount();
      const routes = ['/admin/task/count/run', '/admin/task/count/run?async=true', '/admin/task/count/start', '/admin/task/removable/remove', '/admin/task/count/preset?presetKey=count-preset', `/admin/run/${finished.id}/cancel`];
      for (const site of [undefined, 'none']) {
        for (const path of routes) {
          const headers: Record<string, string> = { Cookie: cookie };
          if (site) headers['Sec-Fetch-Site'] = site;
          const res = await send(url, withFormat(path, 'json'), { headers });
          expect(res.status, `${path} Sec-Fetch-Site: ${site}`).to.equal(403);
          expect(errorMessage('json', res.body)).to.match(/^a session cookie changes state only from taskdeck's own pages/);
        }
      }
      expect(await runCount()).to.equal(before);
      expect(t.kernel.registry.has('removable')).to.equal(true);
      expect(t.kernel.registry.has('count-preset')).to.equal(false);
    });

    it('runs from our own page (Sec-Fetch-Site: same-origin), and with Bearer from a script', async () => {
      const before = await runCount();
      const page = await send(url, '/admin/task/count/run?t=json', { headers: { Cookie: cookie, 'Sec-Fetch-Site': 'same-origin', 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'document' } });
      expect(page.status).to.equal(200);
      const script = await send(url, '/admin/task/count/run?t=json', { headers: { Cookie: cookie, ...bearer(TOKEN) } });
      expect(script.status).to.equal(200);
      expect(await runCount()).to.equal(before + 2);
    });
  });

  describe('logout', () => {
    it('ends the session: the cookie is cleared and the old value no longer works', async () => {
      const { cookie } = await signIn(url, TOKEN);
      const res = await send(url, '/admin/logout', { headers: { Cookie: cookie, 'Sec-Fetch-Site': 'same-origin' } });
      expect(res.status).to.equal(303);
      expect(res.headers.location).to.equal('/admin/login');
      expect(setCookies(res)).to.deep.equal(['taskdeck_session=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict']);
      expect((await send(url, '/admin/task?t=json', { headers: { Cookie: cookie } })).status).to.equal(401);
    });

    it('is not triggered by another site, a prefetch or a non-GET', async () => {
      const { cookie } = await signIn(url, TOKEN);
      expect((await send(url, '/admin/logout', { headers: { Cookie: cookie, 'Sec-Fetch-Site': 'cross-site' } })).status).to.equal(403);
      expect((await send(url, '/admin/logout', { headers: { Cookie: cookie, 'Sec-Purpose': 'prefetch' } })).status).to.equal(503);
      expect((await send(url, '/admin/logout', { method: 'POST', headers: { Cookie: cookie } })).status).to.equal(405);
      expect((await send(url, '/admin/task?t=json', { headers: { Cookie: cookie } })).status, 'still signed in').to.equal(200);
    });

    it('answers data formats with JSON', async () => {
      const res = await send(url, '/admin/logout?t=json');
      expect(JSON.parse(res.body)).to.deep.equal({ authenticated: false, signed_out: true });
    });
  });

  describe('format=debug', () => {
    it('never shows the cookie, the authorization header or the token', async () => {
      const { cookie } = await signIn(url, TOKEN);
      const res = await send(url, '/admin/task?t=debug', { headers: { Cookie: cookie, ...bearer(TOKEN), 'X-Taskdeck-Token': TOKEN } });
      expect(res.status).to.equal(200);
      const debug = JSON.parse(res.body) as { request: { headers: Record<string, string> } };
      expect(debug.request.headers).to.include({ cookie: '[redacted]', authorization: '[redacted]', 'x-taskdeck-token': '[redacted]' });
      expect(res.raw).to.not.include(TOKEN);
      expect(res.raw).to.not.include(cookie.split('=')[1]!);
      const refused = await send(url, '/admin/task?t=debug', { headers: { Cookie: cookie.replace(/.$/, '_'), Authorization: `Bearer ${TOKEN}x` } });
      expect(refused.status).to.equal(401);
      expect(refused.raw).to.not.include(TOKEN);
    });
  });

  describe('the Host check still applies on loopback', () => {
    it('answers 421 to a foreign Host before any credential is looked at', async () => {
      const res = await send(url, '/admin/task?t=json', { headers: { Host: 'evil.example', ...bearer(TOKEN) } });
      expect(res.status).to.equal(421);
    });
  });
});

describe('auth: guessing the token', () => {
  let t: TestKernel;
  let url: string;
  before(async () => {
    t = await bootKernel({ config: { token: TOKEN }, listen: true });
    url = t.kernel.url;
  });
  after(() => t.cleanup());

  it('after 10 wrong tokens from one address, every token attempt is 429 for a minute; sessions go on', async () => {
    const { cookie } = await signIn(url, TOKEN);
    for (let i = 0; i < 10; i++) expect((await send(url, '/admin/task?t=json', { headers: bearer(`guess-${i}`) })).status).to.equal(401);
    const right = await send(url, '/admin/task?t=json', { headers: bearer(TOKEN) });
    expect(right.status, 'even the right token: it must not tell a guess apart').to.equal(429);
    expect(Number(right.headers['retry-after'])).to.be.within(1, 60);
    expect(errorMessage('json', right.body)).to.match(/^too many wrong tokens from this address: try again in \d+ s$/);
    const form = await send(url, '/admin/login?t=json', { method: 'POST', headers: FORM, body: loginBody(TOKEN) });
    expect(form.status).to.equal(429);
    expect((await send(url, '/admin/task?t=json', { headers: { Cookie: cookie } })).status).to.equal(200);
  });
});

describe('auth: the Secure cookie flag', () => {
  let t: TestKernel;
  const servers: HttpServer[] = [];
  before(async () => {
    t = await bootKernel({ config: { token: TOKEN } });
  });
  after(async () => {
    for (const server of servers) await server.stop();
    await t.cleanup();
  });

  const serve = async (trustProxy: boolean) => {
    const server = new HttpServer({ kernel: t.kernel, trustProxy });
    servers.push(server);
    await server.listen(0, '127.0.0.1');
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  };

  it('is set when a trusted proxy says the request came over https, never from an untrusted header', async () => {
    const trusted = await serve(true);
    const viaHttps = await send(trusted, '/admin/login', { method: 'POST', headers: { ...FORM, 'X-Forwarded-Proto': 'https' }, body: loginBody(TOKEN) });
    expect(setCookies(viaHttps)[0]).to.match(/; SameSite=Strict; Secure$/);
    const viaHttp = await send(trusted, '/admin/login', { method: 'POST', headers: FORM, body: loginBody(TOKEN) });
    expect(setCookies(viaHttp)[0]).to.not.include('Secure');
    const untrusted = await serve(false);
    const forged = await send(untrusted, '/admin/login', { method: 'POST', headers: { ...FORM, 'X-Forwarded-Proto': 'https' }, body: loginBody(TOKEN) });
    expect(setCookies(forged)[0]).to.not.include('Secure');
  });
});

describe('auth: no token configured', () => {
  let t: TestKernel;
  before(async () => {
    t = await bootKernel({ listen: true });
  });
  after(() => t.cleanup());

  it('changes nothing: pages open without credentials, and there is no login route', async () => {
    expect((await send(t.kernel.url, '/admin/task?t=json')).status).to.equal(200);
    expect((await send(t.kernel.url, '/admin/login?t=json')).status).to.equal(404);
    expect((await send(t.kernel.url, '/admin/task')).body).to.not.include('/admin/logout');
  });
});

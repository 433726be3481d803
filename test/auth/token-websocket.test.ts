import { expect } from 'chai';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { openSocket } from '../helpers/ws-client.js';
import { bearer, makeToken, signIn } from './auth-helpers.js';

const TOKEN = makeToken();

/** The upgrade's refusal (status and JSON body), or null when it opened. */
async function refusedWith(url: string, options: Parameters<typeof openSocket>[1]): Promise<{ status: number; body: { code: string; message: string } } | null> {
  try {
    const socket = await openSocket(url, options);
    socket.ws.close();
    return null;
  } catch (error) {
    const { status, body } = error as { status?: number; body?: string };
    if (status === undefined) throw error;
    return { status, body: JSON.parse(body ?? '{}') };
  }
}

describe('auth: WebSocket upgrades with a token configured', () => {
  let t: TestKernel;
  let ws: string;
  let cookie: string;
  let calls = 0;
  let finished: string;

  before(async () => {
    t = await bootKernel({ config: { token: TOKEN }, listen: true });
    ws = t.kernel.url.replace(/^http/, 'ws');
    t.kernel.registerTask({ key: 'lines', run: ({ log }) => { calls++; for (let i = 1; i <= 3; i++) log(`line ${i}`); return 'done'; } });
    ({ cookie } = await signIn(t.kernel.url, TOKEN));
    finished = (await t.kernel.service.run('lines')).id;
  });
  after(() => t.cleanup());

  it('refuses an upgrade without credentials with 401 before 101, and runs nothing', async () => {
    const before = calls;
    for (const path of ['/admin/task/lines/start', `/admin/run/${finished}/watch`]) {
      const refused = await refusedWith(`${ws}${path}`, {});
      expect(refused, path).to.deep.include({ status: 401 });
      expect(refused!.body.code).to.equal('ERR_UNAUTHORIZED');
    }
    expect(await refusedWith(`${ws}/admin/task/lines/start?token=${TOKEN}`, {}), 'a token in the URL').to.deep.include({ status: 401 });
    expect(await refusedWith(`${ws}/admin/task/lines/start`, { headers: bearer('wrong') }), 'a wrong Bearer').to.deep.include({ status: 401 });
    expect(calls).to.equal(before);
  });

  it('lets a Bearer client start and watch runs, with or without Origin', async () => {
    const started = await openSocket(`${ws}/admin/task/lines/start`, { origin: null, headers: bearer(TOKEN) });
    expect((await started.waitFor('complete')).param.result.logs).to.include('line 3');
    expect(await started.closed).to.equal(1000);
    const watched = await openSocket(`${ws}/admin/run/${finished}/watch`, { headers: bearer(TOKEN) });
    expect(await watched.closed).to.equal(1000);
    expect(watched.messages.filter((m) => m.cmd === 'output').map((m) => m.param.msg)).to.include('line 2');
  });

  it('still refuses a Bearer client naming a foreign Origin (403)', async () => {
    const refused = await refusedWith(`${ws}/admin/task/lines/start`, { origin: 'https://evil.example', headers: bearer(TOKEN) });
    expect(refused).to.deep.include({ status: 403 });
    expect(refused!.body.code).to.equal('ERR_FORBIDDEN');
  });

  it('lets a browser session start a run from our page (Origin + Sec-Fetch-Site: same-origin)', async () => {
    const started = await openSocket(`${ws}/admin/task/lines/start`, { headers: { Cookie: cookie, 'Sec-Fetch-Site': 'same-origin', 'Sec-Fetch-Mode': 'websocket', 'Sec-Fetch-Dest': 'websocket' } });
    await started.waitFor('complete');
    expect(await started.closed).to.equal(1000);
  });

  it('takes the Origin as the browser\'s mark on the handshake (Chromium sends no Fetch Metadata there)', async () => {
    const before = calls;
    const started = await openSocket(`${ws}/admin/task/lines/start`, { headers: { Cookie: cookie } });
    await started.waitFor('complete');
    expect(calls).to.equal(before + 1);
    for (const site of ['cross-site', 'same-site']) {
      const refused = await refusedWith(`${ws}/admin/task/lines/start`, { headers: { Cookie: cookie, 'Sec-Fetch-Site': site } });
      expect(refused, site).to.deep.include({ status: 403 });
    }
    expect(calls).to.equal(before + 1);
  });

  it('refuses a replayed cookie without Origin on /start and /watch (403, row 27), and runs nothing', async () => {
    const before = calls;
    for (const path of ['/admin/task/lines/start', `/admin/run/${finished}/watch`]) {
      const refused = await refusedWith(`${ws}${path}`, { origin: null, headers: { Cookie: cookie } });
      expect(refused, path).to.deep.include({ status: 403 });
      expect(refused!.body.message).to.equal('WebSocket refused: the Origin header is missing');
    }
    expect(calls).to.equal(before);
  });

  it('refuses a session cookie with a foreign Origin', async () => {
    expect(await refusedWith(`${ws}/admin/run/${finished}/watch`, { origin: 'https://evil.example', headers: { Cookie: cookie } })).to.deep.include({ status: 403 });
  });

  it('refuses a session that was logged out', async () => {
    const { cookie: gone } = await signIn(t.kernel.url, TOKEN);
    const res = await fetch(`${t.kernel.url}/admin/logout`, { headers: { Cookie: gone }, redirect: 'manual' });
    expect(res.status).to.equal(303);
    expect(await refusedWith(`${ws}/admin/run/${finished}/watch`, { headers: { Cookie: gone } })).to.deep.include({ status: 401 });
  });
});

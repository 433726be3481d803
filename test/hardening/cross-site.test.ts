/**
 * Cross-site safety in a real browser: an attacker page on a second loopback port tries every way a
 * page can make chromium send a GET to taskdeck's state-changing routes (an image, a clicked link, a
 * script navigation, fetch no-cors and cors, an iframe, a script and a stylesheet tag, a WebSocket,
 * auto-submitted GET and POST forms, prefetch hints). Nothing may run: no row in the history, no call of
 * the task function, no task removed, no run cancelled, and every request that reached taskdeck was
 * refused (403/405/503). The page is served from `127.0.0.1:<other port>` (same-site, cross-origin)
 * and from `localhost:<other port>` (cross-site); a typed URL still runs the task (the control).
 */
import dc from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { useBrowserSuite } from '../helpers/browser.js';
import { eventually } from '../http/http-client.js';
import { EvilSite } from './helpers/evil-site.js';
import { CallCounter, countRuns } from './helpers/probe.js';

// Functions given to page.evaluate run in chromium; the project's lib has no DOM types.
declare const window: { __done?: boolean; __log?: string[] };

interface Seen {
  url: string;
  status: number;
  method: string;
  site: string;
  dest: string;
  purpose: string;
}

/** The attacker's pages; `T` is taskdeck's origin, `W` its host for ws://. Each sets window.__done when its attempts have settled. */
function evilPages(T: string, W: string, cancelId: string): Record<string, string> {
  const settle = `
    window.__log = [];
    let pending = 0;
    const note = (text) => { window.__log.push(text); };
    const start = () => { pending += 1; };
    const end = (text) => { note(text); pending -= 1; if (pending === 0) window.__done = true; };
    setTimeout(() => { window.__done = true; }, 5000);`;
  const page = (body: string, script = '') => `<!doctype html><html><head><meta charset="utf-8"><title>free prizes</title></head><body>${body}<script>${settle}${script}</script></body></html>`;
  const run = (via: string) => `${T}/admin/task/target/run?via=${via}`;
  return {
    '/img': page(
      '',
      `for (const src of ['${run('img')}', '${run('img-async')}&async=true', '${T}/admin/task/victim/remove?via=img', '${T}/admin/run/${cancelId}/cancel?via=img']) {
         start(); const img = new Image(); img.onload = () => end('img loaded ' + src); img.onerror = () => end('img error ' + src); img.src = src; document.body.append(img);
       }`,
    ),
    '/fetch': page(
      '',
      `for (const [url, mode] of [['${run('fetch-no-cors')}', 'no-cors'], ['${run('fetch-cors')}', 'cors'], ['${T}/admin/task/victim/remove?via=fetch', 'no-cors'], ['${T}/admin/run/${cancelId}/cancel?via=fetch', 'no-cors'], ['${T}/admin/task/target/start?via=fetch', 'no-cors']]) {
         start(); fetch(url, { mode, credentials: 'include' }).then((r) => end('fetch ' + mode + ' ' + r.status + ' ' + r.type), (e) => end('fetch ' + mode + ' failed ' + e.message));
       }`,
    ),
    '/iframe': page(
      `<iframe id="f1" src="${run('iframe')}"></iframe><iframe id="f2" src="${run('iframe-async')}&amp;async=true"></iframe>`,
      `for (const id of ['f1', 'f2']) { start(); document.getElementById(id).addEventListener('load', () => end('iframe ' + id)); }`,
    ),
    '/tags': page(
      `<link rel="stylesheet" href="${run('style')}"><script src="${run('script')}"></script><object data="${run('object')}"></object><video src="${run('video')}"></video>`,
      `start(); window.addEventListener('load', () => end('tags loaded'));`,
    ),
    '/ws': page(
      '',
      `for (const path of ['/admin/task/target/start?via=ws', '/admin/run/${cancelId}/watch?via=ws']) {
         start(); const ws = new WebSocket('ws://${W}' + path);
         ws.onopen = () => note('ws OPEN ' + path); ws.onmessage = (m) => note('ws MESSAGE ' + String(m.data).slice(0, 80));
         ws.onclose = (e) => end('ws close ' + e.code + ' ' + path);
       }
       start(); const s = new WebSocket('ws://${W}/admin/task/target/start?via=ws-cancel'); s.onopen = () => { note('ws OPEN cancel'); s.send(JSON.stringify({ cmd: 'cancel' })); }; s.onclose = () => end('ws closed');`,
    ),
    '/prefetch': page(
      `<link rel="prefetch" href="${run('prefetch')}"><link rel="prerender" href="${run('prerender')}"><link rel="preload" as="fetch" href="${run('preload')}">
       <script type="speculationrules">{"prerender": [{"source": "list", "urls": ["${run('speculation')}"]}], "prefetch": [{"source": "list", "urls": ["${run('speculation-prefetch')}"]}]}</script>`,
      `start(); setTimeout(() => end('waited for hints'), 1500);`,
    ),
    '/link': page(`<p><a id="go" href="${run('link')}">claim your prize</a></p><p><a id="go-remove" href="${T}/admin/task/victim/remove?via=link">and this one</a></p>`),
    '/navigate': page('', `location.href = '${run('location')}';`),
    '/form-get': page(`<form id="f" method="GET" action="${T}/admin/task/target/run"><input name="via" value="form-get"><input name="n" value="2"></form>`, `document.getElementById('f').submit();`),
    '/form-post': page(`<form id="f" method="POST" action="${T}/admin/task/target/run?via=form-post"><input name="n" value="3"></form>`, `document.getElementById('f').submit();`),
    '/form-remove': page(`<form id="f" method="GET" action="${T}/admin/task/victim/remove"><input name="via" value="form-remove"></form>`, `document.getElementById('f').submit();`),
  };
}

describe('cross-site safety in chromium: an attacker page on another loopback port runs nothing', function () {
  this.timeout(120_000);
  const calls = new CallCounter();
  let waitingRun = '';
  const suite = useBrowserSuite({}, async (t) => {
    t.kernel.registerTask({
      key: 'target',
      title: 'Target',
      fields: [{ key: 'n', type: 'int', default: 1 }],
      run: () => {
        calls.hit('target');
        return 'ran';
      },
    });
    t.kernel.registerTask({ key: 'victim', run: () => (calls.hit('victim'), 'still here') });
    t.kernel.registerTask({ key: 'wait', run: ({ signal }) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })) });
    waitingRun = (await t.kernel.service.start(t.kernel.registry.require('wait'), {})).id;
  });
  const evil = new EvilSite();
  let evilPort = 0;
  /** Every attack request taskdeck answered (its URL has `via=`), as its HTTP server saw it. */
  const seen: Seen[] = [];
  /** alert(), confirm() or prompt() dialogs any page opened. */
  const dialogs: string[] = [];
  let unsubscribe = () => {};

  before(async () => {
    evilPort = await evil.listen();
    const target = new URL(suite.url);
    for (const [path, html] of Object.entries(evilPages(suite.url, target.host, waitingRun))) evil.page(path, html);
    // Recorded where it happens, in taskdeck's own HTTP server: chromium hides most of these responses
    // from the page (opaque-response blocking, CORS), but each one reached taskdeck and was answered.
    const port = Number(new URL(suite.url).port);
    dc.subscribe('http.server.response.finish', record);
    function record(message: unknown): void {
      const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
      if (request.socket.localPort !== port || !/[?&]via=/.test(request.url ?? '')) return;
      const header = (name: string) => String(request.headers[name] ?? '');
      seen.push({ url: request.url ?? '', status: response.statusCode, method: request.method ?? '', site: header('sec-fetch-site'), dest: header('sec-fetch-dest'), purpose: header('sec-purpose') || header('purpose') });
    }
    unsubscribe = () => dc.unsubscribe('http.server.response.finish', record);
  });
  after(async () => {
    unsubscribe();
    await evil.close();
  });

  /** Opens an attacker page and waits until its attempts have settled (or it navigated to taskdeck). */
  async function visit(origin: string, path: string, act?: (page: Page) => Promise<void>): Promise<{ log: string[] }> {
    const { page } = await suite.browser.newPage();
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    try {
      const navigatesAway = ['/navigate', '/form-get', '/form-post', '/form-remove'].includes(path);
      const landed = navigatesAway ? page.waitForResponse((r) => r.url().startsWith(suite.url) && r.request().isNavigationRequest()) : null;
      await page.goto(`${origin}${path}`);
      if (landed) await landed;
      if (act) await act(page);
      if (!navigatesAway && !act) await page.waitForFunction(() => window.__done === true, undefined, { timeout: 10_000 });
      const log = navigatesAway || act ? [] : await page.evaluate(() => window.__log ?? []);
      await page.waitForTimeout(100);
      return { log };
    } finally {
      await page.close();
    }
  }

  async function expectNothingRan(): Promise<void> {
    expect(calls.of('target'), 'target task calls').to.equal(0);
    expect(calls.of('victim'), 'victim task calls').to.equal(0);
    expect(await countRuns(suite.t, { task: ['target', 'victim'] }), 'runs in the history').to.equal(0);
    expect(suite.t.kernel.registry.has('victim'), 'the victim task was not removed').to.equal(true);
    expect(suite.t.kernel.service.activeRun(waitingRun), 'the waiting run was not cancelled').to.not.equal(undefined);
  }

  for (const [name, host, site] of [
    ['same-site, cross-origin (127.0.0.1 on another port)', '127.0.0.1', 'same-site'],
    ['cross-site (localhost on another port)', 'localhost', 'cross-site'],
  ] as const) {
    describe(`from an attacker page that is ${name}`, () => {
      const origin = () => `http://${host}:${evilPort}`;
      const refusedHere = () => seen.filter((s) => s.site === site);

      it('images (run, the live page, remove, cancel) are refused with 403 and run nothing', async () => {
        const { log } = await visit(origin(), '/img');
        expect(log.filter((l) => l.startsWith('img loaded')), 'no image loaded').to.deep.equal([]);
        await expectNothingRan();
        await eventually(() => refusedHere().filter((s) => s.dest === 'image').length >= 4, 5000, 'the image requests');
        for (const s of refusedHere().filter((r) => /via=img/.test(r.url))) expect([s.status, s.dest], s.url).to.deep.equal([403, 'image']);
      });

      it('fetch in no-cors and cors mode is refused and runs nothing', async () => {
        const { log } = await visit(origin(), '/fetch');
        expect(log).to.have.length(5);
        await expectNothingRan();
        await eventually(() => refusedHere().filter((s) => /via=fetch/.test(s.url)).length >= 5, 5000, 'the fetches');
        for (const s of refusedHere().filter((r) => /via=fetch/.test(r.url))) expect([s.status, s.dest], s.url).to.deep.equal([403, 'empty']);
      });

      it('iframes (run and the live page that would start a run) are refused and run nothing', async () => {
        await visit(origin(), '/iframe');
        await expectNothingRan();
        await eventually(() => refusedHere().filter((s) => /via=iframe/.test(s.url)).length >= 2, 5000, 'the iframe requests');
        for (const s of refusedHere().filter((r) => /via=iframe/.test(r.url))) expect([s.status, s.dest], s.url).to.deep.equal([403, 'iframe']);
      });

      it('script, stylesheet, object and video tags are refused and run nothing', async () => {
        await visit(origin(), '/tags');
        await expectNothingRan();
        const tagged = refusedHere().filter((s) => /via=(script|style|object|video)/.test(s.url));
        expect(tagged.map((s) => /via=(\w+)/.exec(s.url)![1]).sort(), 'each tag reached taskdeck').to.include.members(['object', 'script', 'style']);
        for (const s of tagged) expect(s.status, s.url).to.equal(403);
      });

      it('WebSockets (start, watch, a cancel message) are refused before 101: no open, no message, nothing runs', async () => {
        const { log } = await visit(origin(), '/ws');
        expect(log.filter((l) => /OPEN|MESSAGE/.test(l)), 'no socket opened').to.deep.equal([]);
        expect(log.filter((l) => l.startsWith('ws close 1006')), 'each socket failed').to.have.length(2);
        await expectNothingRan();
      });

      it('prefetch, prerender, preload and speculation rules hints run nothing', async () => {
        await visit(origin(), '/prefetch');
        await expectNothingRan();
        // Speculative loads carry Sec-Purpose (503) and, for a prerender, Sec-Fetch-Site: none.
        for (const s of seen.filter((r) => /via=(prefetch|prerender|preload|speculation)/.test(r.url))) expect(s.status, `${s.url} ${s.site} ${s.purpose}`).to.be.oneOf([403, 503]);
      });

      it('a clicked link (run and remove) lands on a 403 page and runs nothing', async () => {
        for (const id of ['#go', '#go-remove']) {
          await visit(origin(), '/link', async (page) => {
            const landed = page.waitForResponse((r) => r.url().startsWith(suite.url));
            await page.click(id);
            const response = await landed;
            expect(response.status(), id).to.equal(403);
            expect(await response.text()).to.contain('cross-site request refused');
          });
        }
        await expectNothingRan();
        for (const s of refusedHere().filter((r) => /via=link/.test(r.url))) expect([s.status, s.dest], s.url).to.deep.equal([403, 'document']);
      });

      it('a script navigation (location.href) lands on a 403 page and runs nothing', async () => {
        await visit(origin(), '/navigate');
        await expectNothingRan();
        const navigated = refusedHere().filter((s) => /via=location/.test(s.url));
        expect(navigated.length).to.be.at.least(1);
        for (const s of navigated) expect(s.status).to.equal(403);
      });

      it('auto-submitted GET forms (run, remove) are refused with 403, a POST form with 405, and nothing runs', async () => {
        await visit(origin(), '/form-get');
        await visit(origin(), '/form-remove');
        await visit(origin(), '/form-post');
        await expectNothingRan();
        await eventually(() => refusedHere().filter((s) => /form-(get|remove)/.test(s.url)).length >= 2 && refusedHere().some((s) => s.method === 'POST'), 5000, 'the form submissions');
        for (const s of refusedHere().filter((r) => /form-(get|remove)/.test(r.url))) expect(s.status, s.url).to.equal(403);
        for (const s of refusedHere().filter((r) => r.method === 'POST')) expect(s.status, s.url).to.equal(405);
      });

      it(`every request chromium sent to taskdeck from this page carried Sec-Fetch-Site: ${site} and was refused`, () => {
        const mine = seen.filter((s) => s.site === site);
        expect(mine.length).to.be.at.least(15);
        const statuses = new Set(mine.map((s) => s.status));
        for (const status of statuses) expect(status).to.be.oneOf([403, 405, 503]);
      });
    });
  }

  // Last (mocha runs a suite's own tests before its child suites): the summary, then the control run.
  describe('afterwards', () => {
    it('opened no dialog, and chromium sent nothing to taskdeck that was answered 2xx or 3xx', () => {
      expect(dialogs).to.deep.equal([]);
      const tally = new Map<string, number>();
      for (const s of seen) {
        const key = `${/via=([\w-]+)/.exec(s.url)?.[1] ?? '?'} ${s.site} ${s.status}`;
        tally.set(key, (tally.get(key) ?? 0) + 1);
      }
      console.log(`      ${seen.length} attack requests reached taskdeck, all refused: ${[...tally].map(([k, n]) => `${k}${n > 1 ? ` x${n}` : ''}`).join(', ')}`);
      expect(seen.filter((s) => s.status < 400), JSON.stringify(seen.filter((s) => s.status < 400))).to.deep.equal([]);
    });

    it('control: the same run URL typed into the address bar (Sec-Fetch-Site: none) runs the task once', async () => {
      const { page } = await suite.browser.newPage();
      try {
        const response = await page.goto(`${suite.url}/admin/task/target/run?via=typed`);
        expect(response?.status()).to.equal(200);
        expect(calls.of('target')).to.equal(1);
        expect(await countRuns(suite.t, { task: ['target'] })).to.equal(1);
      } finally {
        await page.close();
      }
    });
  });
});

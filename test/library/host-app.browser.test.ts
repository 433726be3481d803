import { expect } from 'chai';
import { checkPage, expectNoPageErrors, launchBrowser, requireChromium, type TestBrowser } from '../helpers/browser.js';
import { bootHostApp, type BootedHost } from './host-app-fixture.js';

// Functions passed to page.evaluate run in chromium (the project's `lib` has no DOM).
declare const document: any;

const RUN_PAGE = /^\/ops\/admin\/run\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('browser: the admin inside the example host app, under /ops', function () {
  this.timeout(60_000);
  let host: BootedHost;
  let browser: TestBrowser;

  before(async function () {
    this.timeout(40_000);
    requireChromium(this);
    host = await bootHostApp();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await host?.cleanup();
  });

  it('signs in through the host, runs a task with live output over the host\'s WebSocket, all under the prefix', async () => {
    const w = await browser.newPage();
    const { page } = w;
    const requests: string[] = [];
    page.on('request', (request) => requests.push(new URL(request.url()).pathname));
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(new URL(ws.url()).pathname));

    // Not signed in: the host sends the browser to its login, which comes back to the admin.
    await page.goto(`${host.url}/ops/admin/task`);
    expect(new URL(page.url()).pathname).to.equal('/login');
    await page.goto(`${host.url}/login?user=alice&next=${encodeURIComponent('/ops/admin/task')}`);
    expect(new URL(page.url()).pathname).to.equal('/ops/admin/task');
    await page.getByRole('link', { name: 'Greet' }).first().click();
    await page.waitForURL(/\/ops\/admin\/task\/greet$/);
    await checkPage(browser, w, 'host-app-task');

    await page.locator('input[name="name"]').fill('browser');
    await page.locator('input[name="times"]').fill('5');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    // The live page starts the run over the WebSocket, then shows the run's own URL.
    await page.waitForURL((url) => RUN_PAGE.test(url.pathname));
    await page.waitForFunction(() => document.querySelectorAll('#live [data-role="log-lines"] tr[data-seq]').length >= 6, undefined, { timeout: 10_000 });
    await page.locator('#live-result .result-card').waitFor();
    const lines = await page.locator('#live [data-role="log-lines"] tr td').allInnerTexts();
    expect(lines.slice(0, 5)).to.deep.equal([1, 2, 3, 4, 5].map((i) => `hello browser (${i}/5)`));
    expect(await page.locator('#live [data-role="run-link"]').getAttribute('href')).to.match(RUN_PAGE);
    await checkPage(browser, w, 'host-app-live-run');

    expect(sockets).to.have.length(1);
    expect(sockets[0]).to.equal('/ops/admin/task/greet/start');
    // Every request the pages made (documents, CSS, the script, the icon) went through the prefix.
    const admin = requests.filter((p) => p !== '/login');
    expect(admin.length).to.be.greaterThan(5);
    for (const p of admin) expect(p, 'a request of the admin').to.match(/^\/ops\/admin\//);
    expectNoPageErrors(w);

    const id = new URL(page.url()).pathname.split('/').at(-1)!;
    expect((await host.kernel.service.getStoredRun(id)).status).to.equal('ok');
    await page.close();
  });
});

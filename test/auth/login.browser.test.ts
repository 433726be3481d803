import { expect } from 'chai';
import { checkPage, expectNoPageErrors, useBrowserSuite } from '../helpers/browser.js';
import { makeToken } from './auth-helpers.js';

declare const document: any;

const TOKEN = makeToken();
const RUN_PAGE = /^\/admin\/run\/[0-9a-f-]{36}$/;

describe('browser: signing in with the token', function () {
  this.timeout(60_000);
  const s = useBrowserSuite({ config: { token: TOKEN } }, (t) => {
    t.kernel.registerTask({
      key: 'lines',
      title: 'Lines',
      fields: [{ key: 'n', type: 'int', default: 4 }],
      run: async ({ args, log }) => {
        for (let i = 1; i <= (args.n as number); i++) {
          log(`line ${i}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return 'done';
      },
    });
  });

  it('goes to the login form, back to the page after signing in, runs live over the session, and signs out', async () => {
    const w = await s.browser.newPage();
    const { page } = w;
    await page.goto(`${s.url}/admin/task/lines`);
    expect(new URL(page.url()).pathname).to.equal('/admin/login');
    expect(new URL(page.url()).searchParams.get('next')).to.equal('/admin/task/lines');
    await checkPage(s.browser, w, 'login');

    await page.locator('#login-token').fill(`${TOKEN}-wrong`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That token is not right.').waitFor();
    // The form answered 401, which chromium reports as a failed resource: expected here, and only that.
    expect(w.errors).to.have.length(1);
    expect(w.errors[0]).to.match(/status of 401 .*\/admin\/login\)$/);
    w.errors.length = 0;
    await page.locator('#login-token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/admin\/task\/lines$/);
    const cookies = await s.browser.context.cookies(`${s.url}/admin/task`);
    expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite, c.path])).to.deep.equal([['taskdeck_session', true, 'Strict', '/admin']]);
    expect(cookies[0]!.value).to.not.include(TOKEN);

    // A run from the form's Start button: the page's WebSocket goes through with the cookie.
    await page.locator('input[name="n"]').fill('5');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.waitForURL((url) => RUN_PAGE.test(url.pathname));
    await page.locator('#live-result .result-card').waitFor();
    expect(await page.locator('#live [data-role="log-lines"] tr td').allInnerTexts()).to.include.members(['line 1', 'line 5']);
    expectNoPageErrors(w);

    // The Run button (a plain GET from our page) runs too: the browser sends Sec-Fetch-Site: same-origin.
    await page.goto(`${s.url}/admin/task/lines`);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.waitForURL(/\/admin\/task\/lines\/run\?/);
    expect(await page.locator('body').innerText()).to.include('line 4');
    expect((await s.t.kernel.service.listRuns({ task: ['lines'] })).runs.map((r) => r.status)).to.deep.equal(['ok', 'ok']);

    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.waitForURL(/\/admin\/login$/);
    expect(await s.browser.context.cookies(`${s.url}/admin/task`)).to.deep.equal([]);
    await page.goto(`${s.url}/admin/run`);
    expect(new URL(page.url()).pathname).to.equal('/admin/login');
    expect(await page.evaluate(() => document.body.innerText)).to.not.include(TOKEN);
    expectNoPageErrors(w);
    await page.close();
  });
});

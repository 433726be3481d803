import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { checkPage, expectNoPageErrors, useBrowserSuite } from '../helpers/browser.js';
import { BACKUP_PLUGIN } from './fixtures.js';

// Functions passed to page.evaluate run in chromium. The project's `lib` has no DOM (the kernel is Node
// code), so the browser globals they use are declared here, for this module only.
declare const document: any;
declare function getComputedStyle(element: unknown): { backgroundColor: string; color: string };

const cardKeys = (page: Page) => page.locator('.task-card code.subtle').allInnerTexts();

describe('browser: the task list', function () {
  this.timeout(30_000);
  const s = useBrowserSuite({ plugins: { 'backup.mjs': BACKUP_PLUGIN } }, (t) => {
    t.kernel.registerTask({ key: 'hello', title: 'Say Hello', category: 'examples', run: ({ log }) => log('hello') });
  });

  it('removes a dynamic task with its Remove button, after confirming: gone from the list, its page is 404', async () => {
    s.t.kernel.registerTask({ key: 'temp-cleanup', title: 'Temporary Cleanup', description: 'Registered by a test', run: () => 'done' });
    await s.t.kernel.service.run('temp-cleanup');
    const w = await s.browser.newPage();
    const { page } = w;
    await page.goto(`${s.url}/admin/task`);
    expect(await cardKeys(page)).to.include('temp-cleanup');
    await Promise.all([page.waitForURL(/\/admin\/task\/temp-cleanup$/), page.locator('.task-card', { hasText: 'temp-cleanup' }).getByRole('link', { name: 'Open' }).click()]);
    // A task from a plugin file has no Remove button; this dynamic one has.
    const remove = page.getByRole('link', { name: 'Remove task' });
    expect(await remove.count()).to.equal(1);
    await checkPage(s.browser, w, 'task-detail-dynamic');

    // Dismissing the confirmation keeps the task.
    const dialogs: string[] = [];
    page.once('dialog', (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });
    await remove.click();
    await page.waitForTimeout(200);
    expect(dialogs).to.deep.equal(['confirm: Remove the task temp-cleanup? Its runs stay in the history.']);
    expect(new URL(page.url()).pathname).to.equal('/admin/task/temp-cleanup');
    expect(s.t.kernel.registry.get('temp-cleanup')).to.not.equal(undefined);

    // Accepting it removes the task and lands on the list, which says so.
    page.once('dialog', (dialog) => void dialog.accept());
    await Promise.all([page.waitForURL(/\/admin\/task\?removed=temp-cleanup$/), remove.click()]);
    expect(s.t.kernel.registry.get('temp-cleanup')).to.equal(undefined);
    expect(await cardKeys(page)).to.not.include('temp-cleanup');
    expect(await cardKeys(page)).to.include.members(['backup', 'hello']);
    const notice = page.locator('[data-role="removed-notice"]');
    expect(await notice.innerText()).to.contain('temp-cleanup');
    await checkPage(s.browser, w, 'task-list-after-remove');

    // Its page is a 404 now (the only console error is the browser's own note of that status).
    const response = await page.goto(`${s.url}/admin/task/temp-cleanup`);
    expect(response?.status()).to.equal(404);
    expect(await page.locator('.error-page .status-code').innerText()).to.equal('404');
    expect(w.errors).to.have.length(1);
    expect(w.errors[0]).to.match(/status of 404/);
    w.errors.length = 0;
    await checkPage(s.browser, w, 'task-removed-404');

    // Its runs stay in the history.
    expect((await s.t.kernel.service.listRuns({ task: ['temp-cleanup'] })).runs).to.have.length(1);
    await page.close();
  });

  it('a plugin task shows no Remove button', async () => {
    const w = await s.browser.newPage();
    await w.page.goto(`${s.url}/admin/task/backup`);
    expect(await w.page.getByRole('link', { name: 'Remove task' }).count()).to.equal(0);
    expect(await w.page.locator('.task-facts').innerText()).to.contain('backup.mjs');
    expectNoPageErrors(w);
    await w.page.close();
  });

  it('the json format link of the task list gives the tasks as JSON', async () => {
    const w = await s.browser.newPage();
    const { page } = w;
    await page.goto(`${s.url}/admin/task`);
    const formats = await page.locator('footer nav.formats a').allInnerTexts();
    expect(formats).to.deep.equal(['json', 'csv', 'xml', 'yaml']);
    await checkPage(s.browser, w, 'task-list');

    const [response] = await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname === '/admin/task'), page.locator('footer nav.formats a', { hasText: 'json' }).click()]);
    expect(response.status()).to.equal(200);
    expect(response.headers()['content-type']).to.match(/^application\/json/);
    const tasks = (await response.json()) as Array<{ key: string; title: string; dangerous: string; expensive: boolean; tags: string[] }>;
    expect(Array.isArray(tasks)).to.equal(true);
    expect(tasks.map((task) => task.key).sort()).to.deep.equal(['backup', 'hello']);
    expect(tasks.find((task) => task.key === 'backup')).to.deep.include({ title: 'Database Backup', dangerous: 'May lock tables during backup', expensive: true });
    await checkPage(s.browser, w, 'task-list-json');

    // On the backup task, whose own field is called `format`, the json link still gives JSON (t=json).
    await page.goto(`${s.url}/admin/task/backup`);
    const [detail] = await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname === '/admin/task/backup'), page.locator('footer nav.formats a', { hasText: 'json' }).click()]);
    expect(detail.headers()['content-type']).to.match(/^application\/json/);
    expect(await detail.json()).to.deep.include({ key: 'backup', title: 'Database Backup' });
    expectNoPageErrors(w, 'the task JSON page');
    await page.close();
  });

  // A JSON (or CSV, XML, YAML) page has no <link rel="icon">, so chromium asks for /favicon.ico.
  it('a JSON page logs no console error (not even for /favicon.ico)', async () => {
    const w = await s.browser.newPage();
    await w.page.goto(`${s.url}/admin/task?t=json`);
    await w.page.waitForTimeout(500);
    expectNoPageErrors(w);
    await w.page.close();
  });

  it('follows prefers-color-scheme: the body background differs in dark mode', async () => {
    const light = await s.browser.newPage({ colorScheme: 'light' });
    const dark = await s.browser.newPage({ colorScheme: 'dark' });
    const background = (page: Page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await light.page.goto(`${s.url}/admin/task`);
    await dark.page.goto(`${s.url}/admin/task`);
    const [lightBg, darkBg] = [await background(light.page), await background(dark.page)];
    expect(lightBg).to.not.equal(darkBg);
    // And it really is dark: low luminance, light text.
    const channels = (colour: string) => (colour.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number);
    const sum = (colour: string) => channels(colour).reduce((a, b) => a + b, 0);
    expect(sum(darkBg)).to.be.lessThan(sum(lightBg));
    expect(sum(darkBg)).to.be.lessThan(150);
    expect(sum(await dark.page.evaluate(() => getComputedStyle(document.body).color))).to.be.greaterThan(500);
    await checkPage(s.browser, light, 'task-list-light');
    await checkPage(s.browser, dark, 'task-list-dark');
    // The live page and a result in dark mode too.
    await dark.page.goto(`${s.url}/admin/task/hello/run`);
    await dark.page.locator('.result-card').waitFor();
    await checkPage(s.browser, dark, 'run-result-dark');
    await light.page.close();
    await dark.page.close();
  });
});

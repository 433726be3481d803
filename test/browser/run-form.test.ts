import { expect } from 'chai';
import { checkPage, useBrowserSuite } from '../helpers/browser.js';
import { BACKUP_PLUGIN } from './fixtures.js';

// Functions passed to page.evaluate run in chromium. The project's `lib` has no DOM (the kernel is Node
// code), so the browser globals they use are declared here, for this module only.
declare const document: any;

describe('browser: the run form of a dangerous task', function () {
  this.timeout(30_000);
  const s = useBrowserSuite({ plugins: { 'backup.mjs': BACKUP_PLUGIN } });

  const backupRuns = async () => (await s.t.kernel.service.listRuns({ task: ['backup'] })).runs;

  it('shows the backup task with its warning and badges', async () => {
    const w = await s.browser.newPage();
    const { page } = w;
    const response = await page.goto(`${s.url}/admin/task/backup`);
    expect(response?.status()).to.equal(200);
    expect(await page.locator('h1').innerText()).to.equal('Database Backup');
    expect(await page.locator('.page-header .badge-danger').innerText()).to.contain('Dangerous');
    expect(await page.locator('.page-header .badge-warn').innerText()).to.contain('Expensive');
    expect(await page.locator('.page-header .tags').innerText()).to.contain('db').and.to.contain('maintenance');
    expect(await page.locator('.task-form .callout-danger').innerText()).to.contain('May lock tables during backup');
    // Choices give a select holding the default.
    expect(await page.locator('select[name="format"]').inputValue()).to.equal('sql');
    expect(await page.locator('select[name="format"] option').allInnerTexts()).to.include.members(['sql', 'tar']);
    await checkPage(s.browser, w, 'task-detail-backup');
    await page.close();
  });

  it('refuses to submit before the key is typed (nothing runs), then runs it and shows the result', async () => {
    const w = await s.browser.newPage();
    const { page } = w;
    const detail = `${s.url}/admin/task/backup`;
    await page.goto(detail);
    await page.locator('select[name="format"]').selectOption('tar');
    await page.locator('#run-label').fill('browser-check');
    const message = page.locator('[data-role="confirm-message"]');
    const confirm = page.locator('#confirm-key');
    const runButton = page.getByRole('button', { name: 'Run', exact: true });

    // Not confirmed: the submit is blocked, the message says why, the focus goes to the confirmation.
    await runButton.click();
    await message.waitFor({ state: 'visible' });
    expect(await message.innerText()).to.contain('type "backup" to confirm');
    expect(await confirm.getAttribute('aria-invalid')).to.equal('true');
    expect(await confirm.evaluate((el) => el === document.activeElement)).to.equal(true);

    // A wrong key and the Start button are blocked the same way.
    await confirm.fill('backpu');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.waitForFunction(() => document.querySelector('[data-role="confirm-message"]')?.textContent?.includes('not the task key'));
    await checkPage(s.browser, w, 'backup-confirm-blocked');

    // Give a submission that slipped through time to reach the server: still nothing ran.
    await page.waitForTimeout(300);
    expect(page.url()).to.equal(detail);
    expect(await backupRuns()).to.have.length(0);
    // The form kept what the user chose.
    expect(await page.locator('select[name="format"]').inputValue()).to.equal('tar');

    // Typing the key clears the error; Run now submits.
    await confirm.fill('backup');
    await message.waitFor({ state: 'hidden' });
    expect(await confirm.getAttribute('aria-invalid')).to.equal(null);
    await Promise.all([page.waitForURL(/\/admin\/task\/backup\/run\?/), runButton.click()]);
    await page.locator('.result-card').waitFor();

    const query = new URL(page.url()).searchParams;
    expect(query.get('format')).to.equal('tar');
    expect(query.get('category')).to.equal('browser-check');
    expect(query.has('async')).to.equal(false);

    // The result: status ok, the data, the label, the args.
    expect(await page.locator('.result-card .card-header .status').getAttribute('data-status')).to.equal('ok');
    const data = await page.locator('.result-card pre.json').first().innerText();
    expect(JSON.parse(data)).to.deep.equal({ file: 'backup.tar' });
    expect(await page.locator('.result-card').innerText()).to.contain('browser-check');
    // The logs, with line numbers 1..N and the completion line last.
    const rows = page.locator('.logs-card table.log tbody tr');
    const numbers = await rows.locator('th').allInnerTexts();
    expect(numbers).to.deep.equal(numbers.map((_, i) => String(i + 1)));
    const lines = await rows.locator('td').allInnerTexts();
    expect(lines.slice(0, 4)).to.deep.equal(['starting backup', 'locking tables', 'writing backup.tar', 'unlocking tables']);
    expect(lines.at(-1)).to.match(/^task \[Database Backup\] completed in \[\d+(\.\d+)?ms\]$/);
    // The sync result page is not the run's page: it links there.
    const runPage = page.locator('.result-card [data-role="run-page-link"]');
    expect(await runPage.getAttribute('href')).to.match(/^\/admin\/run\/[0-9a-f-]{36}$/);
    // The form above the result is filled in as submitted.
    expect(await page.locator('select[name="format"]').inputValue()).to.equal('tar');
    expect(await page.locator('#run-label').inputValue()).to.equal('browser-check');
    await checkPage(s.browser, w, 'run-result-backup');

    const runs = await backupRuns();
    expect(runs).to.have.length(1);
    expect(runs[0]).to.deep.include({ status: 'ok', label: 'browser-check' });
    expect(runs[0]!.args).to.deep.equal({ format: 'tar' });
    await page.close();
  });
});

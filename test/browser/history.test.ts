import { expect } from 'chai';
import { checkPage, expectNoPageErrors, useBrowserSuite } from '../helpers/browser.js';
import { BACKUP_PLUGIN, RUN_URL } from './fixtures.js';

describe('browser: run history', function () {
  this.timeout(30_000);
  const s = useBrowserSuite({ plugins: { 'backup.mjs': BACKUP_PLUGIN } }, async (t) => {
    t.kernel.registerTask({
      key: 'report',
      title: 'Weekly Report',
      fields: [
        { key: 'name', type: 'string', default: 'sales' },
        { key: 'count', type: 'int', default: 5 },
        { key: 'ratio', type: 'float', default: 0.5 },
        { key: 'verbose', type: 'bool', default: true },
        { key: 'items', type: '[]string' },
        { key: 'regions', type: '[]string', choices: ['eu', 'us', 'asia'] },
        { key: 'since', type: 'time' },
      ],
      run: ({ args, log }) => {
        log(`report ${String(args.name)}`);
        return { ok: true };
      },
    });
    // Some history: two tasks, several labels.
    await t.kernel.service.run('backup', { format: 'sql' }, { label: 'nightly' });
    await t.kernel.service.run('backup', { format: 'tar' }, { label: 'weekly' });
    await t.kernel.service.run(
      'report',
      { name: 'north & south', count: 42, ratio: 0.125, verbose: false, items: ['alpha', 'beta gamma'], regions: ['eu', 'asia'], since: '2024-05-01T10:20:30Z' },
      { label: 'monthly' },
    );
  });

  it('lists the runs, filters them by task with the form (the URL carries the filter)', async () => {
    const w = await s.browser.newPage();
    const { page } = w;
    await page.goto(`${s.url}/admin/run`);
    const taskCells = page.locator('table.runs tbody tr td:nth-child(2) a');
    expect((await taskCells.allInnerTexts()).sort()).to.deep.equal(['Database Backup', 'Database Backup', 'Weekly Report']);
    await checkPage(s.browser, w, 'history-all');

    await page.locator('#filter-task').selectOption('backup');
    await Promise.all([page.waitForURL(/\/admin\/run\?/), page.getByRole('button', { name: 'Filter', exact: true }).click()]);
    // Empty filters are left out of the URL: only the task is there.
    expect(new URL(page.url()).search).to.equal('?task=backup');
    expect(await taskCells.allInnerTexts()).to.deep.equal(['Database Backup', 'Database Backup']);
    expect(await page.locator('#filter-task').inputValue()).to.equal('backup');
    await checkPage(s.browser, w, 'history-filtered');

    // The filtered URL is shareable: opening it again gives the same rows.
    await page.goto(page.url());
    expect(await taskCells.allInnerTexts()).to.deep.equal(['Database Backup', 'Database Backup']);
    await page.close();
  });

  it('opens a run from the history, and "Run again with these args" pre-fills the form with its args and label', async () => {
    const w = await s.browser.newPage();
    const { page } = w;
    await page.goto(`${s.url}/admin/run?task=report`);
    const link = page.locator('table.runs tbody tr a.run-id').first();
    await Promise.all([page.waitForURL(RUN_URL), link.click()]);
    const id = RUN_URL.exec(new URL(page.url()).pathname)![1]!;
    expect(await page.locator('h1 .run-id').innerText()).to.equal(id);
    expect(await page.locator('.result-card .card-header .status').getAttribute('data-status')).to.equal('ok');
    expect(await page.locator('.logs-card table.log td').first().innerText()).to.equal('report north & south');
    // Metadata is folded away; its summary opens it.
    const metadata = page.locator('.result-card details.metadata');
    expect(await metadata.locator('pre').isVisible()).to.equal(false);
    await metadata.locator('summary').click();
    expect(await metadata.locator('pre').isVisible()).to.equal(true);
    await checkPage(s.browser, w, 'run-detail-report');

    await Promise.all([page.waitForURL(/\/admin\/task\/report\?/), page.getByRole('link', { name: 'Run again with these args' }).click()]);
    const form = page.locator('form.task-form');
    expect(await form.locator('input[name="name"]').inputValue()).to.equal('north & south');
    expect(await form.locator('input[name="count"]').inputValue()).to.equal('42');
    expect(await form.locator('input[name="ratio"]').inputValue()).to.equal('0.125');
    expect(await form.locator('input[name="verbose"]').isChecked()).to.equal(false);
    expect(await form.locator('textarea[name="items"]').inputValue()).to.equal('alpha\nbeta gamma');
    expect(await form.locator('select[name="regions"] option:checked').allInnerTexts()).to.deep.equal(['eu', 'asia']);
    expect(await form.locator('input[name="since"]').inputValue()).to.equal('2024-05-01T10:20:30');
    expect(await form.locator('#run-label').inputValue()).to.equal('monthly');
    await checkPage(s.browser, w, 'task-detail-run-again');

    // Running the pre-filled form gives the same args and label as the original run.
    await Promise.all([page.waitForURL(/\/admin\/task\/report\/run\?/), page.getByRole('button', { name: 'Run', exact: true }).click()]);
    await page.locator('.result-card').waitFor();
    // The form above the result shows the time as submitted (whatever the server's time zone).
    expect(await form.locator('input[name="since"]').inputValue()).to.equal('2024-05-01T10:20:30');
    const original = await s.t.kernel.service.getStoredRun(id);
    const runs = (await s.t.kernel.service.listRuns({ task: ['report'] })).runs;
    expect(runs).to.have.length(2);
    const again = runs.find((r) => r.id !== id)!;
    expect(again.label).to.equal('monthly');
    expect(again.args).to.deep.equal(original.args);
    await checkPage(s.browser, w, 'run-result-report-again');
    await page.close();
  });

  it('opens the retention preview from the history: the policy, the size and what would go, read-only', async () => {
    const w = await s.browser.newPage();
    const { page } = w;
    await page.goto(`${s.url}/admin/run`);
    await Promise.all([page.waitForURL(/\/admin\/retention$/), page.getByRole('link', { name: 'Retention' }).click()]);
    expect(await page.locator('h1').innerText()).to.equal('Retention');
    expect(await page.locator('[data-policy="maxAgeDays"]').innerText()).to.equal('30 days');
    expect(await page.locator('[data-policy="keepPerTask"]').innerText()).to.equal('latest 100');
    // Every run here is recent: none would go, and all are still listed afterwards.
    expect(await page.locator('[data-retention="by-age"] strong').innerText()).to.equal('0');
    expect(await page.locator('[data-retention="size"]').innerText()).to.match(/KiB|MiB/);
    await checkPage(s.browser, w, 'retention');
    expect((await s.t.kernel.service.listRuns({})).runs.length).to.be.at.least(3);
    // "Prune now" is a same-origin form: it prunes (nothing is old enough here) and comes back to the preview.
    await Promise.all([page.waitForURL(/\/admin\/retention$/), page.getByRole('button', { name: 'Prune now' }).click()]);
    expect(await page.locator('[data-retention="last-prune"]').innerText()).to.match(/0 run\(s\) by age, 0 by size/);
    expect((await s.t.kernel.service.listRuns({})).runs.length).to.be.at.least(3);
    expectNoPageErrors(w);
    await page.close();
  });

  it('keeps the milliseconds of a time in the form, and the browser submits them', async () => {
    const w = await s.browser.newPage();
    const { page } = w;
    await page.goto(`${s.url}/admin/task/report?since=2024-05-01T10:20:30.125Z&category=precise`);
    const since = page.locator('form.task-form input[name="since"]');
    expect(await since.inputValue()).to.equal('2024-05-01T10:20:30.125');
    expect(await since.evaluate((el) => (el as { validity: { valid: boolean } }).validity.valid)).to.equal(true);
    await Promise.all([page.waitForURL(/\/admin\/task\/report\/run\?/), page.getByRole('button', { name: 'Run', exact: true }).click()]);
    await page.locator('.result-card').waitFor();
    const run = (await s.t.kernel.service.listRuns({ task: ['report'], label: ['precise'] })).runs[0]!;
    expect(run.args.since).to.equal('2024-05-01T10:20:30.125Z');
    expectNoPageErrors(w);
    await page.close();
  });
});

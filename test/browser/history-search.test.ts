import { expect } from 'chai';
import { checkPage, expectNoPageErrors, useBrowserSuite } from '../helpers/browser.js';

describe('browser: history search, long logs, copy commands', function () {
  this.timeout(60_000);
  const ids = { needle: '', other: '', long: '', flood: '' };
  const s = useBrowserSuite({ config: { limits: { maxLogLines: 1_000_000 } } }, async (t) => {
    t.kernel.registerTask({
      key: 'deploy',
      fields: [{ key: 'env', choices: ['prod', 'dev'] }, { key: 'note' }],
      run: ({ args, log }) => log(`shipping ${String(args.note)}`),
    });
    t.kernel.registerTask({ key: 'lines', fields: [{ key: 'n', type: 'int' }], run: ({ args, log }) => {
      for (let i = 1; i <= Number(args.n); i++) log(`line ${i} of ${String(args.n)}`);
    } });
    ids.needle = (await t.kernel.service.run('deploy', { env: 'prod', note: 'the <b>needle</b> & thread' })).id;
    ids.other = (await t.kernel.service.run('deploy', { env: 'dev', note: 'a needle too' })).id;
    await t.kernel.service.run('deploy', { env: 'prod', note: 'nothing here' });
    ids.long = (await t.kernel.service.run('lines', { n: 2500 })).id;
    ids.flood = (await t.kernel.service.run('lines', { n: 200_000 })).id;
  });

  it('searches with the filter form and an argument filter, and shows the match highlighted (escaped)', async () => {
    const w = await s.browser.newPage();
    const { page } = w;
    await page.goto(`${s.url}/admin/run`);
    await page.locator('#filter-q').fill('needle');
    await page.locator('#filter-arg-name').fill('env');
    await page.locator('#filter-arg-value').fill('prod');
    await page.getByRole('button', { name: 'Add argument filter' }).click();
    const chips = () => page.locator('.arg-chip').evaluateAll((lis) => lis.map((li) => (li.textContent ?? '').replace(/\s+/g, ' ').trim()));
    expect(await chips()).to.deep.equal(['env = prod']);
    await Promise.all([page.waitForURL(/\/admin\/run\?/), page.getByRole('button', { name: 'Filter', exact: true }).click()]);
    const query = new URL(page.url()).searchParams;
    expect(Object.fromEntries(query)).to.deep.equal({ q: 'needle', 'arg.env': 'prod' });

    const runLinks = page.locator('table.runs tbody a.run-id');
    expect(await runLinks.allInnerTexts()).to.deep.equal([ids.needle]);
    const snippet = page.locator('[data-role="snippet"] .snippet-text');
    expect(await snippet.locator('mark').allInnerTexts()).to.deep.equal(['needle']);
    // The task's markup is text: one mark, no <b> element.
    expect(await snippet.innerText()).to.equal('shipping the <b>needle</b> & thread');
    expect(await snippet.locator('b').count()).to.equal(0);
    // The form is filled back in, the argument filter is a chip.
    expect(await page.locator('#filter-q').inputValue()).to.equal('needle');
    expect(await chips()).to.deep.equal(['env = prod']);
    expect(await page.locator('.arg-chip input[type="hidden"]').getAttribute('name')).to.equal('arg.env');
    await checkPage(s.browser, w, 'history-search');

    // Dropping the chip keeps the search: both needles.
    await Promise.all([page.waitForURL(/\/admin\/run\?q=needle$/), page.locator('.arg-chip a.chip-remove').click()]);
    expect((await runLinks.allInnerTexts()).sort()).to.deep.equal([ids.needle, ids.other].sort());
    expectNoPageErrors(w);
    await page.close();
  });

  it('opens a long log at its end and loads the earlier lines back to line 1', async () => {
    const w = await s.browser.newPage();
    const { page } = w;
    await page.goto(`${s.url}/admin/run/${ids.long}`);
    const rows = page.locator('.logs-card tr[data-seq]');
    const seqs = async () => (await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-seq')))));
    expect(await rows.count()).to.equal(1000);
    expect((await seqs())[0]).to.equal(1502);
    const button = page.getByRole('button', { name: 'Load earlier lines' });
    const note = page.locator('[data-role="log-window-note"]');
    expect(await note.innerText()).to.equal('Showing lines 1502–2501 of 2501');

    await button.click();
    await page.locator('.logs-card tr[data-seq="502"]').waitFor();
    expect((await seqs())[0]).to.equal(502);
    expect(await note.innerText()).to.equal('Showing lines 502–2501 of 2501');
    await checkPage(s.browser, w, 'run-log-earlier');

    await button.click();
    await page.locator('.logs-card tr[data-seq="1"]').waitFor();
    const all = await seqs();
    expect(all).to.deep.equal(Array.from({ length: 2501 }, (_, i) => i + 1));
    expect(await button.count(), 'no more to load').to.equal(0);
    expect(await note.innerText()).to.equal('Showing lines 1–2501 of 2501');
    expectNoPageErrors(w);
    await page.close();
  });

  it('opens the page of a 200,000-line run at once (measured, not asserted)', async () => {
    const w = await s.browser.newPage();
    const { page } = w;
    const started = Date.now();
    await page.goto(`${s.url}/admin/run/${ids.flood}`, { waitUntil: 'load' });
    const wall = Date.now() - started;
    // Navigation Timing, read in the page (the test's TypeScript has no DOM types).
    const nav = await page.evaluate<{ response: number; load: number }>(
      "(() => { const e = performance.getEntriesByType('navigation')[0]; return { response: e.responseEnd - e.requestStart, load: e.loadEventEnd - e.startTime }; })()",
    );
    expect(await page.locator('.logs-card tr[data-seq]').last().innerText()).to.match(/^200001\s+task \[Lines\] completed/);
    expect(await page.locator('.logs-card tr[data-seq="199999"]').innerText()).to.match(/line 199999 of 200000$/);
    expect(await page.locator('.logs-card tr[data-seq="1"]').count()).to.equal(0);
    console.log(`      browser: 200,000-line run page: request to response ${nav.response.toFixed(0)} ms, load event ${nav.load.toFixed(0)} ms (goto ${wall} ms)`);
    expectNoPageErrors(w);
    await page.close();
  });

  it('keeps the copy commands of a form in step with what it holds', async () => {
    const w = await s.browser.newPage();
    const { page } = w;
    await page.goto(`${s.url}/admin/task/deploy?env=prod&note=${encodeURIComponent("it's")}&category=L`);
    const cli = page.locator('form.task-form [data-copy-kind="cli"]');
    const curl = page.locator('form.task-form [data-copy-kind="curl"]');
    const link = page.locator('form.task-form [data-copy-kind="link"]');
    const server = { cli: await cli.getAttribute('data-copy-text'), curl: await curl.getAttribute('data-copy-text'), link: await link.getAttribute('data-copy') };
    expect(server.cli).to.equal("npx taskdeck run deploy 'env=prod' 'note=it'\\''s' --label 'L'");
    // The script computes the same strings as the server from the same values...
    await page.locator('form.task-form input[name="note"]').dispatchEvent('change');
    expect({ cli: await cli.getAttribute('data-copy-text'), curl: await curl.getAttribute('data-copy-text'), link: await link.getAttribute('data-copy') }).to.deep.equal(server);
    // ...and follows an edit.
    await page.locator('form.task-form input[name="note"]').fill('$(rm -rf ~) "x"');
    await page.locator('form.task-form select[name="env"]').selectOption('dev');
    await page.locator('#run-label').fill('');
    expect(await cli.getAttribute('data-copy-text')).to.equal(`npx taskdeck run deploy 'env=dev' 'note=$(rm -rf ~) "x"'`);
    expect(await curl.getAttribute('data-copy-text')).to.equal(`curl -s '${s.url}/admin/task/deploy/run?env=dev&note=%24%28rm+-rf+%7E%29+%22x%22&t=json'`);
    expect(await link.getAttribute('data-copy')).to.equal('/admin/task/deploy?env=dev&note=%24%28rm+-rf+%7E%29+%22x%22');
    // Copying a command puts it on the clipboard as it is.
    await s.browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.url });
    await cli.click();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).to.equal(`npx taskdeck run deploy 'env=dev' 'note=$(rm -rf ~) "x"'`);
    expectNoPageErrors(w);
    await page.close();
  });
});

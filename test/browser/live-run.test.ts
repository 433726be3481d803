import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { checkPage, useBrowserSuite } from '../helpers/browser.js';
import { RUN_URL, registerSlowTask, type Invocations } from './fixtures.js';

// Functions passed to page.evaluate run in chromium. The project's `lib` has no DOM (the kernel is Node
// code), so the browser globals they use are declared here, for this module only.
declare const document: any;

interface LiveSample {
  rows: number;
  status: string | null;
  progressValue: number | null;
  progressMax: number | null;
  progressText: string;
}

/** What the live card shows right now. */
function sampleLive(page: Page): Promise<LiveSample> {
  return page.evaluate(() => {
    const card = document.getElementById('live')!;
    const progress = card.querySelector('[data-role="progress"]');
    return {
      rows: card.querySelectorAll('[data-role="log-lines"] tr[data-seq]').length,
      status: card.querySelector('[data-role="status"] [data-status]')?.getAttribute('data-status') ?? null,
      progressValue: progress.hasAttribute('value') ? progress.value : null,
      progressMax: progress.hasAttribute('max') ? progress.max : null,
      progressText: card.querySelector('[data-role="progress-text"]')?.textContent ?? '',
    };
  });
}

/** The log lines on the page: [seq, text] in document order. */
function logRows(page: Page): Promise<Array<[number, string]>> {
  return page.locator('#live [data-role="log-lines"] tr').evaluateAll((rows) =>
    rows.map((row) => [Number(row.getAttribute('data-seq')), row.querySelector('td')?.textContent ?? ''] as [number, string]),
  );
}

function runIdOf(page: Page): string {
  const match = RUN_URL.exec(new URL(page.url()).pathname);
  if (!match) throw new Error(`not a run page: ${page.url()}`);
  return match[1]!;
}

const expectedLines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1} of ${n}`);

describe('browser: live runs', function () {
  this.timeout(30_000);
  let invocations: Invocations;
  const s = useBrowserSuite({}, (t) => {
    invocations = registerSlowTask(t);
  });

  /** Opens the slow task's form, fills it, presses Start; resolves once the URL is the run's page. */
  async function startSlow(page: Page, args: { lines?: number; delay?: number; label?: string } = {}): Promise<string> {
    await page.goto(`${s.url}/admin/task/slow`);
    if (args.lines !== undefined) await page.locator('input[name="lines"]').fill(String(args.lines));
    if (args.delay !== undefined) await page.locator('input[name="delay"]').fill(String(args.delay));
    if (args.label !== undefined) await page.locator('#run-label').fill(args.label);
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    // The live page starts the run over the WebSocket, then puts the run's own URL in the address bar.
    await page.waitForURL(RUN_URL);
    return runIdOf(page);
  }

  it('streams a slow run: lines arrive while it runs, the progress moves, then the result appears', async () => {
    const w = await s.browser.newPage();
    const { page } = w;
    const id = await startSlow(page, { label: 'live-check' });

    const samples: LiveSample[] = [];
    const deadline = Date.now() + 10_000;
    let shotTaken = false;
    for (;;) {
      const sample = await sampleLive(page);
      samples.push(sample);
      if (!shotTaken && sample.status === 'running' && sample.rows >= 8) {
        shotTaken = true;
        await checkPage(s.browser, w, 'live-run-in-progress');
      }
      if (sample.status !== 'running' || Date.now() > deadline) break;
      await page.waitForTimeout(25);
    }
    const running = samples.filter((x) => x.status === 'running');
    // Lines appeared before the run was complete, and their number grew over time.
    const rowCounts = [...new Set(running.map((x) => x.rows))];
    expect(rowCounts.filter((n) => n > 0 && n < 20).length, `row counts seen while running: ${rowCounts.join(',')}`).to.be.greaterThan(2);
    samples.forEach((x, i) => i && expect(x.rows).to.be.at.least(samples[i - 1]!.rows));
    // The progress bar moved part way (determinate, out of 20) with its text.
    const partial = running.filter((x) => x.progressMax === 20 && x.progressValue !== null && x.progressValue > 0 && x.progressValue < 20);
    expect(partial.length, 'progress seen part way').to.be.greaterThan(0);
    expect(partial.at(-1)!.progressText).to.match(/^\d+ \/ 20 — line \d+$/);

    // The end: status ok, the result card from the server, every line once.
    await page.locator('#live-result .result-card').waitFor();
    const end = await sampleLive(page);
    expect(end.status).to.equal('ok');
    expect(end.progressText).to.equal('done');
    expect(end.progressValue).to.equal(20);
    const data = await page.locator('#live-result .result-card pre.json').first().innerText();
    expect(JSON.parse(data)).to.deep.equal({ lines: 20 });
    const rows = await logRows(page);
    expect(rows.map(([seq]) => seq)).to.deep.equal(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(rows.slice(0, 20).map(([, text]) => text)).to.deep.equal(expectedLines(20));
    expect(rows[20]![1]).to.match(/^task \[Slow Lines\] completed in/);
    // The URL is the run's page; the run link points there too; Cancel is off.
    expect(new URL(page.url()).pathname).to.equal(`/admin/run/${id}`);
    expect(await page.locator('#live [data-role="run-link"]').getAttribute('href')).to.equal(`/admin/run/${id}`);
    expect(await page.locator('#live [data-action="cancel"]').isDisabled()).to.equal(true);
    // The result card does not link to the page it is on.
    expect(await page.locator('#live-result [data-role="run-page-link"]').count()).to.equal(0);
    expect(await page.locator('#live-result').getByRole('link', { name: 'Run again with these args' }).count()).to.equal(1);
    await checkPage(s.browser, w, 'live-run-complete');

    expect(invocations.get(id)).to.equal(1);
    const stored = await s.t.kernel.service.getStoredRun(id);
    expect(stored).to.deep.include({ status: 'ok', label: 'live-check' });
    await page.close();
  });

  it('re-attaches to the same run after a reload mid-run: the task ran once, every line shows once', async () => {
    const w = await s.browser.newPage();
    const { page } = w;
    const before = (await s.t.kernel.service.listRuns({ task: ['slow'] })).runs.length;
    // 20 lines, 100 ms apart: reloading after the 4th leaves well over a second for the run page to load.
    const id = await startSlow(page, { lines: 20, delay: 100 });
    await page.waitForFunction(() => document.querySelectorAll('#live tr[data-seq]').length >= 4);

    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    await page.reload();
    // The reload opened the run page: it shows the lines so far and watches the same run (never starts one).
    expect(new URL(page.url()).pathname).to.equal(`/admin/run/${id}`);
    expect(await page.locator('#live').getAttribute('data-watch-path')).to.match(new RegExp(`^/admin/run/${id}/watch`));
    expect(await page.locator('#live').getAttribute('data-start-path')).to.equal(null);
    const afterReload = await sampleLive(page);
    expect(afterReload.rows, 'lines rendered by the server on reload').to.be.at.least(4);
    expect(afterReload.status).to.equal('running');
    // The progress bar comes back where the run is, not empty.
    expect(afterReload.progressMax).to.equal(20);
    expect(afterReload.progressValue).to.be.at.least(3);
    expect(afterReload.progressText).to.match(/^\d+ \/ 20 — line \d+$/);
    // One socket, to the watch route, asking only for the lines after those the page already shows.
    await page.waitForFunction(() => document.querySelector('#live [data-role="conn"]')?.textContent !== 'connecting…');
    expect(sockets).to.have.length(1);
    const watch = new URL(sockets[0]!);
    expect(watch.pathname).to.equal(`/admin/run/${id}/watch`);
    expect(watch.searchParams.getAll('after')).to.have.length(1);
    expect(Number(watch.searchParams.get('after'))).to.be.within(4, afterReload.rows);

    await page.locator('#live-result .result-card').waitFor();
    const rows = await logRows(page);
    expect(rows.map(([seq]) => seq)).to.deep.equal(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(rows.slice(0, 20).map(([, text]) => text)).to.deep.equal(expectedLines(20));
    expect((await sampleLive(page)).status).to.equal('ok');
    await checkPage(s.browser, w, 'run-page-reattached');

    expect(invocations.get(id), 'the task function ran once').to.equal(1);
    expect((await s.t.kernel.service.listRuns({ task: ['slow'] })).runs.length).to.equal(before + 1);
    const logs = await s.t.kernel.service.getLogs(id);
    expect(logs.map((l) => l.seq)).to.deep.equal(Array.from({ length: 21 }, (_, i) => i + 1));
    await page.close();
  });

  it('cancels a running run with the Cancel button: the history says cancelled', async () => {
    const w = await s.browser.newPage();
    const { page } = w;
    const id = await startSlow(page, { lines: 400, delay: 50, label: 'to-cancel' });
    await page.waitForFunction(() => document.querySelectorAll('#live tr[data-seq]').length >= 2);
    const cancel = page.locator('#live [data-action="cancel"]');
    expect(await cancel.isEnabled()).to.equal(true);
    await cancel.click();

    await page.waitForFunction(() => document.querySelector('#live [data-role="status"] [data-status]')?.getAttribute('data-status') === 'cancelled');
    await page.locator('#live-result .result-card').waitFor();
    expect(await page.locator('#live-result .result-card .card-header .status').getAttribute('data-status')).to.equal('cancelled');
    expect(await cancel.isDisabled()).to.equal(true);
    // The button no longer says "Cancelling…" once the run has ended.
    expect((await cancel.innerText()).trim()).to.equal('Cancel');
    await checkPage(s.browser, w, 'live-run-cancelled');

    const stored = await s.t.kernel.service.getStoredRun(id);
    expect(stored.status).to.equal('cancelled');
    expect((await s.t.kernel.service.listRuns({ task: ['slow'], status: ['cancelled'] })).runs.map((r) => r.id)).to.deep.equal([id]);
    expect(invocations.get(id)).to.equal(1);

    // The history page lists it as cancelled.
    await page.goto(`${s.url}/admin/run?status=cancelled`);
    const row = page.locator('table.runs tbody tr', { has: page.locator(`a[href="/admin/run/${id}"]`) });
    expect(await row.locator('.status').getAttribute('data-status')).to.equal('cancelled');
    await checkPage(s.browser, w, 'history-cancelled');
    await page.close();
  });

  it('cancels a run from its run page (a run started elsewhere), with the Cancel link', async () => {
    const { service, registry } = s.t.kernel;
    const task = registry.get('slow')!;
    const live = await service.start(task, service.prepareArgs(task, { typed: { lines: 400, delay: 50 } }), { label: 'elsewhere' });
    const w = await s.browser.newPage();
    const { page } = w;
    await page.goto(`${s.url}/admin/run/${live.id}`);
    await page.waitForFunction(() => document.querySelectorAll('#live tr[data-seq]').length >= 2);
    expect(await page.locator('#live').getAttribute('data-watch-path')).to.match(new RegExp(`^/admin/run/${live.id}/watch`));
    const cancel = page.locator('#live [data-action="cancel"]');
    await cancel.click();
    await page.waitForFunction(() => document.querySelector('#live [data-role="status"] [data-status]')?.getAttribute('data-status') === 'cancelled');
    // The page header's status follows too.
    expect(await page.locator('.page-header [data-role="status"] [data-status]').getAttribute('data-status')).to.equal('cancelled');
    expect((await cancel.innerText()).trim()).to.equal('Cancel');
    await page.locator('#live-result .result-card').waitFor();
    expect((await live.done).status).to.equal('cancelled');
    expect((await service.getStoredRun(live.id)).status).to.equal('cancelled');
    await checkPage(s.browser, w, 'run-page-cancelled');

    // Reloading the finished run shows the stored result, logs and all, and no live card.
    await page.reload();
    expect(await page.locator('#live').count()).to.equal(0);
    expect(await page.locator('.result-card .card-header .status').getAttribute('data-status')).to.equal('cancelled');
    expect(await page.locator('.logs-card table.log tbody tr').count()).to.be.at.least(2);
    await checkPage(s.browser, w, 'run-page-cancelled-reloaded');
    await page.close();
  });
});

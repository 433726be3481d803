import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { TEMP_ROOT, checkPage, expectNoPageErrors, useBrowserSuite } from '../helpers/browser.js';

// The callbacks given to `evaluate` run in the page; tsconfig has no DOM lib (this is Node code), so the
// two browser globals they use are declared here, for this module only.
declare const document: { documentElement: unknown };
declare function getComputedStyle(element: unknown): { fill: string; getPropertyValue(name: string): string };

const DAY = 86_400_000;

describe('browser: analytics charts', function () {
  this.timeout(40_000);
  const base = Date.now();
  let clock = base;
  /** Runs of `mixed` by status, as the setup made them. */
  const made = { ok: 0, error: 0, timeout: 0, cancelled: 0 };

  const s = useBrowserSuite({ now: () => clock }, async (t) => {
    const sleep = (ms: number, signal?: AbortSignal) => new Promise((resolve) => setTimeout(resolve, ms)).then(() => signal?.throwIfAborted());
    t.kernel.registerTask({
      key: 'mixed',
      title: 'Mixed <Results> & "friends"',
      timeout: 40,
      fields: [{ key: 'ms', type: 'int', default: 1 }, { key: 'fail', type: 'bool' }],
      run: async ({ args, signal }) => {
        await sleep(Number(args.ms), signal);
        if (args.fail) throw new Error('failed on purpose');
        return 'ok';
      },
    });
    t.kernel.registerTask({ key: 'other', title: 'Other', run: () => 'fine' });
    const service = t.kernel.service;
    // Thirty runs of `mixed` over the last six days: mostly ok, some errors, two timeouts, one cancelled.
    for (let i = 0; i < 30; i++) {
      clock = base - 6 * DAY + i * 4 * 3_600_000;
      const timeout = i === 7 || i === 19;
      const fail = i % 6 === 5;
      const result = await service.run('mixed', { ms: timeout ? 200 : 1 + (i % 5) * 2, fail });
      made[result.status as keyof typeof made] += 1;
    }
    clock = base - 3_600_000;
    const live = await service.start(t.kernel.registry.require('mixed'), { ms: 5000, fail: false });
    await service.cancel(live.id);
    await live.done;
    made.cancelled += 1;
    for (let i = 0; i < 4; i++) {
      clock = base - i * DAY - 60_000;
      await service.run('other', {});
    }
  });

  /** The number of bars and the size of a chart as the browser lays it out. */
  async function chartBox(page: Page, kind: string) {
    const svg = page.locator(`svg.${kind}`);
    await svg.waitFor({ state: 'visible' });
    const box = await svg.boundingBox();
    return { svg, box: box ?? { width: 0, height: 0, x: 0, y: 0 } };
  }

  it('shows the dashboard: every task in the table and a visible runs-per-day chart', async () => {
    expect(made.ok + made.error + made.timeout + made.cancelled).to.equal(31);
    expect(made.timeout).to.equal(2);
    const w = await s.browser.newPage({ colorScheme: 'light' });
    const { page } = w;
    await page.goto(`${s.url}/admin`);
    expect(await page.title()).to.equal('Dashboard - taskdeck');
    const rows = page.locator('section[aria-labelledby="tasks-title"] tbody tr');
    expect(await rows.count()).to.equal(2);
    const mixedRow = page.locator('tr[data-task="mixed"]');
    expect(await mixedRow.locator('td').first().innerText()).to.equal('Mixed <Results> & "friends"');
    expect(await mixedRow.locator('td').nth(1).innerText()).to.equal('31');
    expect(await mixedRow.locator('td').nth(2).innerText()).to.equal(String(made.ok));

    const { svg, box } = await chartBox(page, 'runs-per-day-chart');
    expect(box.width).to.be.greaterThan(600);
    expect(box.height).to.be.greaterThan(100);
    // The default window, 30 days, touches 31 UTC days (30 when now is exactly midnight).
    expect(await svg.locator('g.day').count()).to.be.within(30, 31);
    // Days with runs: the six of `mixed` plus today (cancelled + `other`) → ok and failed parts, each visible.
    const bars = svg.locator('rect.bar[data-count]');
    expect(await bars.count()).to.be.greaterThan(5);
    const okBox = await svg.locator('rect.bar.s-ok[data-count]').first().boundingBox();
    expect(okBox!.height).to.be.greaterThan(0);
    expect(await svg.locator('.legend-text').allTextContents()).to.deep.equal(['ok', 'failed (error, cancelled, timeout, interrupted)']);

    // The chart's colours come from charts.css (no inline style): an ok bar is filled with --ok.
    const fill = await svg.locator('rect.bar.s-ok[data-count]').first().evaluate((el) => getComputedStyle(el).fill);
    const okColour = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--ok').trim());
    expect(fill).to.equal(hexToRgb(okColour));

    // The window picker reloads with another window.
    await Promise.all([page.waitForURL(/window=7d/), page.locator('nav.window-picker a', { hasText: '7d' }).click()]);
    expect(await page.locator('svg.runs-per-day-chart g.day').count()).to.be.within(7, 8);
    expect(await page.locator('nav.window-picker a[aria-current="page"]').innerText()).to.equal('7d');
    await checkPage(s.browser, w, 'dashboard-light');
    await page.close();
  });

  it("opens a task's statistics from the dashboard: one bar per run, linked to its run page", async () => {
    const w = await s.browser.newPage({ colorScheme: 'light' });
    const { page } = w;
    await page.goto(`${s.url}/admin`);
    await Promise.all([page.waitForURL(/\/admin\/task\/mixed\/stats/), page.locator('tr[data-task="mixed"] a', { hasText: 'Statistics' }).click()]);
    expect(await page.locator('h1').innerText()).to.equal('Mixed <Results> & "friends"');
    expect(await page.locator('[data-stat="count"]').innerText()).to.equal('31');

    const { svg, box } = await chartBox(page, 'duration-chart');
    expect(box.width).to.be.greaterThan(600);
    expect(box.height).to.be.greaterThan(100);
    const bars = svg.locator('rect.bar[data-us]');
    expect(await bars.count()).to.equal(31);
    for (const status of ['ok', 'error', 'timeout', 'cancelled'] as const) {
      expect(await svg.locator(`rect.bar.s-${status}[data-us]`).count(), status).to.equal(made[status]);
    }
    // A timed-out run (200 ms asked, stopped at 40 ms) stands out; every bar has a non-zero box.
    const timeoutBox = await svg.locator('rect.bar.s-timeout[data-us]').first().boundingBox();
    expect(timeoutBox!.height).to.be.greaterThan(1);
    const legend = await svg.locator('.legend-text').allTextContents();
    expect(legend).to.include.members([`ok (${made.ok})`, `E error (${made.error})`, 'T timeout (2)', 'C cancelled (1)', 'p95']);
    expect(await svg.locator('line.p95').count()).to.be.at.least(1);
    expect(await page.locator('svg.runs-per-day-chart g.day').count()).to.be.within(30, 31);

    // The tooltip of a bar says when it started, how long it took and how it ended; the bar opens the run.
    const link = svg.locator('a.run-link').last();
    expect(await link.locator('title').textContent()).to.match(/^started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, [0-9.]+ms, cancelled$/);
    const href = await link.getAttribute('href');
    expect(href).to.match(/^\/admin\/run\/[0-9a-f-]{36}$/);
    await checkPage(s.browser, w, 'task-stats-light');
    await Promise.all([page.waitForURL((u) => u.pathname === href), link.click()]);
    expect(await page.locator('.badge.status').first().innerText()).to.contain('Cancelled');
    expectNoPageErrors(w);
    await page.close();
  });

  it('draws the charts in dark mode with the dark palette', async () => {
    const light = await s.browser.newPage({ colorScheme: 'light' });
    const dark = await s.browser.newPage({ colorScheme: 'dark' });
    const okFill = (page: Page) => page.locator('svg.duration-chart rect.bar.s-ok[data-us]').first().evaluate((el) => getComputedStyle(el).fill);
    const labelFill = (page: Page) => page.locator('svg.duration-chart .tick-label').first().evaluate((el) => getComputedStyle(el).fill);
    for (const w of [light, dark]) await w.page.goto(`${s.url}/admin/task/mixed/stats`);
    expect(await okFill(dark.page)).to.not.equal(await okFill(light.page));
    expect(await labelFill(dark.page)).to.not.equal(await labelFill(light.page));
    expect(brightness(await labelFill(dark.page))).to.be.greaterThan(brightness(await labelFill(light.page)));
    const { box } = await chartBox(dark.page, 'duration-chart');
    expect(box.width).to.be.greaterThan(600);
    await checkPage(s.browser, dark, 'task-stats-dark');
    await dark.page.goto(`${s.url}/admin`);
    await chartBox(dark.page, 'runs-per-day-chart');
    await checkPage(s.browser, dark, 'dashboard-dark');
    await light.page.close();
    await dark.page.close();
  });

  it('scales the charts to the container, and scrolls them sideways on a phone rather than shrink the text away', async () => {
    const w = await s.browser.newPage({ colorScheme: 'light' });
    const { page } = w;
    await page.setViewportSize({ width: 900, height: 800 });
    await page.goto(`${s.url}/admin/task/mixed/stats`);
    const figureWidth = async () => (await page.locator('.duration-figure').boundingBox())!.width;
    const chartWidth = async () => (await chartBox(page, 'duration-chart')).box.width;
    expect(await chartWidth()).to.be.closeTo(await figureWidth(), 1);
    await page.setViewportSize({ width: 390, height: 800 });
    // 40rem at least: the scroll box is as wide as the card, the chart inside it wider.
    expect(await chartWidth()).to.be.closeTo(640, 1);
    const scroll = page.locator('.duration-figure .chart-scroll');
    const [scrollWidth, clientWidth] = await scroll.evaluate((el) => [el.scrollWidth, el.clientWidth]);
    expect(clientWidth).to.be.below(390);
    expect(scrollWidth).to.be.greaterThan(clientWidth);
    const file = await checkPage(s.browser, w, 'task-stats-narrow');
    expect(path.resolve(file).startsWith(path.resolve(TEMP_ROOT))).to.equal(true);
    expect(fs.readdirSync(s.browser.shotsDir).sort()).to.include.members(['dashboard-light.png', 'dashboard-dark.png', 'task-stats-light.png', 'task-stats-dark.png']);
    await page.close();
  });
});

function hexToRgb(hex: string): string {
  const n = Number.parseInt(hex.replace('#', ''), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
}

function brightness(rgb: string): number {
  return (rgb.match(/\d+/g) ?? []).slice(0, 3).reduce((sum, part) => sum + Number(part), 0);
}

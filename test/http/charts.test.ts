import { expect } from 'chai';
import { bootKernel } from '../helpers/boot-kernel.js';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { fillDays, parseWindow, windowSince } from '../../core/http/analytics/analytics-window.js';
import { isSlowerThanUsual, slowRunMarker } from '../../core/http/analytics/slower-than-usual.js';
import { durationChartSvg, type DurationPoint } from '../../core/http/charts/duration-chart.js';
import { runsPerDayChartSvg } from '../../core/http/charts/runs-per-day-chart.js';
import { coord, escapeXml, niceAxis } from '../../core/http/charts/svg-text.js';
import type { TaskStats } from '../../core/tasks/run-repository.js';

/** One element of a parsed SVG: its name, attributes, text and children, read back by a real parser. */
interface Node {
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: Node[];
}

const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', trimValues: false, processEntities: true, htmlEntities: true });

function parseSvg(svg: string): Node {
  expect(XMLValidator.validate(svg), 'well-formed XML').to.equal(true);
  const toNodes = (items: Record<string, unknown>[]): Node[] =>
    items.flatMap((item) => {
      const name = Object.keys(item).find((k) => k !== ':@');
      if (!name || name === '#text') return [];
      const body = item[name] as Record<string, unknown>[];
      const text = body.filter((b) => '#text' in b).map((b) => String(b['#text'])).join('');
      return [{ name, attrs: (item[':@'] ?? {}) as Record<string, string>, text, children: toNodes(body) }];
    });
  const roots = toNodes(parser.parse(svg) as Record<string, unknown>[]);
  expect(roots).to.have.length(1);
  return roots[0]!;
}

function all(node: Node, match: (n: Node) => boolean): Node[] {
  return [...(match(node) ? [node] : []), ...node.children.flatMap((c) => all(c, match))];
}
const hasClass = (cls: string) => (n: Node) => (n.attrs.class ?? '').split(' ').includes(cls);
const num = (n: Node, attr: string) => Number(n.attrs[attr]);

/** What every chart must be: one SVG root that scales, no inline style, no number that is not one. */
function expectSoundSvg(svg: string): Node {
  const root = parseSvg(svg);
  expect(root.name).to.equal('svg');
  expect(root.attrs.viewBox).to.match(/^0 0 \d+ \d+$/);
  expect(root.attrs.width).to.equal('100%');
  expect(svg).to.not.match(/NaN|Infinity|undefined|null/);
  expect(svg, 'no style attribute (the CSP forbids inline styles)').to.not.match(/\sstyle=/);
  expect(svg).to.not.contain('<script');
  return root;
}

const T0 = Date.UTC(2026, 10, 20, 14, 3, 5);
const runHref = (id: string) => `/admin/run/${encodeURIComponent(id)}`;
const point = (i: number, elapsedUs: number, status: DurationPoint['status'] = 'ok'): DurationPoint => ({ id: `run-${i}`, startedAt: T0 + i * 60_000, elapsedUs, status });

describe('charts: duration per run', () => {
  const runs = [point(0, 10_000), point(1, 20_000, 'error'), point(2, 5_000, 'timeout'), point(3, 40_000), point(4, 2_500, 'cancelled'), point(5, 30_000, 'interrupted')];
  const svg = durationChartSvg({ runs, p95Us: 30_000, runHref, label: 'Duration of Backup' });
  const root = expectSoundSvg(svg);
  const bars = all(root, (n) => n.name === 'rect' && hasClass('bar')(n) && n.attrs['data-us'] !== undefined);

  it('draws one bar per run, oldest on the left', () => {
    expect(bars).to.have.length(runs.length);
    const xs = bars.map((b) => num(b, 'x'));
    expect(xs).to.deep.equal([...xs].sort((a, b) => a - b));
    expect(bars.map((b) => Number(b.attrs['data-us']))).to.deep.equal(runs.map((r) => r.elapsedUs));
  });

  it('makes bar heights proportional to the durations, all standing on the axis', () => {
    const perUs = num(bars[0]!, 'height') / runs[0]!.elapsedUs;
    bars.forEach((bar, i) => {
      expect(num(bar, 'height'), `bar ${i}`).to.be.closeTo(runs[i]!.elapsedUs * perUs, 0.02);
      expect(num(bar, 'y') + num(bar, 'height'), `bar ${i} bottom`).to.be.closeTo(num(bars[0]!, 'y') + num(bars[0]!, 'height'), 0.02);
    });
  });

  it('colours each bar by status with a class, and marks runs that did not succeed with a letter too', () => {
    expect(bars.map((b) => b.attrs.class!.split(' ')[1])).to.deep.equal(['s-ok', 's-error', 's-timeout', 's-ok', 's-cancelled', 's-interrupted']);
    const letters = all(root, hasClass('status-letter')).map((n) => n.text);
    expect(letters).to.deep.equal(['E', 'T', 'C', 'I']);
    const legend = all(root, hasClass('legend-text')).map((n) => n.text);
    expect(legend).to.include.members(['ok (2)', 'E error (1)', 'T timeout (1)', 'C cancelled (1)', 'I interrupted (1)', 'p95', 'slower than usual (above p95)']);
  });

  it('links every bar to its run page with a tooltip: when it started, how long, how it ended', () => {
    const links = all(root, (n) => n.name === 'a');
    expect(links.map((a) => a.attrs.href)).to.deep.equal(runs.map((r) => `/admin/run/${r.id}`));
    const tips = links.map((a) => a.children.find((c) => c.name === 'title')!.text);
    expect(tips[0]).to.equal('started 2026-11-20 14:03:05 UTC, 10ms, ok');
    expect(tips[1]).to.equal('started 2026-11-20 14:04:05 UTC, 20ms, error');
    expect(tips[4]).to.equal('started 2026-11-20 14:07:05 UTC, 2.500ms, cancelled');
    links.forEach((a) => expect(all(a, (n) => n.name === 'rect' && hasClass('bar')(n))).to.have.length(1));
  });

  it('draws the p95 line at its height and marks only the runs above it as slower than usual', () => {
    const line = all(root, (n) => n.name === 'line' && hasClass('p95')(n) && n.attrs.x1 !== '0')[0]!;
    const bottom = num(bars[0]!, 'y') + num(bars[0]!, 'height');
    const perUs = num(bars[0]!, 'height') / runs[0]!.elapsedUs;
    expect(num(line, 'y1')).to.be.closeTo(bottom - 30_000 * perUs, 0.02);
    expect(all(root, hasClass('p95-label'))[0]!.text).to.equal('p95 30ms');
    expect(bars.filter(hasClass('slow')).map((b) => Number(b.attrs['data-us']))).to.deep.equal([40_000]);
    expect(all(root, (n) => n.name === 'path' && hasClass('slow-mark')(n))).to.have.length(2); // the mark and its legend swatch
    expect(svg).to.contain('14:06:05 UTC, 40ms, ok, slower than usual');
  });

  it('names the oldest and the newest run under the axis, and scales to its container', () => {
    const labels = all(root, hasClass('tick-label')).map((n) => n.text);
    expect(labels).to.include.members(['oldest 2026-11-20 14:03:05 UTC', 'newest 2026-11-20 14:08:05 UTC', '0ms']);
    expect(root.attrs.preserveAspectRatio).to.equal('xMidYMid meet');
    expect(root.attrs.class).to.equal('stat-chart duration-chart');
  });

  it('escapes the label, the tooltip and the link of hostile values (they read back exactly)', () => {
    const label = `Runs of <script>alert("x")</script> & 'friends' \u0001`;
    const hostile = durationChartSvg({ runs: [{ ...point(0, 1000), id: `"><script>x</script>&` }], p95Us: null, runHref, label });
    const parsed = expectSoundSvg(hostile);
    expect(parsed.attrs['aria-label']).to.equal(label.replace('\u0001', '\ufffd'));
    expect(parsed.children.find((c) => c.name === 'title')!.text).to.equal(label.replace('\u0001', '\ufffd'));
    expect(all(parsed, (n) => n.name === 'a')[0]!.attrs.href).to.equal(`/admin/run/${encodeURIComponent(`"><script>x</script>&`)}`);
    expect(hostile).to.not.contain('<script>');
    // A run href builder that forgot to encode is still escaped in the attribute.
    const raw = durationChartSvg({ runs: [{ ...point(0, 1000), id: `a"b<c>&` }], p95Us: null, runHref: (id) => `/r/${id}`, label: 'x' });
    expect(all(expectSoundSvg(raw), (n) => n.name === 'a')[0]!.attrs.href).to.equal(`/r/a"b<c>&`);
  });

  it('shows an empty state for zero runs: a sentence, no bars, no NaN', () => {
    const empty = durationChartSvg({ runs: [], p95Us: null, runHref, label: 'Duration of Backup' });
    const parsed = expectSoundSvg(empty);
    expect(all(parsed, (n) => n.name === 'rect')).to.have.length(0);
    expect(all(parsed, hasClass('empty-text'))[0]!.text).to.equal('No finished runs yet.');
  });

  it('draws runs that took no time, one run, and numbers that are not numbers without NaN', () => {
    const zeros = expectSoundSvg(durationChartSvg({ runs: [point(0, 0), point(1, 0)], p95Us: 0, runHref, label: 'x' }));
    expect(all(zeros, (n) => n.name === 'rect' && n.attrs['data-us'] !== undefined).map((b) => num(b, 'height'))).to.deep.equal([0, 0]);
    const one = expectSoundSvg(durationChartSvg({ runs: [point(0, 1234)], p95Us: 1234, runHref, label: 'x' }));
    expect(all(one, hasClass('tick-label')).map((n) => n.text)).to.include('started 2026-11-20 14:03:05 UTC');
    expect(all(one, hasClass('slow'))).to.have.length(0);
    const broken = [point(0, Number.NaN), point(1, Number.POSITIVE_INFINITY), point(2, -5), point(3, 100)];
    const parsed = expectSoundSvg(durationChartSvg({ runs: broken, p95Us: Number.NaN, runHref, label: 'x' }));
    expect(all(parsed, (n) => n.name === 'rect' && n.attrs['data-us'] !== undefined).map((b) => b.attrs['data-us'])).to.deep.equal(['0', '0', '0', '100']);
  });

  it('keeps a hundred bars inside the plot', () => {
    const many = Array.from({ length: 100 }, (_, i) => point(i, 1000 + i * 10, i % 10 === 0 ? 'error' : 'ok'));
    const parsed = expectSoundSvg(durationChartSvg({ runs: many, p95Us: 1950, runHref, label: 'x' }));
    const manyBars = all(parsed, (n) => n.name === 'rect' && n.attrs['data-us'] !== undefined);
    expect(manyBars).to.have.length(100);
    const width = Number(parsed.attrs.viewBox!.split(' ')[2]);
    for (const bar of manyBars) expect(num(bar, 'x') + num(bar, 'width')).to.be.at.most(width);
    expect(manyBars.filter(hasClass('slow'))).to.have.length(4);
  });
});

describe('charts: runs per day', () => {
  const days = [
    { day: '2026-11-18', ok: 3, failed: 1 },
    { day: '2026-11-19', ok: 0, failed: 0 },
    { day: '2026-11-20', ok: 6, failed: 2 },
    { day: '2026-11-21', ok: 0, failed: 4 },
  ];
  const svg = runsPerDayChartSvg({ days, label: 'Runs per day' });
  const root = expectSoundSvg(svg);
  const groups = all(root, hasClass('day'));

  it('draws one column per day, with a rect for each non-zero part', () => {
    expect(groups.map((g) => g.attrs['data-day'])).to.deep.equal(days.map((d) => d.day));
    const parts = groups.map((g) => g.children.filter(hasClass('bar')).map((r) => `${r.attrs.class} ${r.attrs['data-count']}`));
    expect(parts).to.deep.equal([['bar s-ok 3', 'bar s-failed 1'], [], ['bar s-ok 6', 'bar s-failed 2'], ['bar s-failed 4']]);
  });

  it('stacks failed on ok, heights proportional to the counts', () => {
    const [ok, failed] = groups[2]!.children.filter(hasClass('bar'));
    const perRun = num(ok!, 'height') / 6;
    expect(num(failed!, 'height')).to.be.closeTo(2 * perRun, 0.02);
    expect(num(failed!, 'y') + num(failed!, 'height')).to.be.closeTo(num(ok!, 'y'), 0.02);
    const only = groups[3]!.children.filter(hasClass('bar'))[0]!;
    expect(num(only, 'height')).to.be.closeTo(4 * perRun, 0.02);
    expect(num(only, 'y') + num(only, 'height')).to.be.closeTo(num(ok!, 'y') + num(ok!, 'height'), 0.02);
  });

  it('gives each day a tooltip with its counts, a legend in words and whole-number axis labels', () => {
    expect(groups.map((g) => g.children.find((c) => c.name === 'title')!.text)).to.deep.equal([
      '2026-11-18: 3 ok, 1 failed',
      '2026-11-19: 0 ok, 0 failed',
      '2026-11-20: 6 ok, 2 failed',
      '2026-11-21: 0 ok, 4 failed',
    ]);
    expect(all(root, hasClass('legend-text')).map((n) => n.text)).to.deep.equal(['ok', 'failed (error, cancelled, timeout, interrupted)']);
    const ticks = all(root, hasClass('tick-label')).map((n) => n.text);
    expect(ticks).to.deep.equal(['0', '2', '4', '6', '8', '11-18', '11-19', '11-20', '11-21']);
  });

  it('labels at most eight days of a long window', () => {
    const ninety = fillDays([], Date.UTC(2026, 7, 1, 12), Date.UTC(2026, 9, 30, 12));
    expect(ninety).to.have.length(91);
    const parsed = expectSoundSvg(runsPerDayChartSvg({ days: ninety, label: 'x' }));
    expect(all(parsed, hasClass('day'))).to.have.length(91);
    const dayLabels = all(parsed, hasClass('tick-label')).filter((n) => /^\d\d-\d\d$/.test(n.text));
    expect(dayLabels.length).to.be.within(2, 8);
  });

  it('says so when the window has no runs, and draws no bar and no NaN', () => {
    const parsed = expectSoundSvg(runsPerDayChartSvg({ days: [{ day: '2026-11-20', ok: 0, failed: 0 }], label: 'x' }));
    expect(all(parsed, (n) => n.name === 'rect' && hasClass('bar')(n) && n.attrs['data-count'] !== undefined)).to.have.length(0);
    expect(all(parsed, hasClass('empty-text'))[0]!.text).to.equal('No runs in this window.');
    const none = expectSoundSvg(runsPerDayChartSvg({ days: [], label: 'x' }));
    expect(all(none, hasClass('empty-text'))[0]!.text).to.equal('No days to show.');
  });

  it('escapes a label and a day it is given', () => {
    const parsed = expectSoundSvg(runsPerDayChartSvg({ days: [{ day: '<b>&"', ok: 1, failed: Number.NaN }], label: `Tom & "Jerry" <3` }));
    expect(parsed.attrs['aria-label']).to.equal(`Tom & "Jerry" <3`);
    expect(all(parsed, hasClass('day'))[0]!.attrs['data-day']).to.equal('<b>&"');
    expect(all(parsed, hasClass('tick-label')).map((n) => n.text)).to.include('<b>&"');
  });
});

describe('charts: building blocks', () => {
  it('escapes the five XML specials and replaces characters XML cannot hold', () => {
    expect(escapeXml(`<a href="x">Tom & 'Jerry'</a>`)).to.equal('&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;');
    expect(escapeXml('a\u0000b\u001fc\ud800d\tе😀')).to.equal('a\ufffdb\ufffdc\ufffdd\tе😀');
  });

  it('writes coordinates with at most two decimals and never NaN', () => {
    expect([coord(1 / 3), coord(-0.001), coord(Number.NaN), coord(Number.NEGATIVE_INFINITY), coord(12)]).to.deep.equal(['0.33', '0', '0', '0', '12']);
  });

  it('picks round, whole axis steps at or above the maximum', () => {
    expect(niceAxis(0, 4)).to.deep.equal({ top: 4, step: 1 });
    expect(niceAxis(7, 4)).to.deep.equal({ top: 8, step: 2 });
    expect(niceAxis(40_000, 4)).to.deep.equal({ top: 40_000, step: 10_000 });
    expect(niceAxis(40_001, 4)).to.deep.equal({ top: 80_000, step: 20_000 });
    expect(niceAxis(123_456, 4)).to.deep.equal({ top: 200_000, step: 50_000 });
  });
});

describe('analytics: window, days and "slower than usual"', () => {
  it('reads ?window= (default 30d) and refuses anything else naming the parameter', () => {
    expect(parseWindow(undefined)).to.equal('30d');
    expect(parseWindow('24h')).to.equal('24h');
    expect(parseWindow(['7d', 'nope'])).to.equal('7d');
    for (const bad of ['', '1y', '30D', '30', ' 7d', '__proto__', 'toString']) {
      expect(() => parseWindow(bad), bad).to.throw(/parameter "window": expected one of 24h, 7d, 30d, 90d/);
    }
    expect(windowSince('7d', Date.UTC(2026, 10, 28))).to.equal(Date.UTC(2026, 10, 21));
  });

  it('fills every UTC day the window touches, zeros included, and keeps days ahead of now', () => {
    const now = Date.UTC(2026, 10, 28, 5, 0);
    const days = fillDays([{ day: '2026-11-27', ok: 2, failed: 1 }], windowSince('24h', now), now);
    expect(days).to.deep.equal([
      { day: '2026-11-27', ok: 2, failed: 1 },
      { day: '2026-11-28', ok: 0, failed: 0 },
    ]);
    expect(fillDays([], windowSince('7d', now), now)).to.have.length(8);
    expect(fillDays([], windowSince('7d', Date.UTC(2026, 10, 28)), Date.UTC(2026, 10, 28))).to.have.length(8);
    expect(fillDays([{ day: '2026-11-30', ok: 1, failed: 0 }], windowSince('24h', now), now).map((d) => d.day)).to.deep.equal(['2026-11-27', '2026-11-28', '2026-11-29', '2026-11-30']);
  });

  it('calls a run slower than usual only when it took longer than a known p95', () => {
    expect(isSlowerThanUsual(101, 100)).to.equal(true);
    expect(isSlowerThanUsual(100, 100)).to.equal(false);
    expect(isSlowerThanUsual(5, null)).to.equal(false);
    expect(isSlowerThanUsual(5, undefined)).to.equal(false);
    expect(isSlowerThanUsual(Number.NaN, 1)).to.equal(false);
  });

  it('marks the runs of a page against the p95 of their own task\'s latest runs', async function () {
    this.timeout(20_000);
    const t = await bootKernel();
    try {
      t.kernel.registerTask({ key: 'varied', fields: [{ key: 'ms', type: 'int', default: 0 }], run: ({ args }) => new Promise((resolve) => setTimeout(resolve, Number(args.ms))) });
      t.kernel.registerTask({ key: 'young', run: () => undefined });
      // 40 runs: p95 (nearest rank, index 38 of 40) is the 30 ms run; only the 90 ms run is above it.
      const results = await t.kernel.service.runAll('varied', [...Array.from({ length: 38 }, () => ({ ms: 0 })), { ms: 30 }, { ms: 90 }]);
      const young = await t.kernel.service.run('young');
      const page = (await t.kernel.service.listRuns({}, { limit: 100 })).runs;
      const slow = await slowRunMarker(t.kernel.history, page);
      const marked = page.filter(slow).map((r) => r.id);
      expect(marked).to.deep.equal([results[39]!.id]);
      expect(page.find((r) => r.id === young.id)).to.not.equal(undefined);
      expect(slow({ taskKey: 'varied', status: 'running', elapsedUs: 1e12 })).to.equal(false);
      expect(slow({ taskKey: 'unknown', status: 'ok', elapsedUs: 1e12 })).to.equal(false);
    } finally {
      await t.cleanup();
    }
  });
});

import { expect } from 'chai';
import { microsToMillis } from '../../core/tasks/micros.js';
import type { StoredRun } from '../../core/tasks/run-repository.js';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { CONTENT_TYPE, DATA_FORMATS, FORMATS, csvObjects, decodeEntities, errorMessage, parseBody, withFormat } from './http-client.js';
import type { TaskStatsRow } from '../../core/http/analytics/task-analytics.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TITLE = 'Step <Counter> & "co"';

type Row = TaskStatsRow;
interface Dashboard {
  window: string;
  since: string;
  tasks: Row[];
  perDay: { day: string; ok: number; failed: number }[];
}
interface TaskStatsPage extends Row {
  window: string;
  since: string;
  durations: { id: string; startedAt: string; elapsedUs: number; status: string; slowerThanUsual: boolean }[];
  perDay: { day: string; ok: number; failed: number }[];
}

/** Nearest rank, as the store defines it: the value at floor(n * fraction) of the sorted durations. */
function percentile(values: readonly number[], fraction: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('analytics over HTTP: the dashboard and task statistics', () => {
  let t: TestKernel;
  let url: string;
  /** The HTTP side reads the real clock: runs are stamped relative to it, on days the test knows. */
  const base = Date.now();
  let clock = base;
  const started: Record<string, number[]> = { steps: [], quick: [], gone: [] };

  before(async function () {
    this.timeout(30_000);
    t = await bootKernel({ listen: true, now: () => clock });
    url = t.kernel.url;
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const timed = { fields: [{ key: 'ms', type: 'int' as const, default: 0 }, { key: 'fail', type: 'bool' as const }], run: async ({ args }: { args: Record<string, unknown> }) => {
      await sleep(Number(args.ms));
      if (args.fail) throw new Error('failed on purpose');
      return 'done';
    } };
    t.kernel.registerTask({ key: 'steps', title: TITLE, ...timed });
    t.kernel.registerTask({ key: 'quick', title: 'Quick', ...timed });
    t.kernel.registerTask({ key: 'idle', title: 'Idle', run: () => 'never' });
    t.kernel.registerTask({ key: 'gone', title: 'Gone', run: () => 'bye' });
    const run = async (key: string, at: number, args: Record<string, unknown> = {}) => {
      clock = at;
      started[key]!.push(at);
      return t.kernel.service.run(key, args);
    };
    // steps: 20 runs three days ago, 3 ms apart in duration, every fourth one failing (15 ok, 5 failed).
    for (let i = 0; i < 20; i++) await run('steps', base - 3 * DAY + i * 60_000, { ms: i * 3, fail: i % 4 === 3 });
    // quick: one run 40 days ago, three slower ones 10 days ago, two (one failing) two hours ago.
    await run('quick', base - 40 * DAY);
    for (let i = 0; i < 3; i++) await run('quick', base - 10 * DAY + i * HOUR, { ms: 30 });
    await run('quick', base - 2 * HOUR);
    await run('quick', base - 2 * HOUR + 1000, { fail: true });
    // gone: ran 20 hours ago, then removed: its runs still count.
    await run('gone', base - 20 * HOUR);
    t.kernel.removeTask('gone');
  });
  after(() => t.cleanup());

  const get = (path: string) => fetch(url + path, { redirect: 'manual' });
  const json = async <T>(path: string): Promise<T> => {
    const res = await get(path);
    expect(res.status, path).to.equal(200);
    return (await res.json()) as T;
  };
  const stored = async (key: string, since: number): Promise<StoredRun[]> => (await t.kernel.service.listRuns({ task: [key], since }, { limit: 1000 })).runs;

  /** What a row must say, worked out from the stored runs (not from the store's statistics). */
  async function expectedRow(key: string, title: string, since: number): Promise<Row> {
    const runs = await stored(key, since);
    const ok = runs.filter((r) => r.status === 'ok').length;
    const durations = runs.map((r) => r.elapsedUs);
    return { key, title, count: runs.length, ok, failed: runs.length - ok, successRate: runs.length ? ok / runs.length : null, p50Us: percentile(durations, 0.5), p95Us: percentile(durations, 0.95) };
  }

  describe('GET /admin (the dashboard)', () => {
    it('counts every task over the default 30 days: runs, ok, failed, success rate, p50 and p95 exactly', async () => {
      const before = Date.now();
      const data = await json<Dashboard>('/admin?format=json');
      expect(data.window).to.equal('30d');
      const since = Date.parse(data.since);
      expect(since).to.be.within(before - 30 * DAY, Date.now() - 30 * DAY);
      expect(data.tasks.map((r) => r.key)).to.deep.equal(['idle', 'quick', 'steps', 'gone']);
      const [idle, quick, steps, gone] = data.tasks;
      expect(idle).to.deep.equal({ key: 'idle', title: 'Idle', count: 0, ok: 0, failed: 0, successRate: null, p50Us: null, p95Us: null });
      expect(steps).to.deep.equal(await expectedRow('steps', TITLE, since));
      expect(steps).to.deep.include({ count: 20, ok: 15, failed: 5, successRate: 0.75 });
      // Sleeps of 0..57 ms: the p95 of 20 runs is the longest, the p50 the 11th.
      expect(steps!.p95Us).to.be.at.least(57_000);
      expect(steps!.p50Us).to.be.within(30_000, steps!.p95Us! - 1);
      expect(quick).to.deep.equal(await expectedRow('quick', 'Quick', since));
      expect(quick).to.deep.include({ count: 5, ok: 4, failed: 1, successRate: 0.8 });
      // A task that is no longer registered keeps its row (titled by its key), so the table adds up.
      expect(gone).to.deep.include({ key: 'gone', title: 'gone', count: 1, ok: 1, failed: 0, successRate: 1 });
    });

    it('gives runs per UTC day for every day of the window, zeros included, adding up to the counts', async () => {
      const data = await json<Dashboard>('/admin?format=json');
      const since = Date.parse(data.since);
      expect(data.perDay[0]!.day).to.equal(utcDay(since));
      expect(data.perDay.at(-1)!.day).to.equal(utcDay(Date.now()));
      expect(data.perDay).to.have.length(Math.round((Date.parse(utcDay(Date.now())) - Date.parse(utcDay(since))) / DAY) + 1);
      const days = data.perDay.map((d) => d.day);
      expect(days).to.deep.equal([...new Set(days)].sort());
      const expected = new Map<string, { ok: number; failed: number }>();
      for (const key of ['steps', 'quick', 'gone']) {
        for (const r of await stored(key, since)) {
          const entry = expected.get(utcDay(r.startedAt)) ?? { ok: 0, failed: 0 };
          if (r.status === 'ok') entry.ok += 1;
          else entry.failed += 1;
          expected.set(utcDay(r.startedAt), entry);
        }
      }
      for (const d of data.perDay) expect({ ok: d.ok, failed: d.failed }, d.day).to.deep.equal(expected.get(d.day) ?? { ok: 0, failed: 0 });
      expect(data.perDay.reduce((n, d) => n + d.ok + d.failed, 0)).to.equal(26);
      expect(data.perDay.find((d) => d.day === utcDay(base - 3 * DAY))).to.deep.include({ ok: 15, failed: 5 });
    });

    it('looks back over ?window=24h, 7d and 90d', async () => {
      const counts = async (window: string) => Object.fromEntries((await json<Dashboard>(`/admin?format=json&window=${window}`)).tasks.map((r) => [r.key, r.count]));
      expect(await counts('24h')).to.deep.equal({ idle: 0, quick: 2, steps: 0, gone: 1 });
      expect(await counts('7d')).to.deep.equal({ idle: 0, quick: 2, steps: 20, gone: 1 });
      expect(await counts('90d')).to.deep.equal({ idle: 0, quick: 6, steps: 20, gone: 1 });
      const day = await json<Dashboard>('/admin?format=json&window=24h');
      expect(day.window).to.equal('24h');
      expect(day.perDay.map((d) => d.day)).to.deep.equal([...new Set([utcDay(Date.parse(day.since)), utcDay(Date.now())])]);
      const quick = day.tasks.find((r) => r.key === 'quick')!;
      expect(quick).to.deep.equal(await expectedRow('quick', 'Quick', Date.parse(day.since)));
      expect(quick.successRate).to.equal(0.5);
    });

    it('shows the table, humanised numbers, links to each task and the runs-per-day chart in HTML', async () => {
      const res = await get('/admin');
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(CONTENT_TYPE.html);
      const html = await res.text();
      const data = await json<Dashboard>('/admin?format=json');
      const steps = data.tasks.find((r) => r.key === 'steps')!;
      const row = /<tr data-task="steps">([\s\S]*?)<\/tr>/.exec(html)![1]!;
      const cells = [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, '').trim());
      expect(cells.slice(0, 7)).to.deep.equal(['Step &lt;Counter&gt; &amp; &quot;co&quot;', '20', '15', '5', '75%', microsToMillis(steps.p50Us!), microsToMillis(steps.p95Us!)]);
      expect(decodeEntities(cells[0]!)).to.equal(TITLE);
      expect(html).to.not.contain('Step <Counter>');
      expect(row).to.contain('href="/admin/task/steps"');
      expect(row).to.contain('href="/admin/task/steps/stats?window=30d"');
      expect(/<tr data-task="idle">[\s\S]*?<\/tr>/.exec(html)![0]).to.contain('—');
      expect(/<tr data-task="gone">[\s\S]*?<\/tr>/.exec(html)![0]).to.contain('no longer registered').and.not.contain('href=');
      expect(html).to.contain('<link rel="stylesheet" href="/admin/static/charts.css">');
      const svg = /<svg xmlns="http:\/\/www.w3.org\/2000\/svg" class="stat-chart runs-per-day-chart"[\s\S]*?<\/svg>/.exec(html)![0];
      expect(svg.match(/<g class="day"/g)).to.have.length(data.perDay.length);
      expect(svg).to.not.contain('NaN');
      expect(html).to.contain('aria-current="page">30d</a>');
      const css = await get('/admin/static/charts.css');
      expect(css.status).to.equal(200);
      expect(css.headers.get('content-type')).to.equal('text/css; charset=utf-8');
    });

    it('answers CSV (one row per task), XML and YAML with the same numbers', async () => {
      const data = await json<Dashboard>('/admin?format=json');
      const csv = csvObjects(await (await get('/admin?format=csv')).text());
      expect(csv.map((r) => Object.keys(r))[0]).to.deep.equal(['key', 'title', 'count', 'ok', 'failed', 'successRate', 'p50Us', 'p95Us']);
      expect(csv.map((r) => [r.key, Number(r.count), Number(r.p95Us || 0)])).to.deep.equal(data.tasks.map((r) => [r.key, r.count, r.p95Us ?? 0]));
      // `since` is the request's own clock: compare everything else.
      const { since: _since, ...rest } = data;
      const yaml = parseBody('yaml', await (await get('/admin?format=yaml')).text()) as Dashboard;
      expect({ ...yaml, since: undefined }).to.deep.equal({ ...rest, since: undefined });
      const xmlRes = await get('/admin?format=xml');
      expect(xmlRes.headers.get('content-type')).to.match(CONTENT_TYPE.xml);
      const xml = parseBody('xml', await xmlRes.text()) as { window: string; tasks: { key: string; title: string; count: string }[]; perDay: unknown[] };
      expect(xml.window).to.equal('30d');
      expect(xml.perDay).to.have.length(data.perDay.length);
      expect(xml.tasks.map((r) => [r.key, r.title, Number(r.count)])).to.deep.equal(data.tasks.map((r) => [r.key, r.title, r.count]));
    });

    it('refuses any other ?window= with 400 naming the parameter, in every format', async () => {
      for (const format of FORMATS) {
        for (const window of ['1y', '', '30D', '7d%20']) {
          const res = await get(withFormat(`/admin?window=${window}`, format));
          expect(res.status, `${format} ${window}`).to.equal(400);
          expect(errorMessage(format, await res.text()), `${format} ${window}`).to.match(/^parameter "window": expected one of 24h, 7d, 30d, 90d, got /);
        }
      }
      const body = (await (await get('/admin?format=json&window=1y')).json()) as { code: string; invalid_params: unknown };
      expect(body.code).to.equal('ERR_INVALID_REQUEST');
      expect(body.invalid_params).to.deep.equal([{ name: 'window', reason: 'expected one of 24h, 7d, 30d, 90d' }]);
    });
  });

  describe('GET /admin/task/{key}/stats', () => {
    it('gives the numbers, the latest durations oldest first and runs per day in JSON', async () => {
      const data = await json<TaskStatsPage>('/admin/task/steps/stats?format=json');
      const since = Date.parse(data.since);
      const row = await expectedRow('steps', TITLE, since);
      expect(data).to.deep.include({ ...row, window: '30d' });
      const runs = (await stored('steps', 0)).reverse();
      expect(data.durations).to.deep.equal(runs.map((r) => ({ id: r.id, startedAt: new Date(r.startedAt).toISOString(), elapsedUs: r.elapsedUs, status: r.status, slowerThanUsual: false })));
      expect(data.durations.filter((d) => d.status === 'error')).to.have.length(5);
      expect(data.perDay.find((d) => d.day === utcDay(base - 3 * DAY))).to.deep.equal({ day: utcDay(base - 3 * DAY), ok: 15, failed: 5 });
      expect(data.perDay.reduce((n, d) => n + d.ok + d.failed, 0)).to.equal(20);
    });

    it('marks a run slower than usual when it took longer than the p95 of the window', async () => {
      const data = await json<TaskStatsPage>('/admin/task/quick/stats?format=json&window=24h');
      expect(data).to.deep.include(await expectedRow('quick', 'Quick', Date.parse(data.since)));
      // Every finished run is charted, also those before the window; the mark compares with the window's p95.
      expect(data.durations).to.have.length(6);
      for (const d of data.durations) expect(d.slowerThanUsual, d.id).to.equal(d.elapsedUs > data.p95Us!);
      // The three 30 ms runs ten days ago took longer than both of today's runs.
      expect(data.durations.slice(1, 4).every((d) => d.slowerThanUsual)).to.equal(true);
      const slow = data.durations.filter((d) => d.slowerThanUsual).length;
      const html = await (await get('/admin/task/quick/stats?window=24h')).text();
      expect(html.match(/class="bar s-ok slow"/g)).to.have.length(slow);
      expect(html.match(/<span>slower than usual<\/span>/g)).to.have.length(slow);
    });

    it('draws the duration chart (one linked bar per run) and the runs-per-day chart in HTML', async () => {
      const res = await get('/admin/task/steps/stats');
      expect(res.status).to.equal(200);
      const html = await res.text();
      const data = await json<TaskStatsPage>('/admin/task/steps/stats?format=json');
      const durationSvg = /<svg [^>]*class="stat-chart duration-chart"[\s\S]*?<\/svg>/.exec(html)![0];
      expect(durationSvg.match(/<rect class="bar s-[a-z]+( slow)?" [^>]*data-us=/g)).to.have.length(20);
      for (const d of data.durations) expect(durationSvg).to.contain(`<a class="run-link" href="/admin/run/${d.id}"><title>started `);
      expect(durationSvg).to.contain(`p95 ${microsToMillis(data.p95Us!)}`);
      expect(durationSvg).to.contain('aria-label="Duration of the latest 20 finished runs of Step &lt;Counter&gt; &amp; &quot;co&quot;"');
      const perDaySvg = /<svg [^>]*class="stat-chart runs-per-day-chart"[\s\S]*?<\/svg>/.exec(html)![0];
      expect(perDaySvg.match(/<g class="day"/g)).to.have.length(data.perDay.length);
      expect(html).to.contain('<dd data-stat="count">20</dd>');
      expect(html).to.contain('<dd data-stat="success">75%</dd>');
      expect(html).to.contain(`<dd data-stat="p50">${microsToMillis(data.p50Us!)}</dd>`);
      expect(html).to.contain(`<dd data-stat="p95">${microsToMillis(data.p95Us!)}</dd>`);
      expect(html).to.contain('href="/admin/task/steps"');
      expect(html).to.not.contain('Step <Counter>');
    });

    it('shows empty states for a task that never ran, with no NaN', async () => {
      const data = await json<TaskStatsPage>('/admin/task/idle/stats?format=json');
      expect(data).to.deep.include({ key: 'idle', count: 0, ok: 0, failed: 0, successRate: null, p50Us: null, p95Us: null, durations: [] });
      expect(data.perDay.every((d) => d.ok === 0 && d.failed === 0)).to.equal(true);
      const html = await (await get('/admin/task/idle/stats')).text();
      expect(html).to.contain('No finished runs yet.');
      expect(html).to.contain('No runs in this window.');
      expect(html).to.not.match(/NaN|Infinity/);
    });

    it('answers CSV (one row per charted run), XML and YAML', async () => {
      const data = await json<TaskStatsPage>('/admin/task/steps/stats?format=json');
      const csv = csvObjects(await (await get('/admin/task/steps/stats?format=csv')).text());
      expect(csv.map((r) => [r.id, Number(r.elapsedUs), r.status, r.slowerThanUsual])).to.deep.equal(data.durations.map((d) => [d.id, d.elapsedUs, d.status, String(d.slowerThanUsual)]));
      const yaml = parseBody('yaml', await (await get('/admin/task/steps/stats?format=yaml')).text()) as TaskStatsPage;
      expect({ ...yaml, since: undefined }).to.deep.equal({ ...data, since: undefined });
      const xml = await (await get('/admin/task/steps/stats?format=xml')).text();
      expect(xml).to.contain('<stats>');
      expect(xml.match(/<elapsedUs>/g)).to.have.length(20);
    });

    it('answers 404 for an unknown task in every format, also with a bad window', async () => {
      for (const format of FORMATS) {
        for (const path of ['/admin/task/nope/stats', '/admin/task/gone/stats', '/admin/task/NOPE/stats', '/admin/task/nope/stats?window=1y']) {
          const res = await get(withFormat(path, format));
          expect(res.status, `${format} ${path}`).to.equal(404);
          expect(res.headers.get('content-type'), `${format} ${path}`).to.match(CONTENT_TYPE[format]);
          expect(errorMessage(format, await res.text()), `${format} ${path}`).to.match(/^no task found with key "(nope|gone|NOPE)"$/);
        }
      }
    });

    it('refuses a bad ?window= and a bad ?format= with 400', async () => {
      for (const format of DATA_FORMATS) {
        const res = await get(withFormat('/admin/task/steps/stats?window=365d', format));
        expect(res.status, format).to.equal(400);
        expect(errorMessage(format, await res.text())).to.match(/^parameter "window": expected one of 24h, 7d, 30d, 90d, got "365d"$/);
      }
      const res = await get('/admin/task/steps/stats?format=pdf');
      expect(res.status).to.equal(400);
      expect(errorMessage('html', await res.text())).to.match(/^parameter "format": expected one of/);
    });
  });
});

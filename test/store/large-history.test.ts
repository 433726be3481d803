// History filters and search over a generated history of 100k runs (TASKDECK_HISTORY_RUNS for more):
// every filter, walked page by page, returns exactly the runs a plain independent query finds.
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { generateHistory } from '../../bench/lib/history-fixture.js';
import { stripAnsi } from '../../core/store/strip-ansi.js';
import type { RunFilter } from '../../core/tasks/run-repository.js';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

const RUNS = Number(process.env.TASKDECK_HISTORY_RUNS ?? 100_000);

describe(`a history of ${RUNS.toLocaleString('en')} runs`, function () {
  this.timeout(300_000);
  let dir: string;
  let raw: Database.Database;
  let t: TestKernel;
  const timings: string[] = [];

  before(async () => {
    dir = makeTempDir();
    const fixture = await generateHistory(dir, RUNS, 2);
    raw = new Database(fixture.file);
    raw.function('strip_ansi', { deterministic: true }, (text: unknown) => (typeof text === 'string' ? stripAnsi(text) : text));
    // The generator leaves the search index empty: index what a kernel would have indexed at completion.
    raw.exec('INSERT INTO log_search(rowid, msg) SELECT rowid, msg FROM run_logs_plain; INSERT INTO result_search(rowid, error, data_json) SELECT num, error, data_json FROM runs;');
    // Start times out of num order, as two processes sharing a database or a clock step back make them:
    // a run stamped five days early, one two days late, one at the very beginning. Time ranges stay exact.
    const at = raw.prepare('SELECT started_at FROM runs WHERE num = ?').pluck();
    const restamp = raw.prepare('UPDATE runs SET started_at = ? WHERE num = ?');
    for (const [num, shift] of [[Math.floor(RUNS * 0.45), -5 * 86_400_000], [Math.floor(RUNS * 0.3), 2 * 86_400_000], [RUNS - 3, -(at.get(RUNS - 3) as number) + (at.get(1) as number)]] as const) {
      restamp.run((at.get(num) as number) + shift, num);
    }
    t = await bootKernel({ dir, config: { db: fixture.file, retention: { intervalMinutes: 0 } } });
  });
  after(async () => {
    if (process.env.TASKDECK_TEST_TIMINGS) console.log(timings.join('\n'));
    raw?.close();
    await t?.stop();
    removeDir(dir);
  });

  /** Every run the filter returns, page by page; and the time of the first page. */
  async function walk(filter: RunFilter): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    const started = performance.now();
    do {
      const page = await t.kernel.service.listRuns(filter, { limit: 500, cursor });
      if (ids.length === 0) timings.push(`${JSON.stringify(filter)}: first page ${(performance.now() - started).toFixed(2)} ms`);
      ids.push(...page.runs.map((r) => r.id));
      cursor = page.next;
    } while (cursor);
    return ids;
  }
  const expected = (where: string, ...params: unknown[]) => raw.prepare(`SELECT id FROM runs WHERE ${where} ORDER BY num DESC`).pluck().all(...params) as string[];

  const cases: [string, RunFilter, string, unknown[]][] = [
    ['by task', { task: ['nightly-report'] }, 'task_key = ?', ['nightly-report']],
    ['by status', { status: ['cancelled'] }, "status = 'cancelled'", []],
    ['by run label', { label: ['nightly'] }, "run_label = 'nightly'", []],
    ['by tag', { tag: ['flaky'] }, "tags_json LIKE '%\"flaky\"%'", []],
    ['by argument value', { args: { format: 'tar' } }, "json_extract(args_json, '$.format') = 'tar'", []],
    ['by duration range', { minElapsedUs: 100_000, maxElapsedUs: 120_000 }, 'elapsed_us BETWEEN 100000 AND 120000', []],
    ['by task, status and tag together', { task: ['backup'], status: ['error'], tag: ['nightly'] }, "task_key = 'backup' AND status = 'error' AND tags_json LIKE '%\"nightly\"%'", []],
    ['by full text in the error', { q: 'wrong' }, "error LIKE '%wrong%'", []],
    ['by full text and task', { q: 'wrong', task: ['task-00'] }, "error LIKE '%wrong%' AND task_key = 'task-00'", []],
    ['by two tags', { tag: ['db', 'flaky'] }, "tags_json LIKE '%\"db\"%' AND tags_json LIKE '%\"flaky\"%'", []],
    ['by tag and argument value', { tag: ['nightly'], args: { format: 'sql' } }, "tags_json LIKE '%\"nightly\"%' AND json_extract(args_json, '$.format') = 'sql'", []],
    ['by argument value and status', { args: { format: 'sql' }, status: ['error'] }, "json_extract(args_json, '$.format') = 'sql' AND status = 'error'", []],
  ];
  for (const [name, filter, where, params] of cases) {
    it(`filters ${name}: exactly the right runs, newest first, across every page`, async () => {
      const want = expected(where, ...params);
      expect(want.length, 'the generated history has matching runs').to.be.greaterThan(0);
      expect(await walk(filter)).to.deep.equal(want);
    });
  }

  describe('by time range, exactly, though some runs started out of num order', () => {
    // The first time range starts reading the start order in the background (answered as SQLite plans
    // it meanwhile); give it time, so that the ranges below take the num bounds (both ways are exact).
    before(async () => {
      await t.kernel.service.listRuns({ since: 1 }, { limit: 1 });
      await new Promise((resolve) => setTimeout(resolve, 1500));
    });
    const startOf = (fraction: number) => raw.prepare('SELECT started_at FROM runs WHERE num = ?').pluck().get(Math.floor(RUNS * fraction)) as number;
    it('since and until', async () => {
      const [from, to] = [startOf(1 / 3), startOf(1 / 2)];
      const want = expected('started_at >= ? AND started_at < ?', from, to);
      // Two restamped runs: one joined the range, one left it.
      const idOf = (fraction: number) => raw.prepare('SELECT id FROM runs WHERE num = ?').pluck().get(Math.floor(RUNS * fraction)) as string;
      expect(want).to.include(idOf(0.3)).and.not.include(idOf(0.45));
      expect(await walk({ since: from, until: to })).to.deep.equal(want);
    });
    it('since alone, until alone, and a range of one millisecond', async () => {
      const from = startOf(0.9);
      expect(await walk({ since: from })).to.deep.equal(expected('started_at >= ?', from));
      const to = startOf(0.2);
      expect(await walk({ until: to })).to.deep.equal(expected('started_at < ?', to));
      const one = startOf(0.45);
      expect(await walk({ since: one, until: one + 1 })).to.deep.equal(expected('started_at >= ? AND started_at < ?', one, one + 1));
    });
    it('with a task, a tag or an argument value', async () => {
      const [from, to] = [startOf(0.25), startOf(0.6)];
      expect(await walk({ since: from, until: to, task: ['backup'] })).to.deep.equal(expected("started_at >= ? AND started_at < ? AND task_key = 'backup'", from, to));
      expect(await walk({ since: from, until: to, tag: ['flaky'] })).to.deep.equal(expected("started_at >= ? AND started_at < ? AND tags_json LIKE '%\"flaky\"%'", from, to));
      expect(await walk({ since: from, args: { format: 'tar' } })).to.deep.equal(expected("started_at >= ? AND json_extract(args_json, '$.format') = 'tar'", from));
    });
    it('a range no run started in', async () => {
      expect(await walk({ since: 1, until: 2 })).to.deep.equal([]);
    });
  });

  it('finds a log line by its words, with a snippet naming the line', async () => {
    const want = expected("num IN (SELECT run_num FROM run_logs WHERE msg LIKE 'step 1 of run 4242:%')");
    expect(await walk({ q: '"step 1 of run 4242"' })).to.deep.equal(want);
    const [snippet] = await t.kernel.history.searchSnippets(want, '"step 1 of run 4242"');
    expect(snippet).to.deep.include({ where: 'log', seq: 1 });
  });

  it('gives each task\'s p95 over its latest 1000 finished runs, as the history page marks "slower than usual"', async () => {
    const keys = raw.prepare('SELECT DISTINCT task_key FROM runs ORDER BY task_key').pluck().all() as string[];
    const p95 = await t.kernel.history.recentP95([...keys, 'no-such-task'], 1000);
    for (const key of keys) {
      const sample = (raw.prepare("SELECT elapsed_us FROM runs WHERE task_key = ? AND status != 'running' ORDER BY num DESC LIMIT 1000").pluck().all(key) as number[]).sort((a, b) => a - b);
      expect(p95.get(key), key).to.equal(sample[Math.min(sample.length - 1, Math.floor(sample.length * 0.95))]);
    }
    expect(p95.has('no-such-task')).to.equal(false);
  });

  it('answers the task statistics for the whole history', async () => {
    const stats = await t.kernel.history.taskStats(0, ['backup']);
    const count = raw.prepare("SELECT count(*) FROM runs WHERE task_key = 'backup'").pluck().get() as number;
    expect(stats[0]).to.deep.include({ taskKey: 'backup', count });
  });

  // Last: it stops the kernel to boot one with a retention policy on the same database.
  describe('retention', () => {
    it('keeps each task\'s latest runs and every young run when retention runs over it', async () => {
      // A 10-day limit over 30 days of runs: about two thirds go, in batches, never a task's latest 100.
      const policy = { maxAgeDays: 10, keepPerTask: 100, maxBytes: 0 };
      await t.stop(); // one server per database
      const now = Date.now();
      const retained = await bootKernel({ dir: makeTempDir(), now: () => now, config: { db: path.join(dir, 'history.db'), retention: { ...policy, intervalMinutes: 0 } } });
      try {
        const cutoff = now - 10 * 86_400_000;
        const young = expected('started_at >= ?', cutoff).length;
        // The preview counts exactly what goes: finished runs before the cutoff beyond each task's latest 100.
        const goes = raw.prepare(`SELECT count(*) FROM (SELECT started_at, status, row_number() OVER (PARTITION BY task_key ORDER BY num DESC) AS rank FROM runs)
          WHERE rank > 100 AND status != 'running' AND started_at < ?`).pluck().get(cutoff) as number;
        const started = performance.now();
        const preview = await retained.kernel.retention.preview();
        timings.push(`retention preview: ${(performance.now() - started).toFixed(1)} ms`);
        expect(preview.byAge).to.equal(goes);
        expect(preview.perTask.reduce((sum, t) => sum + t.count, 0)).to.equal(preview.byAge);
        expect(preview.oldest.map((c) => c.startedAt)).to.deep.equal([...preview.oldest.map((c) => c.startedAt)].sort((a, b) => a - b));
        const pruning = performance.now();
        const report = await retained.kernel.retention.prune();
        timings.push(`retention prune: ${report.byAge} runs in ${(performance.now() - pruning).toFixed(0)} ms`);
        expect(report.byAge).to.equal(goes);
        expect(raw.prepare('SELECT count(*) FROM runs WHERE started_at >= ?').pluck().get(cutoff)).to.equal(young);
        const perTask = raw.prepare('SELECT task_key, count(*) AS n FROM runs GROUP BY task_key').all() as { task_key: string; n: number }[];
        expect(perTask.every((row) => row.n >= 100)).to.equal(true);
        expect(raw.prepare("INSERT INTO log_search(log_search, rank) VALUES('integrity-check', 1)").run()).to.be.an('object');
      } finally {
        await retained.stop();
      }
    });
  });
});

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
  ];
  for (const [name, filter, where, params] of cases) {
    it(`filters ${name}: exactly the right runs, newest first, across every page`, async () => {
      const want = expected(where, ...params);
      expect(want.length, 'the generated history has matching runs').to.be.greaterThan(0);
      expect(await walk(filter)).to.deep.equal(want);
    });
  }

  it('filters by time range', async () => {
    const [from, to] = raw.prepare('SELECT started_at FROM runs WHERE num IN (?, ?) ORDER BY num').pluck().all(Math.floor(RUNS / 3), Math.floor(RUNS / 2)) as number[];
    expect(await walk({ since: from!, until: to! })).to.deep.equal(expected('started_at >= ? AND started_at < ?', from, to));
  });

  it('finds a log line by its words, with a snippet naming the line', async () => {
    const want = expected("num IN (SELECT run_num FROM run_logs WHERE msg LIKE 'step 1 of run 4242:%')");
    expect(await walk({ q: '"step 1 of run 4242"' })).to.deep.equal(want);
    const [snippet] = await t.kernel.history.searchSnippets(want, '"step 1 of run 4242"');
    expect(snippet).to.deep.include({ where: 'log', seq: 1 });
  });

  it('answers the task statistics for the whole history', async () => {
    const stats = await t.kernel.history.taskStats(0, ['backup']);
    const count = raw.prepare("SELECT count(*) FROM runs WHERE task_key = 'backup'").pluck().get() as number;
    expect(stats[0]).to.deep.include({ taskKey: 'backup', count });
  });

  it('keeps each task\'s latest runs and every young run when retention runs over it', async () => {
    // A 10-day limit over 30 days of runs: about two thirds go, in batches, never a task's latest 100.
    const policy = { maxAgeDays: 10, keepPerTask: 100, maxBytes: 0 };
    await t.stop(); // one server per database
    const retained = await bootKernel({ dir: makeTempDir(), config: { db: path.join(dir, 'history.db'), retention: { ...policy, intervalMinutes: 0 } } });
    try {
      const cutoff = Date.now() - 10 * 86_400_000;
      const young = expected('started_at >= ?', cutoff).length;
      await retained.kernel.retention.prune();
      expect(raw.prepare('SELECT count(*) FROM runs WHERE started_at >= ?').pluck().get(cutoff)).to.equal(young);
      const perTask = raw.prepare('SELECT task_key, count(*) AS n FROM runs GROUP BY task_key').all() as { task_key: string; n: number }[];
      expect(perTask.every((row) => row.n >= 100)).to.equal(true);
      expect(raw.prepare("INSERT INTO log_search(log_search, rank) VALUES('integrity-check', 1)").run()).to.be.an('object');
    } finally {
      await retained.stop();
    }
  });
});

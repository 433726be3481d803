import Database from 'better-sqlite3';
import { expect } from 'chai';
import { toFtsQuery } from '../../core/store/fts-query.js';
import { stripAnsi } from '../../core/store/strip-ansi.js';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';

describe('history search and statistics', () => {
  let t: TestKernel;
  let clock = Date.UTC(2026, 0, 1);
  const ids: Record<string, string> = {};
  before(async () => {
    t = await bootKernel({ now: () => clock, config: { retention: { maxAgeDays: 1, keepPerTask: 0, maxBytes: 0, intervalMinutes: 0 } } });
    t.kernel.registerTask({
      key: 'search',
      fields: [{ key: 'word', required: true }, { key: 'fail', type: 'bool' }, { key: 'ms', type: 'int', default: 0 }],
      run: async ({ args, log }) => {
        log(`first line`);
        log(`the quick ${String(args.word)} fox`);
        if (args.ms) await new Promise((resolve) => setTimeout(resolve, Number(args.ms)));
        if (args.fail) throw new Error(`broken ${String(args.word)} pipe`);
        return { found: `${String(args.word)}-data` };
      },
    });
    for (const [name, word, fail, ms] of [['brown', 'brown', false, 0], ['red', 'red', true, 0], ['slow', 'green', false, 120], ['other', 'über', false, 0]] as const) {
      clock += 3_600_000;
      ids[name] = (await t.kernel.service.run('search', { word, fail, ms })).id;
    }
  });
  after(() => t.cleanup());

  const search = async (q: string) => (await t.kernel.service.listRuns({ q }, { limit: 100 })).runs.map((r) => r.id);

  it('finds runs by a word in a log line, the error or the data', async () => {
    expect(await search('brown')).to.deep.equal([ids.brown]);
    expect(await search('pipe')).to.deep.equal([ids.red]);
    expect(await search('green-data')).to.deep.equal([ids.slow]);
    expect(await search('quick')).to.have.members(Object.values(ids));
    expect(await search('33mdiskette')).to.deep.equal([]);
    expect(await search('quick fox red')).to.deep.equal([ids.red]);
    expect(await search('über')).to.deep.equal([ids.other]);
    expect(await search('nothing-like-this')).to.deep.equal([]);
  });

  it('finds a word that a colour code is stuck to, and snips it without the escape', async () => {
    t.kernel.registerTask({ key: 'coloured', run: ({ log }) => log('\u001b[33mdiskette\u001b[0m almost full') });
    const { id } = await t.kernel.service.run('coloured');
    expect(await search('diskette')).to.deep.equal([id]);
    const [snippet] = await t.kernel.history.searchSnippets([id], 'diskette');
    expect(snippet!.text).to.equal('\u0002diskette\u0003 almost full');
  });

  it('treats FTS syntax in a query as plain words, and keeps a trailing * as a prefix', async () => {
    for (const q of ['"', 'AND', 'quick NOT', 'a:b', '(', 'NEAR(a b)', '-x', '*']) {
      expect(await search(q), q).to.be.an('array');
    }
    expect(await search('brow*')).to.deep.equal([ids.brown]);
    expect(await search('bro*')).to.have.members([ids.brown, ids.red]);
    expect(toFtsQuery('say "hello world" x*')).to.equal('"say" "hello world" "x"*');
    expect(toFtsQuery('   ')).to.equal(null);
  });

  it('returns a snippet of where each run matched, with the match marked and the line number', async () => {
    const snippets = await t.kernel.history.searchSnippets([ids.brown!, ids.red!], 'brown');
    expect(snippets).to.have.length(1);
    expect(snippets[0]).to.deep.include({ runId: ids.brown, where: 'log', seq: 2 });
    expect(snippets[0]!.text).to.equal('the quick \u0002brown\u0003 fox');
    const error = await t.kernel.history.searchSnippets([ids.red!], 'pipe');
    expect(error[0]).to.deep.include({ where: 'error', seq: null, text: 'broken red \u0002pipe\u0003' });
  });

  it('filters by duration range', async () => {
    const slow = (await t.kernel.service.listRuns({ task: ['search'], minElapsedUs: 100_000 })).runs.map((r) => r.id);
    expect(slow).to.deep.equal([ids.slow]);
    const fast = (await t.kernel.service.listRuns({ task: ['search'], maxElapsedUs: 100_000 })).runs.map((r) => r.id);
    expect(fast).to.have.members([ids.brown, ids.red, ids.other]);
  });

  it('counts runs, failures and duration percentiles per task, and runs per day', async () => {
    const [stats] = await t.kernel.history.taskStats(0, ['search']);
    expect(stats).to.deep.include({ taskKey: 'search', count: 4, ok: 3, failed: 1 });
    expect(stats!.p95Us).to.be.at.least(100_000);
    expect(stats!.p50Us).to.be.below(100_000);
    const days = await t.kernel.history.runsPerDay(0, ['search']);
    expect(days).to.deep.equal([{ day: '2026-01-01', ok: 3, failed: 1 }]);
    const points = await t.kernel.history.durations('search', 10);
    expect(points.map((p) => p.id)).to.deep.equal([ids.brown, ids.red, ids.slow, ids.other]);
  });

  it('keeps the search index consistent when retention deletes runs', async () => {
    clock += 5 * 86_400_000;
    const report = await t.kernel.retention.prune();
    expect(report.byAge).to.equal(5);
    expect(await search('quick')).to.deep.equal([]);
    const db = new Database(t.dbFile, { readonly: false });
    db.function('strip_ansi', { deterministic: true }, (text: unknown) => (typeof text === 'string' ? stripAnsi(text) : text));
    try {
      expect(() => db.prepare("INSERT INTO log_search(log_search, rank) VALUES('integrity-check', 1)").run()).not.to.throw();
      expect(() => db.prepare("INSERT INTO result_search(result_search, rank) VALUES('integrity-check', 1)").run()).not.to.throw();
    } finally {
      db.close();
    }
  });
});

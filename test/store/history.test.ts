import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { killMidRun } from '../fixtures/kill-mid-run.js';
import { bootKernel } from '../helpers/boot-kernel.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

describe('run history in SQLite', () => {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(() => removeDir(dir));

  it('keeps runs, logs, data and tags across a kernel restart', async () => {
    const first = await bootKernel({ dir });
    first.kernel.registerTask({ key: 'keep', run: (ctx) => { ctx.log('persist me'); ctx.result.addTags('t1'); return { kept: true }; } });
    const result = await first.kernel.service.run('keep', {}, { label: 'nightly' });
    await first.stop();

    const second = await bootKernel({ dir });
    try {
      const run = await second.kernel.service.getStoredRun(result.id);
      expect(run).to.include({ status: 'ok', label: 'nightly', taskKey: 'keep' });
      expect(run.tags).to.deep.equal(['t1']);
      expect(JSON.parse(run.dataJson ?? 'null')).to.deep.equal({ kept: true });
      const logs = await second.kernel.service.getLogs(result.id);
      expect(logs.map((l) => l.msg)).to.deep.equal(result.logs);
      expect(logs.map((l) => l.seq)).to.deep.equal(result.logs.map((_, i) => i + 1));
    } finally {
      await second.stop();
    }
  });

  it('marks a run interrupted after kill -9 mid-run, keeping the lines written before the kill', async function () {
    this.timeout(30_000);
    const { runId, seenSeq } = await killMidRun(dir);

    const restarted = await bootKernel({ dir });
    try {
      const run = await restarted.kernel.service.getStoredRun(runId);
      expect(run.status).to.equal('interrupted');
      expect(run.error).to.match(/stopped while this run was running/);
      const logs = await restarted.kernel.service.getLogs(runId);
      expect(logs.length).to.be.at.least(seenSeq);
      expect(logs.slice(0, seenSeq).map((l) => l.msg)).to.deep.equal(Array.from({ length: seenSeq }, (_, i) => `line ${i + 1}`));
    } finally {
      await restarted.stop();
    }
  });

  it('filters history by task, status, label, tag, time and argument, newest first, with keyset pages', async () => {
    let clock = Date.UTC(2026, 0, 1);
    const t = await bootKernel({ dir, now: () => clock });
    try {
      t.kernel.registerTask({
        key: 'alpha',
        fields: [{ key: 'format', choices: ['sql', 'tar'], default: 'sql' }, { key: 'fail', type: 'bool' }],
        run: ({ args, result }) => {
          result.addTags(String(args.format));
          if (args.fail) throw new Error('failed');
        },
      });
      t.kernel.registerTask({ key: 'beta', run: () => 'b' });
      const ids: Record<string, string> = {};
      for (let i = 0; i < 10; i++) {
        clock += 60_000;
        const r = await t.kernel.service.run('alpha', { format: i % 2 ? 'tar' : 'sql', fail: i % 3 === 0 }, { label: i < 5 ? 'early' : 'late' });
        ids[`a${i}`] = r.id;
      }
      clock += 60_000;
      ids.b = (await t.kernel.service.run('beta')).id;
      const list = async (filter: Parameters<typeof t.kernel.service.listRuns>[0]) => (await t.kernel.service.listRuns(filter, { limit: 100 })).runs.map((r) => r.id);

      expect(await list({})).to.deep.equal([ids.b, ...[9, 8, 7, 6, 5, 4, 3, 2, 1, 0].map((i) => ids[`a${i}`])]);
      expect(await list({ task: ['beta'] })).to.deep.equal([ids.b]);
      expect(await list({ status: ['error'] })).to.deep.equal([9, 6, 3, 0].map((i) => ids[`a${i}`]));
      expect(await list({ label: ['early'], task: ['alpha'] })).to.deep.equal([4, 3, 2, 1, 0].map((i) => ids[`a${i}`]));
      expect(await list({ tag: ['tar'] })).to.deep.equal([9, 7, 5, 3, 1].map((i) => ids[`a${i}`]));
      expect(await list({ args: { format: 'tar', fail: 'true' } })).to.deep.equal([9, 3].map((i) => ids[`a${i}`]));
      const start = Date.UTC(2026, 0, 1);
      expect(await list({ since: start + 3 * 60_000, until: start + 5 * 60_000 })).to.deep.equal([ids.a3, ids.a2]);

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await t.kernel.service.listRuns({}, { limit: 4, cursor });
        expect(page.runs.length).to.be.at.most(4);
        seen.push(...page.runs.map((r) => r.id));
        cursor = page.next;
      } while (cursor);
      expect(seen).to.deep.equal(await list({}));
    } finally {
      await t.stop();
    }
  });
});

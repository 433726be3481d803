import { expect } from 'chai';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';

const DAY = 86_400_000;

describe('retention', () => {
  let clock: number;
  let t: TestKernel;
  beforeEach(async () => {
    clock = Date.UTC(2026, 0, 1);
    t = await bootKernel({ now: () => clock, config: { retention: { maxAgeDays: 30, keepPerTask: 5, maxBytes: 0, intervalMinutes: 0 } } });
    t.kernel.registerTask({ key: 'old', run: ({ log }) => log('x'.repeat(200)) });
    t.kernel.registerTask({ key: 'busy', run: ({ log }) => log('y') });
  });
  afterEach(() => t.cleanup());

  async function runsOf(key: string, count: number, daysAgoStart: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      clock = Date.UTC(2026, 0, 1) - (daysAgoStart - i) * DAY;
      ids.push((await t.kernel.service.run(key)).id);
    }
    clock = Date.UTC(2026, 0, 1);
    return ids;
  }
  const remaining = async (key: string) => (await t.kernel.service.listRuns({ task: [key] }, { limit: 500 })).runs.map((r) => r.id);

  it('removes runs older than the age limit but keeps each task\'s latest runs, and previews it first', async () => {
    const old = await runsOf('old', 20, 60); // 60 .. 41 days ago: all older than 30 days
    const busy = await runsOf('busy', 40, 45); // 45 .. 6 days ago: 15 of them older than 30 days
    const preview = await t.kernel.retention.preview();
    expect(preview.byAge).to.equal(15 + 15);
    expect(preview.cutoff).to.equal(clock - 30 * DAY);
    expect(preview.perTask).to.deep.equal([{ taskKey: 'busy', count: 15 }, { taskKey: 'old', count: 15 }]);
    // The first 20 to go, oldest start first: all 15 of "old" (60..46 days ago), then "busy" from 45 days ago.
    expect(preview.oldest.map((c) => c.id)).to.deep.equal([...old.slice(0, 15), ...busy.slice(0, 5)]);
    expect(preview.lastPrune).to.equal(null);
    expect(preview.nextPruneAt, 'no interval in this policy').to.equal(null);
    expect(await remaining('old')).to.have.length(20);
    const report = await t.kernel.retention.prune();
    expect(report.byAge).to.equal(30);
    expect((await t.kernel.retention.preview()).lastPrune).to.deep.include({ at: clock, byAge: 30, bySize: 0 });
    // "old": only its latest 5 stay, though all are past the limit.
    expect(await remaining('old')).to.deep.equal(old.slice(-5).reverse());
    // "busy": the 25 recent runs stay; the 15 old ones go.
    expect(await remaining('busy')).to.deep.equal(busy.slice(15).reverse());
    // Their logs went with them.
    expect(await t.kernel.service.getLogs(old[0]!)).to.deep.equal([]);
  });

  it('never removes a running run', async () => {
    t.kernel.registerTask({
      key: 'hang',
      fields: [{ key: 'wait', type: 'bool' }],
      run: ({ args, signal }) => (args.wait ? new Promise((resolve) => signal.addEventListener('abort', resolve)) : undefined),
    });
    clock = Date.UTC(2026, 0, 1) - 90 * DAY;
    const live = await t.kernel.service.start(t.kernel.registry.require('hang'), { wait: true });
    // Ten finished runs after it, all past the age limit: the running one is not among the latest five.
    const quick = [];
    for (let i = 0; i < 10; i++) quick.push((await t.kernel.service.run('hang', { wait: false })).id);
    clock = Date.UTC(2026, 0, 1);
    const report = await t.kernel.retention.prune();
    expect(report.byAge).to.equal(5);
    expect((await t.kernel.service.getStoredRun(live.id)).status).to.equal('running');
    expect(await remaining('hang')).to.deep.equal([...quick.slice(-5).reverse(), live.id]);
    await t.kernel.service.cancel(live.id);
  });

  it('removes the oldest runs beyond each task\'s latest while the database is over its size budget', async () => {
    const small = await bootKernel({ now: () => clock, config: { retention: { maxAgeDays: 0, keepPerTask: 3, maxBytes: 1, intervalMinutes: 0 } } });
    try {
      small.kernel.registerTask({ key: 'fat', run: ({ log }) => { for (let i = 0; i < 50; i++) log('z'.repeat(500)); } });
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) ids.push((await small.kernel.service.run('fat')).id);
      const report = await small.kernel.retention.prune();
      expect(report.bySize).to.equal(9);
      expect((await small.kernel.service.listRuns({})).runs.map((r) => r.id)).to.deep.equal(ids.slice(-3).reverse());
    } finally {
      await small.cleanup();
    }
  });

  it('says when the server prunes next: a minute after start-up, then every interval from start-up', async () => {
    const scheduled = await bootKernel({ now: () => clock, config: { retention: { maxAgeDays: 30, keepPerTask: 5, maxBytes: 0, intervalMinutes: 10 } } });
    try {
      const start = clock;
      expect(scheduled.kernel.retention.nextPruneAt()).to.equal(start + 60_000);
      clock = start + 60_000;
      expect(scheduled.kernel.retention.nextPruneAt()).to.equal(start + 10 * 60_000);
      clock = start + 25 * 60_000;
      expect(scheduled.kernel.retention.nextPruneAt()).to.equal(start + 30 * 60_000);
    } finally {
      clock = Date.UTC(2026, 0, 1);
      await scheduled.cleanup();
    }
  });
});

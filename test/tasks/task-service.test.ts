import { expect } from 'chai';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';

describe('TaskService: running tasks', () => {
  let t: TestKernel;
  before(async () => {
    t = await bootKernel();
  });
  after(() => t.cleanup());

  const register = (def: Record<string, unknown>) => t.kernel.registerTask(def as never);
  const stored = (id: string) => t.kernel.service.getStoredRun(id);

  it('completes a returned value as data, with the seed completion line last', async () => {
    register({ key: 'ret', title: 'Returner', run: ({ log }: { log: (m: string) => void }) => { log('hello'); return { n: 1 }; } });
    const result = await t.kernel.service.run('ret');
    expect(result.status).to.equal('ok');
    expect(result.success).to.equal(true);
    expect(result.data).to.deep.equal({ n: 1 });
    expect(result.run).to.equal('ad-hoc');
    expect(result.logs[0]).to.equal('hello');
    expect(result.logs.at(-1)).to.match(/^task \[Returner\] completed in \[[0-9.]+ms\]$/);
    expect(result.elapsed).to.be.a('number').and.to.be.at.least(0);
    const row = await stored(result.id);
    expect(row.status).to.equal('ok');
    expect(JSON.parse(row.dataJson ?? 'null')).to.deep.equal({ n: 1 });
    expect((await t.kernel.service.getLogs(result.id)).map((l) => l.msg)).to.deep.equal(result.logs);
  });

  it('records a synchronous throw as an error result with its message and stack', async () => {
    register({ key: 'throws-sync', run: () => { throw new Error('boom'); } });
    const result = await t.kernel.service.run('throws-sync');
    expect(result.status).to.equal('error');
    expect(result.success).to.equal(false);
    expect(result.error).to.equal('boom');
    expect((await stored(result.id)).errorStack).to.contain('boom');
  });

  for (const [name, thrown, expected] of [
    ['a string', 'x', 'x'],
    ['undefined', undefined, 'undefined was thrown'],
    ['an empty object', {}, 'non-error thrown: {}'],
    ['null', null, 'null was thrown'],
  ] as const) {
    it(`records a rejection with ${name} as an error result`, async () => {
      const key = `rejects-${name.replace(/\W+/g, '-')}`;
      register({ key, run: async () => Promise.reject(thrown) });
      const result = await t.kernel.service.run(key);
      expect(result.status).to.equal('error');
      expect(result.error).to.equal(expected);
    });
  }

  it('survives a thrown object with a circular property', async () => {
    const cyclic: Record<string, unknown> = { name: 'weird' };
    cyclic.self = cyclic;
    register({ key: 'rejects-cyclic', run: async () => Promise.reject(cyclic) });
    const result = await t.kernel.service.run('rejects-cyclic');
    expect(result.status).to.equal('error');
    expect(result.error).to.contain('non-error thrown');
  });

  it('completes a task that returns nothing as ok with no data', async () => {
    register({ key: 'nothing', run: () => undefined });
    const result = await t.kernel.service.run('nothing');
    expect(result.status).to.equal('ok');
    expect(result.data).to.equal(undefined);
    expect((await stored(result.id)).dataJson).to.equal(null);
  });

  it('stores data that JSON cannot hold (BigInt, cycles) in a normalised form', async () => {
    register({
      key: 'weird-data',
      run: () => {
        const data: Record<string, unknown> = { big: 12345678901234567890n, when: new Date(0) };
        data.self = data;
        return data;
      },
    });
    const result = await t.kernel.service.run('weird-data');
    expect(result.status).to.equal('ok');
    const data = JSON.parse((await stored(result.id)).dataJson ?? 'null') as Record<string, unknown>;
    expect(data.big).to.equal('12345678901234567890');
    expect(data.when).to.equal('1970-01-01T00:00:00.000Z');
    expect(data.self).to.equal('[Circular]');
  });

  it('ends a run that never settles with status timeout and fires its AbortSignal', async () => {
    let aborted = false;
    register({ key: 'hangs', timeout: 100, run: ({ signal }: { signal: AbortSignal }) => new Promise(() => signal.addEventListener('abort', () => (aborted = true))) });
    const result = await t.kernel.service.run('hangs');
    expect(result.status).to.equal('timeout');
    expect(result.error).to.equal('timed out after 100ms');
    expect(aborted).to.equal(true);
    expect((await stored(result.id)).status).to.equal('timeout');
  });

  it('cancels a running run, and refuses to cancel it twice (409) or an unknown run (404)', async () => {
    register({ key: 'cancel-me', run: ({ signal }: { signal: AbortSignal }) => new Promise((resolve) => signal.addEventListener('abort', resolve)) });
    const task = t.kernel.registry.require('cancel-me');
    const live = await t.kernel.service.start(task, {});
    const result = await t.kernel.service.cancel(live.id);
    expect(result.status).to.equal('cancelled');
    expect((await stored(live.id)).status).to.equal('cancelled');
    await expectStatus(t.kernel.service.cancel(live.id), 409);
    await expectStatus(t.kernel.service.cancel('00000000-0000-4000-8000-000000000000'), 404);
  });

  it('keeps the outcome a task completed itself, ignoring what it logs or returns afterwards', async () => {
    register({
      key: 'self-complete',
      run: async (ctx: { result: { complete(d: unknown): void }; log(m: string): void }) => {
        ctx.result.complete({ first: true });
        ctx.log('after completion');
        throw new Error('ignored');
      },
    });
    const result = await t.kernel.service.run('self-complete');
    expect(result.status).to.equal('ok');
    expect(result.data).to.deep.equal({ first: true });
    expect(result.logs).to.have.length(1);
  });

  it('de-duplicates and sorts tags, and stores them for filtering', async () => {
    register({ key: 'tagger', run: (ctx: { result: { addTags(...t: string[]): void } }) => ctx.result.addTags('b', 'a', 'b', 'c') });
    const result = await t.kernel.service.run('tagger');
    expect(result.tags).to.deep.equal(['a', 'b', 'c']);
    const page = await t.kernel.service.listRuns({ tag: ['b'], task: ['tagger'] });
    expect(page.runs.map((r) => r.id)).to.deep.equal([result.id]);
  });

  it('stores a log message with % characters verbatim, one line per newline', async () => {
    register({ key: 'percent', run: ({ log }: { log: (...m: unknown[]) => void }) => log('100% done %s %d', 'x\nsecond line') });
    const result = await t.kernel.service.run('percent');
    expect(result.logs.slice(0, 2)).to.deep.equal(['100% done %s %d x', 'second line']);
  });

  it('records progress and keeps the last state', async () => {
    register({ key: 'progress', run: (ctx: { result: { progress(d: number, t: number, m?: string): void } }) => { ctx.result.progress(1, 4, 'one'); ctx.result.progress(4, 4, 'done'); } });
    const result = await t.kernel.service.run('progress');
    expect((await stored(result.id)).progress).to.deep.equal({ done: 4, total: 4, message: 'done' });
  });

  it('refuses bad typed arguments from code with an error naming the field, and records nothing', async () => {
    register({ key: 'typed', fields: [{ key: 'n', type: 'int', required: true }], run: ({ args }: { args: { n: number } }) => args.n * 2 });
    const before = (await t.kernel.service.listRuns({ task: ['typed'] })).runs.length;
    await expectStatus(t.kernel.service.run('typed', { n: 'abc' }), 400, /field "n"/);
    expect((await t.kernel.service.listRuns({ task: ['typed'] })).runs.length).to.equal(before);
    expect((await t.kernel.service.run('typed', { n: 21 })).data).to.equal(42);
  });

  it('runAll returns results in input order and never exceeds maxConcurrent (observed)', async () => {
    let inFlight = 0;
    let peak = 0;
    register({
      key: 'batch',
      maxConcurrent: 3,
      fields: [{ key: 'i', type: 'int' }, { key: 'wait', type: 'int' }],
      run: async ({ args }: { args: { i: number; wait: number } }) => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, args.wait));
        inFlight -= 1;
        return args.i;
      },
    });
    // Later items finish first: order must still follow the input.
    const argSets = Array.from({ length: 12 }, (_, i) => ({ i, wait: 60 - i * 5 }));
    const results = await t.kernel.service.runAll('batch', argSets, { label: 'nightly' });
    expect(results.map((r) => r.data)).to.deep.equal(argSets.map((a) => a.i));
    expect(results.every((r) => r.run === 'nightly')).to.equal(true);
    expect(peak).to.equal(3);
  });

  it('runs a whole batch even when some items fail', async () => {
    register({ key: 'flaky', fields: [{ key: 'fail', type: 'bool' }], run: ({ args }: { args: { fail: boolean } }) => { if (args.fail) throw new Error('nope'); return 'fine'; } });
    const results = await t.kernel.service.runAll('flaky', [{ fail: false }, { fail: true }, { fail: false }]);
    expect(results.map((r) => r.status)).to.deep.equal(['ok', 'error', 'ok']);
  });

  it('ends a run whose data is larger than the limit as an error, not a crash', async () => {
    const small = await bootKernel({ config: { limits: { maxDataBytes: 2048 } } });
    try {
      small.kernel.registerTask({ key: 'huge', run: () => 'x'.repeat(10_000) });
      const result = await small.kernel.service.run('huge');
      expect(result.status).to.equal('error');
      expect(result.error).to.match(/^result too large/);
    } finally {
      await small.cleanup();
    }
  });

  it('cuts an overlong log line with a marker', async () => {
    register({ key: 'long-line', run: ({ log }: { log: (m: string) => void }) => log('y'.repeat(20_000)) });
    const result = await t.kernel.service.run('long-line');
    expect(result.logs[0]).to.have.length.below(16_500);
    expect(result.logs[0]).to.match(/\[3616 characters truncated\]$/);
  });

  it('keeps the first and last lines of a run over the line cap, in memory and in the store, with a marker', async function () {
    this.timeout(20_000);
    const capped = await bootKernel({ config: { limits: { maxLogLines: 1000 } } });
    try {
      capped.kernel.registerTask({ key: 'chatty', run: ({ log }) => { for (let i = 1; i <= 5000; i++) log(`line ${i}`); } });
      const result = await capped.kernel.service.run('chatty');
      // 5000 lines and the completion line: 500 first, a marker, 500 last.
      expect(result.logs).to.have.length(1001);
      expect(result.logs[499]).to.equal('line 500');
      expect(result.logs[500]).to.equal('… 4001 lines dropped (the log keeps its first and last lines) …');
      expect(result.logs[501]).to.equal('line 4502');
      expect(result.logs.at(-1)).to.match(/^task \[Chatty\] completed/);
      const stored = await capped.kernel.service.getLogs(result.id);
      expect(stored).to.have.length(1000);
      expect(stored[499]!.seq).to.equal(500);
      expect(stored[500]!.seq).to.equal(4502);
      const run = await capped.kernel.service.getStoredRun(result.id);
      expect(run).to.include({ logCount: 5001, logsDropped: 4001 });
    } finally {
      await capped.cleanup();
    }
  });
});

async function expectStatus(promise: Promise<unknown>, status: number, message?: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect((error as { status?: number }).status).to.equal(status);
    if (message) expect((error as Error).message).to.match(message);
    return;
  }
  expect.fail(`expected a ${status} error`);
}

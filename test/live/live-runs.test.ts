import { expect } from 'chai';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { openSocket } from '../helpers/ws-client.js';

describe('live runs over WebSocket', () => {
  let t: TestKernel;
  let ws: string;
  let calls = 0;
  before(async () => {
    t = await bootKernel({ listen: true });
    ws = t.kernel.url.replace(/^http/, 'ws');
    t.kernel.registerTask({
      key: 'lines',
      fields: [{ key: 'n', type: 'int', default: 10 }, { key: 'delay', type: 'int', default: 0 }],
      run: async ({ args, log, result, signal }) => {
        calls += 1;
        const n = Number(args.n);
        for (let i = 1; i <= n; i++) {
          log(`line ${i}`);
          if (i % 1000 === 0 || Number(args.delay) > 0) {
            result.progress(i, n);
            await new Promise((resolve) => setTimeout(resolve, Number(args.delay)));
          }
          if (signal.aborted) return;
        }
        return { n };
      },
    });
    t.kernel.registerTask({ key: 'colour', run: ({ log }) => log('\u001b[31mred <b>\u001b[0m plain') });
  });
  after(() => t.cleanup());

  it('streams 10,000 lines in order with no gap, then complete, then close-connection and a 1000 close', async function () {
    this.timeout(30_000);
    const s = await openSocket(`${ws}/admin/task/lines/start?n=10000&category=bulk`);
    const code = await s.closed;
    expect(code).to.equal(1000);
    const cmds = s.messages.map((m) => m.cmd);
    expect(cmds[0]).to.equal('started');
    expect(cmds.slice(-2)).to.deep.equal(['complete', 'close-connection']);
    const outputs = s.messages.filter((m) => m.cmd === 'output');
    // 10,000 task lines and the completion line.
    expect(outputs).to.have.length(10_001);
    outputs.forEach((m, i) => expect(m.param.seq).to.equal(i + 1));
    expect(outputs.slice(0, 10_000).every((m, i) => m.param.msg === `line ${i + 1}`)).to.equal(true);
    const complete = s.messages.find((m) => m.cmd === 'complete')!;
    expect(complete.param.result).to.include({ status: 'ok', run: 'bulk' });
    expect(complete.param.result.data).to.deep.equal({ n: 10_000 });
    const id = s.messages[0]!.param.id as string;
    expect(complete.channel).to.equal(id);
    expect(await t.kernel.service.getLogs(id)).to.have.length(10_001);
  });

  it('ends a long run with complete and close-connection even when the Result is megabytes', async function () {
    this.timeout(60_000);
    const s = await openSocket(`${ws}/admin/task/lines/start?n=120000`);
    expect(await s.closed).to.equal(1000);
    expect(s.messages.slice(-2).map((m) => m.cmd)).to.deep.equal(['complete', 'close-connection']);
    const outputs = s.messages.filter((m) => m.cmd === 'output');
    expect(outputs).to.have.length(120_001);
    expect(outputs.every((m, i) => m.param.seq === i + 1)).to.equal(true);
  });

  it('sends escaped HTML with colour spans, and the raw text in msg', async () => {
    const s = await openSocket(`${ws}/admin/task/colour/start`);
    await s.closed;
    const line = s.messages.find((m) => m.cmd === 'output')!;
    expect(line.param.msg).to.equal('\u001b[31mred <b>\u001b[0m plain');
    expect(line.param.html).to.contain("&lt;b&gt;").and.to.contain('<span class="ansi-red-fg">red');
    expect(line.param.html).not.to.contain('<b>');
  });

  it('re-attaches after a dropped connection with the rest of the lines, without re-running the task', async function () {
    this.timeout(20_000);
    const before = calls;
    const first = await openSocket(`${ws}/admin/task/lines/start?n=40&delay=10`);
    await first.waitFor('output');
    // Wait for a few lines, then drop the connection abruptly.
    while (first.messages.filter((m) => m.cmd === 'output').length < 5) await new Promise((r) => setTimeout(r, 10));
    first.ws.terminate();
    const id = first.messages[0]!.param.id as string;
    const lastSeq = Math.max(...first.messages.filter((m) => m.cmd === 'output').map((m) => m.param.seq as number));
    const second = await openSocket(`${ws}/admin/run/${id}/watch?after=${lastSeq}`);
    await second.closed;
    const seqs = second.messages.filter((m) => m.cmd === 'output').map((m) => m.param.seq as number);
    expect(seqs[0]).to.equal(lastSeq + 1);
    expect(seqs).to.deep.equal(Array.from({ length: 41 - lastSeq }, (_, i) => lastSeq + 1 + i));
    expect(second.messages.at(-2)!.cmd).to.equal('complete');
    expect(calls - before).to.equal(1);
  });

  it('lets a watcher attach mid-run and receive every line once, from the database then live', async function () {
    this.timeout(20_000);
    const runner = await openSocket(`${ws}/admin/task/lines/start?n=30&delay=15`);
    while (runner.messages.filter((m) => m.cmd === 'output').length < 10) await new Promise((r) => setTimeout(r, 5));
    const id = runner.messages[0]!.param.id as string;
    const watcher = await openSocket(`${ws}/admin/run/${id}/watch`);
    await Promise.all([watcher.closed, runner.closed]);
    const seqs = watcher.messages.filter((m) => m.cmd === 'output').map((m) => m.param.seq as number);
    expect(seqs).to.deep.equal(Array.from({ length: 31 }, (_, i) => i + 1));
    expect(watcher.messages.filter((m) => m.cmd === 'progress').length).to.be.greaterThan(0);
  });

  it('replays a finished run from history', async () => {
    const result = await t.kernel.service.run('lines', { n: 3 });
    const s = await openSocket(`${ws}/admin/run/${result.id}/watch`);
    await s.closed;
    expect(s.messages.map((m) => m.cmd)).to.deep.equal(['output', 'output', 'output', 'output', 'complete', 'close-connection']);
    expect(s.messages[4]!.param.result.id).to.equal(result.id);
  });

  it('cancels a run when the client sends {cmd: "cancel"}', async () => {
    const s = await openSocket(`${ws}/admin/task/lines/start?n=100000&delay=5`);
    await s.waitFor('output');
    s.ws.send(JSON.stringify({ cmd: 'cancel' }));
    const complete = await s.waitFor('complete');
    expect(complete.param.result.status).to.equal('cancelled');
    expect((await t.kernel.service.getStoredRun(complete.param.result.id)).status).to.equal('cancelled');
  });

  it('does not cancel a run when its client disconnects', async () => {
    const s = await openSocket(`${ws}/admin/task/lines/start?n=20&delay=5`);
    await s.waitFor('started');
    const id = s.messages[0]!.param.id as string;
    s.ws.close();
    const live = t.kernel.service.activeRun(id);
    const result = live ? await live.done : await t.kernel.service.getStoredRun(id);
    expect(result.status).to.equal('ok');
  });

  for (const [name, origin] of [['a foreign Origin', 'https://evil.example'], ['no Origin', null]] as const) {
    it(`refuses an upgrade with ${name} before 101, and runs nothing`, async () => {
      const before = calls;
      try {
        await openSocket(`${ws}/admin/task/lines/start?n=1`, { origin });
        expect.fail('the upgrade should be refused');
      } catch (error) {
        expect((error as { status?: number }).status).to.equal(403);
      }
      expect(calls).to.equal(before);
    });
  }

  it('answers 404 for an unknown task and 400 naming the field for a bad argument, before 101', async () => {
    for (const [path, status, text] of [
      ['/admin/task/nope/start', 404, 'no task found with key \\"nope\\"'],
      ['/admin/task/lines/start?n=abc', 400, 'field \\"n\\"'],
      ['/admin/run/00000000-0000-4000-8000-000000000000/watch', 404, 'no run found'],
    ] as const) {
      try {
        await openSocket(`${ws}${path}`);
        expect.fail(`${path} should be refused`);
      } catch (error) {
        expect((error as { status?: number }).status, path).to.equal(status);
        expect((error as { body?: string }).body, path).to.contain(text);
      }
    }
  });

  it('closes a connection that sends a binary frame (1003) or an oversized one (1009), and the run goes on', async () => {
    const binary = await openSocket(`${ws}/admin/task/lines/start?n=5&delay=20`);
    binary.ws.send(Buffer.from([1, 2, 3]));
    expect(await binary.closed).to.equal(1003);
    const big = await openSocket(`${ws}/admin/task/lines/start?n=5&delay=20`);
    big.ws.send('x'.repeat(100_000));
    expect(await big.closed).to.equal(1009);
    for (const s of [binary, big]) {
      const id = s.messages[0]!.param.id as string;
      const live = t.kernel.service.activeRun(id);
      expect((live ? await live.done : await t.kernel.service.getStoredRun(id)).status).to.equal('ok');
    }
  });
});

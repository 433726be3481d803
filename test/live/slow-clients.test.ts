import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import pino from 'pino';
import { LiveHub } from '../../core/live/live-hub.js';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { openSocket, type RecordedSocket } from '../helpers/ws-client.js';

/** The client's TCP socket: pausing it stops reading, as a stalled browser or a slow link would. */
const tcp = (s: RecordedSocket) => (s.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;

const outputSeqs = (s: RecordedSocket) => s.messages.filter((m) => m.cmd === 'output').map((m) => m.param.seq as number);

async function finished(t: TestKernel, id: string) {
  const live = t.kernel.service.activeRun(id);
  return live ? live.done : t.kernel.service.getStoredRun(id);
}

describe('live runs: clients that read slowly or not at all', () => {
  let t: TestKernel;
  let ws: string;
  let calls = 0;
  before(async () => {
    t = await bootKernel({ listen: true, config: { limits: { maxLogLines: 4000 } } });
    ws = t.kernel.url.replace(/^http/, 'ws');
    t.kernel.registerTask({
      key: 'flood',
      fields: [{ key: 'n', type: 'int', default: 1000 }, { key: 'width', type: 'int', default: 1000 }, { key: 'delay', type: 'int', default: 0 }],
      run: async ({ args, log }) => {
        calls += 1;
        const pad = 'x'.repeat(Number(args.width));
        for (let i = 1; i <= Number(args.n); i++) {
          log(`line ${i} ${pad}`);
          if (i % 500 === 0 || Number(args.delay) > 0) await new Promise((resolve) => setTimeout(resolve, Number(args.delay)));
        }
      },
    });
  });
  after(() => t.cleanup());

  it('gives a client that stopped reading during the run, once it reads again, every line in order and once, then complete', async function () {
    this.timeout(60_000);
    // 3,000 lines of 3 KB: 9 MB, far more than the socket buffers hold.
    const s = await openSocket(`${ws}/admin/task/flood/start?n=3000&width=3000`);
    tcp(s).pause();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const id = t.kernel.service.activeRuns().find((r) => r.task.key === 'flood')!.id;
    expect((await finished(t, id)).status).to.equal('ok');
    tcp(s).resume();
    expect(await s.closed).to.equal(1000);
    expect(outputSeqs(s)).to.deep.equal(Array.from({ length: 3001 }, (_, i) => i + 1));
    expect(s.messages.slice(-2).map((m) => m.cmd)).to.deep.equal(['complete', 'close-connection']);
  });

  it('gives a client that fell behind a capped log every line the store kept, in order and once, then complete with the marker', async function () {
    this.timeout(60_000);
    const s = await openSocket(`${ws}/admin/task/flood/start?n=20000&width=1000`);
    tcp(s).pause();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const id = t.kernel.service.activeRuns().find((r) => r.task.key === 'flood')!.id;
    await finished(t, id);
    tcp(s).resume();
    expect(await s.closed).to.equal(1000);
    const seqs = outputSeqs(s);
    expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!), 'rising seq, no line twice').to.equal(true);
    const stored = (await t.kernel.service.getLogs(id)).map((l) => l.seq);
    expect(stored).to.have.length(4000);
    const got = new Set(seqs);
    expect(stored.filter((seq) => !got.has(seq)), 'stored lines the client did not get').to.deep.equal([]);
    expect(seqs.at(-1)).to.equal(20_001);
    const complete = s.messages.at(-2)!;
    expect(complete.cmd).to.equal('complete');
    expect(complete.param.result.logs).to.include('… 16001 lines dropped (the log keeps its first and last lines) …');
  });

  it('streams every line to a reading client while another client of the same run has stopped reading', async function () {
    this.timeout(60_000);
    const runner = await openSocket(`${ws}/admin/task/flood/start?n=4000&width=2000&delay=0`);
    const id = (await runner.waitFor('started')).param.id as string;
    const stalled = await openSocket(`${ws}/admin/run/${id}/watch`);
    tcp(stalled).pause();
    expect(await runner.closed).to.equal(1000);
    expect(outputSeqs(runner)).to.have.length(4001);
    tcp(stalled).resume();
    expect(await stalled.closed).to.equal(1000);
    const seqs = outputSeqs(stalled);
    expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!)).to.equal(true);
    expect(seqs.at(-1)).to.equal(4001);
  });

  describe('the heartbeat', () => {
    let server: http.Server;
    let hubUrl: string;
    let hub: LiveHub;
    before(async () => {
      hub = new LiveHub({ service: t.kernel.service, base: '', loopbackOnly: true, logger: pino({ level: 'silent' }), renderResultHtml: () => '', heartbeatMs: 100 });
      server = http.createServer((_req, res) => res.writeHead(404).end());
      server.on('upgrade', (req, socket, head) => void (hub.handleUpgrade(req, socket, head) || socket.destroy()));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      hubUrl = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      await hub.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('terminates a client that stops reading (it cannot answer a ping); the run goes on, a reading client stays', async function () {
      this.timeout(30_000);
      const reading = await openSocket(`${hubUrl}/admin/task/flood/start?n=60&width=10&delay=20`);
      const id = (await reading.waitFor('started')).param.id as string;
      const stalled = await openSocket(`${hubUrl}/admin/run/${id}/watch`);
      tcp(stalled).pause();
      await new Promise((resolve) => setTimeout(resolve, 500));
      tcp(stalled).resume();
      expect(await stalled.closed, 'terminated').to.equal(1006);
      expect(stalled.messages.some((m) => m.cmd === 'complete')).to.equal(false);
      expect(await reading.closed).to.equal(1000);
      expect(outputSeqs(reading)).to.have.length(61);
      expect((await finished(t, id)).status).to.equal('ok');
    });
  });

  it('answers 503 with Retry-After before 101 while the kernel shuts down, and starts nothing', async () => {
    const k = await bootKernel({ listen: true });
    let ran = 0;
    k.kernel.registerTask({ key: 'count', run: () => void (ran += 1) });
    try {
      await k.kernel.service.stop();
      const error = await openSocket(`${k.kernel.url.replace(/^http/, 'ws')}/admin/task/count/start`).then(
        () => expect.fail('the upgrade should be refused'),
        (e: { status?: number; body?: string }) => e,
      );
      expect(error.status).to.equal(503);
      expect(error.body).to.contain('shutting down');
      expect(ran).to.equal(0);
    } finally {
      await k.cleanup();
    }
  });

  it('answers 400 to a /start handshake ws would refuse (no Sec-WebSocket-Key), and starts nothing', async () => {
    const before = calls;
    const { port } = new URL(t.kernel.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () =>
        socket.write(`GET /admin/task/flood/start?n=1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: ${t.kernel.url}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n`),
      );
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).to.match(/^HTTP\/1\.1 400 /);
    expect(answer).to.contain('Sec-WebSocket-Key');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls).to.equal(before);
  });
});

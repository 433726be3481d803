/**
 * Load: a task writes TASKDECK_LOAD_LINES lines (default 200,000; 1,000,000 for the full size) while
 * TASKDECK_LOAD_WATCHERS WebSocket clients (default 50) watch it and one more client reads slowly (a few
 * milliseconds of reading every quarter second). The server is a child process
 * (test/hardening/helpers/load-server.ts), so its memory and event loop are its own: its RSS is sampled
 * from /proc/<pid>/status by this process and by the server itself.
 *
 * Asserted: RSS growth under 150 MB; the store keeps exactly the lines the cap (limits.maxLogLines,
 * 100,000: the first and last halves) says, each with the text that was logged, and the Result's log
 * carries the marker; every client, the slow one too, receives every line the store kept, in order, no
 * line twice and each as logged, then `complete` and a clean close. A client that falls behind gets no
 * more lines until its queue drains, then catches up from the run's recent frames or from the store, so
 * of the capped middle it may miss lines (core/live/run-stream.ts). Reported, not asserted (the bench
 * covers speed): the event-loop delay p50/p99/max in the server while the run runs and until the last
 * client has closed, the time, the RSS numbers and what they are made of, the lines each client got.
 * TASKDECK_LOAD_PROFILE=<folder> writes the server's CPU profile there.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import WebSocket from 'ws';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

const LINES = Number(process.env.TASKDECK_LOAD_LINES ?? 200_000);
const WATCHERS = Number(process.env.TASKDECK_LOAD_WATCHERS ?? 50);
const MAX_LOG_LINES = 100_000;
const RSS_GROWTH_LIMIT = 150 * 1024 * 1024;
const SEQ = /"seq":(\d+)/;
const SERVER = path.join(import.meta.dirname, 'helpers', 'load-server.ts');

/** The text of line `seq`, as the server's flood task logs it. */
const lineText = (seq: number): string => `line ${seq} ${'.'.repeat(seq % 40)}`;

interface Reply {
  reply: string;
  error?: string;
  [key: string]: any;
}

/** The server child and its IPC, one request at a time. */
class LoadServer {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<string, (reply: Reply) => void>();
  readonly stderr: string[] = [];
  readonly ready: Promise<Reply>;

  constructor(dir: string) {
    // TASKDECK_LOAD_PROFILE=<folder>: the server writes a CPU profile there when it exits.
    const profile = process.env.TASKDECK_LOAD_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.TASKDECK_LOAD_PROFILE}`] : [];
    this.#child = fork(SERVER, [dir], { execArgv: ['--import', 'tsx', ...profile], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.#child.stderr!.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    this.ready = this.#next('ready');
    this.#child.on('message', (message: Reply) => {
      const resolve = this.#waiting.get(message.reply);
      this.#waiting.delete(message.reply);
      resolve?.(message);
    });
    this.#child.on('exit', (code) => {
      for (const [cmd, resolve] of this.#waiting) resolve({ reply: cmd, error: `the server exited with ${String(code)}: ${this.stderr.join('').slice(-2000)}` });
      this.#waiting.clear();
    });
  }

  get pid(): number {
    return this.#child.pid!;
  }

  #next(cmd: string): Promise<Reply> {
    return new Promise((resolve) => this.#waiting.set(cmd, resolve));
  }

  async ask(cmd: string, params: Record<string, unknown> = {}): Promise<Reply> {
    const reply = this.#next(cmd);
    this.#child.send({ cmd, ...params });
    const answer = await reply;
    if (answer.error) throw new Error(`${cmd}: ${answer.error}`);
    return answer;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || !this.#child.connected) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    await this.ask('stop').catch(() => undefined);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** VmRSS of a process, in bytes, from /proc (null where there is no /proc). */
function rssOf(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * A client that checks each output as it arrives (cheaply: no JSON.parse per line): its seq must rise,
 * its text must be what was logged. Which lines it got is kept in a bitmap, to compare with the store.
 */
class Watcher {
  readonly ws: WebSocket;
  readonly got = new Uint8Array(LINES + 2);
  last = 0;
  outOfOrder = 0;
  wrongText = 0;
  outputs = 0;
  completes = 0;
  outputAfterComplete = 0;
  closedWith: number | null = null;
  readonly closed: Promise<number>;
  readonly opened: Promise<void>;

  constructor(url: string, origin: string) {
    this.ws = new WebSocket(url, { origin, perMessageDeflate: false, skipUTF8Validation: true, maxPayload: 512 * 1024 * 1024 });
    this.ws.on('error', () => undefined);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    this.closed = new Promise((resolve) => this.ws.once('close', (code) => resolve((this.closedWith = code))));
    this.ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text.includes('"cmd":"output"')) {
        this.outputs += 1;
        if (this.completes > 0) this.outputAfterComplete += 1;
        const seq = Number(SEQ.exec(text)?.[1]);
        if (!(seq > this.last)) this.outOfOrder += 1;
        else this.last = seq;
        if (seq >= 1 && seq < this.got.length) this.got[seq] = 1;
        const expected = seq <= LINES ? `"seq":${seq},"msg":${JSON.stringify(lineText(seq))}` : `"seq":${seq},"msg":"task [Flood] completed in [`;
        if (!text.includes(expected)) this.wrongText += 1;
      } else if (text.includes('"cmd":"complete"')) {
        this.completes += 1;
      }
    });
  }

  /** Stored lines (as ranges of seq) this client did not get. */
  missing(ranges: readonly [number, number][]): number {
    let missing = 0;
    for (const [from, to] of ranges) for (let seq = from; seq <= to; seq++) missing += this.got[seq] ? 0 : 1;
    return missing;
  }
}

/** Reads for a few milliseconds every quarter second: a client on a slow link. */
function readSlowly(ws: WebSocket): () => void {
  const socket = (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  socket.pause();
  let burst: NodeJS.Timeout | undefined;
  const timer = setInterval(() => {
    socket.resume();
    burst = setTimeout(() => socket.pause(), 5);
  }, 250);
  return () => {
    clearInterval(timer);
    clearTimeout(burst);
    socket.resume();
  };
}

interface Measured {
  seconds: number;
  done: Reply;
  load: Reply;
  check: Reply;
  outsideBaseline: number;
  outsidePeak: number;
  slow: Watcher;
  watchers: Watcher[];
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const delays = (d: { p50: number; p99: number; max: number; mean: number }) => `p50 ${d.p50.toFixed(1)} ms, p99 ${d.p99.toFixed(1)} ms, max ${d.max.toFixed(1)} ms, mean ${d.mean.toFixed(1)} ms`;

describe(`load: ${LINES.toLocaleString('en')} lines logged while ${WATCHERS} WebSocket clients watch and one reads slowly`, function () {
  this.timeout(Math.max(600_000, LINES * 3));
  let dir: string;
  let server: LoadServer;
  let url: string;
  let id: string;
  let m: Measured | undefined;
  const total = LINES + 1; // and the completion line

  before(async function () {
    this.timeout(60_000);
    dir = makeTempDir();
    server = new LoadServer(dir);
    const ready = await server.ready;
    if (ready.error) throw new Error(ready.error);
    url = ready.url as string;
  });
  after(async () => {
    await server?.stop();
    removeDir(dir);
  });

  const measured = (): Measured => {
    if (!m) throw new Error('the load did not run (see the first test)');
    return m;
  };

  it('runs the load to the end: the run is ok, every watcher closes', async () => {
    id = ((await server.ask('start', { n: LINES })) as Reply & { id: string }).id;
    const origin = new URL(url).origin;
    const wsUrl = `${url.replace(/^http/, 'ws')}/admin/run/${id}/watch`;
    // Everyone attaches before the first line, so "every line" is well defined even past the cap.
    const watchers = Array.from({ length: WATCHERS }, () => new Watcher(wsUrl, origin));
    const slow = new Watcher(wsUrl, origin);
    await Promise.all([...watchers, slow].map((w) => w.opened));
    const fast = readSlowly(slow.ws);

    await server.ask('baseline');
    let outsidePeak = rssOf(server.pid) ?? 0;
    const outsideBaseline = outsidePeak;
    // Sampled from outside: the server's own sampler cannot run while its event loop is busy.
    const sampler = setInterval(() => (outsidePeak = Math.max(outsidePeak, rssOf(server.pid) ?? 0)), 25);
    const started = performance.now();
    await server.ask('go');
    const done = await server.ask('wait', { id });
    await Promise.all(watchers.map((w) => w.closed));
    fast();
    await slow.closed;
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const load = await server.ask('measured');
    const check = await server.ask('check', { id, n: LINES });
    m = { seconds, done, load, check, outsideBaseline, outsidePeak, slow, watchers };

    const counts = watchers.map((w) => w.outputs).sort((a, b) => a - b);
    console.log(
      `      ${LINES.toLocaleString('en')} lines to ${WATCHERS} watchers in ${seconds.toFixed(1)} s (${Math.round(LINES / seconds).toLocaleString('en')} lines/s, ` +
        `${Math.round((LINES * WATCHERS) / seconds).toLocaleString('en')} messages/s)\n` +
        `      server RSS from /proc: ${mb(outsideBaseline)} -> peak ${mb(outsidePeak)} (growth ${mb(outsidePeak - outsideBaseline)}); ` +
        `its own sampler: ${mb(load.rssBaseline)} -> ${mb(load.rssPeak)}; at the end ${mb(load.rssNow)}\n` +
        `      at the server's own peak: ${(['heapTotal', 'heapUsed', 'external', 'arrayBuffers'] as const).map((k) => `${k} ${mb(load.memory.baseline[k])} -> ${mb(load.memory.peak[k])}`).join(', ')}; ` +
        `at most ${Number(load.uncommittedPeak).toLocaleString('en')} lines logged and not yet committed; ` +
        `the peak ${(load.peakAt / 1000).toFixed(1)} s after the start, the run done after ${(load.doneAt / 1000).toFixed(1)} s\n` +
        `      server event-loop delay while the run ran: ${delays(load.eldRun)}; until the last client closed: ${delays(load.eldAll)}\n` +
        `      lines received per watcher: min ${counts[0]!.toLocaleString('en')}, median ${counts[counts.length >> 1]!.toLocaleString('en')}, max ${counts.at(-1)!.toLocaleString('en')} ` +
        `(${counts.filter((c) => c === total).length} got all ${total.toLocaleString('en')}); the slow client: ${slow.outputs.toLocaleString('en')}`,
    );
    expect(done.status).to.equal('ok');
  });

  it(`stores exactly the lines the cap keeps (the first and last ${(MAX_LOG_LINES / 2).toLocaleString('en')}), each as logged, with log_count, logs_dropped and the marker in the Result`, async () => {
    const { check, done } = measured();
    const half = MAX_LOG_LINES / 2;
    const expectedRanges = total > MAX_LOG_LINES ? [[1, half], [total - half + 1, total]] : [[1, total]];
    expect(check.ranges, 'stored sequence numbers').to.deep.equal(expectedRanges);
    expect(check.count).to.equal(Math.min(total, MAX_LOG_LINES));
    expect(check.wrongText, 'stored lines whose text differs from what was logged').to.equal(0);
    expect(check.logCount).to.equal(total);
    expect(check.logsDropped).to.equal(Math.max(0, total - MAX_LOG_LINES));
    if (total > MAX_LOG_LINES) {
      expect(done.marker).to.equal(`… ${total - MAX_LOG_LINES} lines dropped (the log keeps its first and last lines) …`);
      expect(done.logsInResult).to.equal(MAX_LOG_LINES + 1);
      const result = (await (await fetch(`${url}/admin/run/${id}?format=json`)).json()) as { logs: string[] };
      expect(result.logs).to.have.length(MAX_LOG_LINES + 1);
      expect(result.logs[half], 'the marker in the Result served over HTTP').to.equal(done.marker);
    }
  });

  it('gives the client that reads slowly every line the store kept, in order, each once and as logged, then complete and a clean close', () => {
    const { slow, check } = measured();
    expect(
      { missing: slow.missing(check.ranges), outOfOrder: slow.outOfOrder, wrongText: slow.wrongText, completes: slow.completes, afterComplete: slow.outputAfterComplete, code: slow.closedWith },
    ).to.deep.equal({ missing: 0, outOfOrder: 0, wrongText: 0, completes: 1, afterComplete: 0, code: 1000 });
  });

  it(`gives each of the ${WATCHERS} other clients every line the store kept, in order, each once and as logged, then complete and a clean close`, () => {
    const { watchers, check } = measured();
    for (const [i, w] of watchers.entries()) {
      expect(
        { missing: w.missing(check.ranges), outOfOrder: w.outOfOrder, wrongText: w.wrongText, completes: w.completes, afterComplete: w.outputAfterComplete, code: w.closedWith },
        `watcher ${i}`,
      ).to.deep.equal({ missing: 0, outOfOrder: 0, wrongText: 0, completes: 1, afterComplete: 0, code: 1000 });
    }
  });

  it("keeps the server's RSS growth under 150 MB", () => {
    const { outsideBaseline, outsidePeak, load } = measured();
    expect(load.rssPeak - load.rssBaseline, 'growth seen by the server').to.be.below(RSS_GROWTH_LIMIT);
    if (outsideBaseline > 0) expect(outsidePeak - outsideBaseline, 'growth seen in /proc').to.be.below(RSS_GROWTH_LIMIT);
  });
});

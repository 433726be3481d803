/**
 * Child process for the load test: a real taskdeck (HTTP and WebSocket on loopback, SQLite in the folder
 * given as argv[2]) with a `flood` task that logs `n` lines once the parent says "go". The parent drives
 * it over IPC and reads back what only the process itself can see: its event-loop delay, its memory,
 * what it logged, and what the store kept.
 *
 * IPC, parent -> child: {cmd: 'start', n} | {cmd: 'baseline'} | {cmd: 'go'} | {cmd: 'wait', id} |
 * {cmd: 'measured'} | {cmd: 'check', id, n} | {cmd: 'stop'}; every request is answered with {reply: cmd, ...}.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pino from 'pino';
import { configWith } from '../../../core/config.js';
import { Kernel } from '../../../core/kernel.js';
import type { LiveRun } from '../../../core/tasks/live-run.js';

const [dir] = process.argv.slice(2);
if (!dir || !process.send) throw new Error('usage: fork(load-server.ts, [dir]) with an IPC channel');
const send = (message: Record<string, unknown>): void => void process.send!(message);

/** The text of line `seq` (the load test checks it byte for byte; the parent has the same function). */
const lineText = (seq: number): string => `line ${seq} ${'.'.repeat(seq % 40)}`;

const kernel = new Kernel(
  configWith({ port: 0, host: '127.0.0.1', db: `${dir}/taskdeck.db`, plugins: `${dir}/plugins`, watchPlugins: false, logLevel: 'warn', retention: { intervalMinutes: 0 } }),
  { logger: pino({ level: 'warn' }, pino.destination(2)) },
);
await kernel.start();

let open: () => void = () => undefined;
let gate = Promise.resolve();
kernel.registerTask({
  key: 'flood',
  fields: [{ key: 'n', type: 'int', default: 1000 }],
  async run({ args, log }) {
    await gate;
    const n = Number(args.n);
    for (let i = 1; i <= n; i++) {
      log(lineText(i));
      // A task producing output in bursts: 1000 lines a turn of the event loop.
      if (i % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    return { n };
  },
});

/** Event-loop delay while the run runs, and until every client has closed (serving those behind). */
const eldRun = monitorEventLoopDelay({ resolution: 10 });
const eldAll = monitorEventLoopDelay({ resolution: 10 });
const delays = (h: ReturnType<typeof monitorEventLoopDelay>) => ({ p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6, mean: h.mean / 1e6 });
let rssBaseline = 0;
let rssPeak = 0;
/** process.memoryUsage() when the RSS peaked, and at the baseline: what the growth is made of. */
let atBaseline: NodeJS.MemoryUsage | null = null;
let atPeak: NodeJS.MemoryUsage | null = null;
/** The most lines the task had logged that were not yet committed (held in memory by the run). */
let uncommittedPeak = 0;
/** When the RSS peaked and when the run was done, in ms after the baseline. */
let baselineAt = 0;
let peakAt = 0;
let doneAt = 0;
let watched: { live: LiveRun; committed: number } | null = null;
const sample = (): void => {
  if (watched) uncommittedPeak = Math.max(uncommittedPeak, watched.live.lastSeq - watched.committed);
  const usage = process.memoryUsage();
  if (usage.rss > rssPeak) {
    rssPeak = usage.rss;
    atPeak = usage;
    peakAt = performance.now() - baselineAt;
  }
};
let sampler: NodeJS.Timeout | null = null;
const runs = new Map<string, LiveRun>();

process.on('message', (message: { cmd: string; n?: number; id?: string }) => {
  void handle(message).catch((error: unknown) => send({ reply: message.cmd, error: String((error as Error)?.stack ?? error) }));
});

async function handle(message: { cmd: string; n?: number; id?: string }): Promise<void> {
  switch (message.cmd) {
    case 'start': {
      gate = new Promise<void>((resolve) => (open = resolve));
      const task = kernel.registry.require('flood');
      const live = await kernel.service.start(task, kernel.service.prepareArgs(task, { typed: { n: message.n } }), { label: 'load' });
      runs.set(live.id, live);
      const state = { live, committed: 0 };
      watched = state;
      live.subscribe((event) => {
        if (event.type === 'log') state.committed = event.line.seq;
      });
      return send({ reply: 'start', id: live.id });
    }
    case 'baseline':
      atBaseline = process.memoryUsage();
      baselineAt = performance.now();
      rssBaseline = atBaseline.rss;
      rssPeak = rssBaseline;
      atPeak = atBaseline;
      sampler = setInterval(sample, 20);
      for (const h of [eldRun, eldAll]) {
        h.reset();
        h.enable();
      }
      return send({ reply: 'baseline', rss: rssBaseline });
    case 'go':
      open();
      return send({ reply: 'go' });
    case 'wait': {
      const result = await runs.get(message.id!)!.done;
      doneAt = performance.now() - baselineAt;
      eldRun.disable();
      return send({
        reply: 'wait',
        status: result.status,
        logsInResult: result.logs.length,
        marker: result.logs.find((l) => l.startsWith('… ')) ?? null,
      });
    }
    case 'measured':
      // Once every client has closed: the load includes serving the clients that were behind.
      eldAll.disable();
      if (sampler) clearInterval(sampler);
      sample();
      return send({
        reply: 'measured',
        eldRun: delays(eldRun),
        eldAll: delays(eldAll),
        rssBaseline,
        rssPeak,
        memory: { baseline: atBaseline, peak: atPeak },
        uncommittedPeak,
        peakAt,
        doneAt,
        rssNow: process.memoryUsage().rss,
      });
    case 'check': {
      // Every stored line of the run: its sequence ranges, and any whose text is not what was logged.
      const id = message.id!;
      const n = message.n!;
      const ranges: [number, number][] = [];
      let count = 0;
      let wrongText = 0;
      let after = 0;
      for (;;) {
        const page = await kernel.service.getLogs(id, { afterSeq: after, limit: 10_000 });
        for (const line of page) {
          count += 1;
          const last = ranges.at(-1);
          if (last && line.seq === last[1] + 1) last[1] = line.seq;
          else ranges.push([line.seq, line.seq]);
          const expected = line.seq <= n ? lineText(line.seq) : null;
          if (expected === null ? !/^task \[Flood\] completed in \[/.test(line.msg) : line.msg !== expected) wrongText += 1;
          after = line.seq;
        }
        if (page.length < 10_000) break;
      }
      const stored = await kernel.service.getStoredRun(id);
      return send({ reply: 'check', count, ranges, wrongText, logCount: stored.logCount, logsDropped: stored.logsDropped, status: stored.status });
    }
    case 'stop':
      await kernel.stop();
      send({ reply: 'stop' });
      process.disconnect();
      return;
  }
}

send({ reply: 'ready', url: kernel.url, pid: process.pid });

/**
 * P5: log lines per second over WebSocket, live: one client that starts a chatty run through
 * `/admin/task/chatty/start`, and 100 watchers attached to one run through `/admin/run/{id}/watch`.
 * Every client checks that it got every line once, in order (else the scenario fails), and whether the
 * `complete` envelope came (a client cut off before it is reported in the notes). The baseline is a bare
 * `ws` server sending the same frames. The clients run in a child process.
 */
import type { BenchContext } from '../lib/bench-context.js';
import { bootBenchKernel } from '../lib/bench-kernel.js';
import { CHATTY_TASK, registerChatty } from '../lib/chatty-task.js';
import { startRawWsServer } from '../lib/raw-ws-server.js';
import { atLeast, bySize, result, type ScenarioResult } from '../lib/scenario-result.js';
import { openClients, streamFigures } from '../lib/ws-clients.js';

const GATED_TASK = 'chatty-gated';
const WATCHERS = 100;

export default async function p5(ctx: BenchContext): Promise<ScenarioResult[]> {
  const oneClientLines = bySize(ctx.size, { tiny: 5_000, small: 100_000, full: 300_000 });
  const watcherLines = bySize(ctx.size, { tiny: 500, small: 2_000, full: 5_000 });
  let gate: Promise<void> = Promise.resolve();
  const kernel = await bootBenchKernel({ dir: ctx.tempDir('db'), listen: true, config: { limits: { maxLogLines: oneClientLines + 10 } } });
  registerChatty(kernel);
  registerChatty(kernel, () => gate, GATED_TASK);
  const raw = await startRawWsServer();
  const origin = kernel.url;
  const wsBase = kernel.url.replace(/^http/, 'ws');
  ctx.record('lines', { oneClient: oneClientLines, perWatcher: watcherLines, watchers: WATCHERS });

  const taskdeckOne = async () => {
    const clients = openClients({ url: `${wsBase}/admin/task/${CHATTY_TASK}/start?lines=${oneClientLines}`, count: 1, origin });
    return streamFigures(await clients.done, oneClientLines + 1, 'taskdeck, one client');
  };
  const taskdeckWatchers = async () => {
    let release!: () => void;
    gate = new Promise((resolve) => (release = resolve));
    const task = kernel.registry.require(GATED_TASK);
    const live = await kernel.service.start(task, kernel.service.prepareArgs(task, { typed: { lines: String(watcherLines) } }));
    const clients = openClients({ url: `${wsBase}/admin/run/${live.id}/watch`, count: WATCHERS, origin });
    await clients.ready;
    release();
    return streamFigures(await clients.done, watcherLines + 1, `taskdeck, ${WATCHERS} watchers`);
  };
  const rawStream = async (count: number, lines: number) => {
    const clients = openClients({ url: raw.url, count, origin });
    await Promise.all([raw.broadcast(count, lines), clients.ready]);
    return streamFigures(await clients.done, lines + 1, `raw ws, ${count} client(s)`);
  };

  // Clients that got every line but not the `complete` envelope: a finding for the notes.
  const oneClientFindings = new Set<string>();
  const watcherFindings = new Set<string>();
  const noteMissing = <F extends { missingComplete: string[] }>(findings: Set<string>, what: string, figures: F): F => {
    if (figures.missingComplete.length) findings.add(`${what}: ${figures.missingComplete.length} client(s) got every line but no \`complete\` (${[...new Set(figures.missingComplete)].join(', ')})`);
    return figures;
  };
  try {
    const m = await ctx.measure(
      'lines/s',
      async () => {
        const one = noteMissing(oneClientFindings, 'taskdeck', await taskdeckOne());
        const rawOne = noteMissing(oneClientFindings, 'raw ws', await rawStream(1, oneClientLines));
        const many = noteMissing(watcherFindings, 'taskdeck', await taskdeckWatchers());
        const rawMany = noteMissing(watcherFindings, 'raw ws', await rawStream(WATCHERS, watcherLines));
        return {
          taskdeck: one.perClient,
          raw: rawOne.perClient,
          watchersPerClient: many.perClient,
          watchersAggregate: many.aggregate,
          rawWatchersPerClient: rawMany.perClient,
          rawWatchersAggregate: rawMany.aggregate,
        };
      },
      { warmup: 1 },
    );
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    return [
      result({
        id: 'P5',
        scenario: `live log lines to one WebSocket client (${fmt(oneClientLines)} lines, in order)`,
        taskdeck: m.taskdeck,
        baseline: m.raw,
        baselineLabel: 'raw ws sends of the same frames',
        unit: 'lines/s',
        goal: atLeast(100_000, 'lines/s'),
        notes: ['first to last line, as the client receives them', ...oneClientFindings],
      }),
      result({
        id: 'P5-watchers',
        scenario: `live log lines to ${WATCHERS} watchers of one run (${fmt(watcherLines)} lines each)`,
        taskdeck: m.watchersPerClient,
        baseline: m.rawWatchersPerClient,
        baselineLabel: `raw ws to ${WATCHERS} clients`,
        unit: 'lines/s each',
        notes: [
          `no goal set; all watchers together: ${fmt(m.watchersAggregate)} lines/s (raw: ${fmt(m.rawWatchersAggregate)}); the clients share one process`,
          'taskdeck encodes and frames each line once and writes a chunk of frames (about 64 KiB) to each socket; the raw baseline calls `ws.send` per frame per socket',
          ...watcherFindings,
        ],
      }),
    ];
  } finally {
    await raw.close();
    await kernel.stop();
  }
}

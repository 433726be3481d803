/**
 * P2: one task writing many log lines (1M at full size), every one persisted, against raw batched
 * inserts of the same lines with a prepared statement; plus the event-loop delay while taskdeck does it.
 * Both sides produce lines in chunks and yield between them, as a real task doing I/O would.
 */
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as yieldTurn, setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { BenchContext } from '../lib/bench-context.js';
import { bootBenchKernel, createMigratedDatabase } from '../lib/bench-kernel.js';
import { CHATTY_TASK, CHUNK, lineText, registerChatty } from '../lib/chatty-task.js';
import { HandWrittenStore } from '../lib/hand-written-store.js';
import { below, bySize, ratioAtLeast, result, type ScenarioResult } from '../lib/scenario-result.js';
import { perSecond } from '../lib/stats.js';

/** Lines per transaction in the hand-written baseline. */
const BATCH = 1000;

interface LoopDelay {
  p99Ms: number;
  maxMs: number;
}

async function withLoopDelay<T>(work: () => Promise<T>): Promise<[T, LoopDelay]> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  try {
    const value = await work();
    // The work may end in a long synchronous step (a final commit) whose promise chain resolves before
    // the event loop turns again: let it turn, or the histogram never sees that stall.
    await sleep(20);
    histogram.disable();
    return [value, { p99Ms: histogram.percentile(99) / 1e6, maxMs: histogram.max / 1e6 }];
  } finally {
    histogram.disable();
  }
}

function rawBatched(store: HandWrittenStore, count: number): Promise<number> {
  const insertRun = store.db.prepare(`INSERT INTO runs (id, task_key, task_title, run_label, args_json, status, started_at, origin) VALUES (?, ?, 'Chatty', 'ad-hoc', '{}', 'running', ?, 'code')`);
  const insertLog = store.db.prepare('INSERT INTO run_logs (run_num, seq, at, stream, msg) VALUES (?, ?, ?, ?, ?)');
  const writeBatch = store.db.transaction((num: number, from: number, to: number, at: number) => {
    for (let seq = from; seq < to; seq++) insertLog.run(num, seq, at, 'log', lineText(seq - 1));
  });
  return (async () => {
    const start = performance.now();
    const num = Number(insertRun.run(randomUUID(), CHATTY_TASK, Date.now()).lastInsertRowid);
    for (let seq = 1; seq <= count; seq += BATCH) {
      writeBatch(num, seq, Math.min(seq + BATCH, count + 1), Date.now());
      await yieldTurn();
    }
    return perSecond(count, performance.now() - start);
  })();
}

export default async function p2(ctx: BenchContext): Promise<ScenarioResult[]> {
  const count = bySize(ctx.size, { tiny: 20_000, small: 200_000, full: 1_000_000 });
  const dir = ctx.tempDir('db');
  // Every line is kept: the log cap (limits.maxLogLines) is raised above the run's size.
  const kernel = await bootBenchKernel({ dir, config: { limits: { maxLogLines: count + 10 } } });
  registerChatty(kernel);
  const rawFile = `${dir}/hand-written.db`;
  await createMigratedDatabase(rawFile);
  const store = new HandWrittenStore(rawFile);
  const reader = new Database(kernel.config.db, { readonly: true });
  const countLines = reader.prepare('SELECT count(*) AS n FROM run_logs WHERE run_num = (SELECT num FROM runs WHERE id = ?)');
  const indexedSeq = reader.prepare('SELECT log_indexed_seq AS seq FROM runs WHERE id = ?');
  ctx.record('linesPerRound', count);
  try {
    const m = await ctx.measure('lines/s', async () => {
      // The window goes on until the run's log is searchable: indexing a long log follows its completion.
      const [[taskdeck, searchableMs], delay] = await withLoopDelay(async () => {
        const start = performance.now();
        const run = await kernel.service.run(CHATTY_TASK, { lines: String(count) });
        const done = performance.now();
        const rate = perSecond(count, done - start);
        if (run.status !== 'ok') throw new Error(`the chatty run ended ${run.status}: ${run.error}`);
        const stored = (countLines.get(run.id) as { n: number }).n;
        if (stored !== count + 1) throw new Error(`expected ${count + 1} stored lines (with the completion line), found ${stored}`);
        await kernel.service.flush();
        const searchable = performance.now();
        const left = (indexedSeq.get(run.id) as { seq: number | null }).seq;
        if (left !== null) throw new Error(`the run's log is indexed up to line ${left} only after a flush`);
        return [rate, searchable - done] as const;
      });
      const [raw, rawDelay] = await withLoopDelay(() => rawBatched(store, count));
      return { taskdeck, raw, searchableMs, p99Ms: delay.p99Ms, maxMs: delay.maxMs, rawP99Ms: rawDelay.p99Ms };
    });
    const scenario = `one task logging ${count.toLocaleString('en-US')} lines, all persisted`;
    return [
      result({
        id: 'P2',
        scenario,
        taskdeck: m.taskdeck,
        baseline: m.raw,
        baselineLabel: `raw inserts, ${BATCH} lines/txn`,
        unit: 'lines/s',
        goal: ratioAtLeast(0.4),
        notes: `the task yields every ${CHUNK} lines; rate up to the run's Result (every line committed); searchable (full-text index) ${Math.round(m.searchableMs)} ms later`,
      }),
      result({
        id: 'P2-delay',
        scenario: `event-loop delay p99 during P2`,
        taskdeck: m.p99Ms,
        baseline: m.rawP99Ms,
        baselineLabel: 'during the raw inserts',
        unit: 'ms',
        goal: below(50, 'ms'),
        notes: `max ${m.maxMs.toFixed(1)} ms (monitorEventLoopDelay, 1 ms resolution), until the run's log is searchable`,
      }),
    ];
  } finally {
    reader.close();
    store.close();
    await kernel.stop();
  }
}

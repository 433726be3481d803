/**
 * P1: `runAll` of a no-op task with full persistence (the run row, two log lines: the task's and the
 * completion line, and the completion), against the same rows written by hand with prepared
 * statements, one transaction per run; a batched hand-written variant and bare awaited calls are
 * measured for context.
 */
import os from 'node:os';
import type { Kernel } from '../../core/kernel.js';
import type { BenchContext } from '../lib/bench-context.js';
import { bootBenchKernel, createMigratedDatabase } from '../lib/bench-kernel.js';
import { HandWrittenStore, type HandWrittenRun } from '../lib/hand-written-store.js';
import { bySize, result, ratioAtLeast, type ScenarioResult } from '../lib/scenario-result.js';
import { perSecond } from '../lib/stats.js';

export const NOOP_TASK = 'noop';
/** The same task with `maxConcurrent: -1` (128 in flight), for context. */
const WIDE_TASK = 'noop-wide';
const BATCH = 1000;

export function runCount(ctx: BenchContext): number {
  return bySize(ctx.size, { tiny: 100, small: 2000, full: 5000 });
}

/** The no-op task as taskdeck runs it: one log line (the kernel adds the completion line). */
export function registerNoop(kernel: Kernel, maxConcurrent = 0, key = NOOP_TASK): void {
  kernel.registerTask({ key, title: 'No-op', maxConcurrent, run: ({ log }) => log('noop') });
}

/** Runs/s of `runAll` over `count` empty argument sets. */
export async function taskdeckRunAll(kernel: Kernel, count: number, key = NOOP_TASK): Promise<number> {
  const argSets = Array.from({ length: count }, () => ({}));
  const start = performance.now();
  const results = await kernel.service.runAll(key, argSets);
  const ms = performance.now() - start;
  const bad = results.find((r) => r.status !== 'ok' || r.logs.length !== 2);
  if (bad) throw new Error(`a no-op run ended ${bad.status} with ${bad.logs.length} log lines: ${bad.error}`);
  return perSecond(count, ms);
}

async function noop(log: (line: string) => void): Promise<void> {
  log('noop');
}

/** Hand-written: call the function, then write its run in transactions of `perCommit` runs. */
function handWritten(store: HandWrittenStore, count: number, perCommit: number): Promise<number> {
  return (async () => {
    const start = performance.now();
    let pending: HandWrittenRun[] = [];
    for (let i = 0; i < count; i++) {
      const startedAt = Date.now();
      const t0 = performance.now();
      const lines: string[] = [];
      await noop((line) => lines.push(line));
      const elapsedUs = Math.round((performance.now() - t0) * 1000);
      lines.push(`task [No-op] completed in [${(elapsedUs / 1000).toFixed(3)}ms]`);
      pending.push({ taskKey: NOOP_TASK, taskTitle: 'No-op', lines, startedAt, finishedAt: Date.now(), elapsedUs });
      if (pending.length >= perCommit) {
        store.writeRuns(pending);
        pending = [];
      }
    }
    if (pending.length) store.writeRuns(pending);
    return perSecond(count, performance.now() - start);
  })();
}

async function bareCalls(count: number): Promise<number> {
  const sink: string[] = [];
  const log = (line: string) => void (sink[0] = line);
  const start = performance.now();
  for (let i = 0; i < count; i++) await noop(log);
  return perSecond(count, performance.now() - start);
}

export default async function p1(ctx: BenchContext): Promise<ScenarioResult[]> {
  const count = runCount(ctx);
  const dir = ctx.tempDir('db');
  const kernel = await bootBenchKernel({ dir });
  registerNoop(kernel);
  registerNoop(kernel, -1, WIDE_TASK);
  const rawFile = `${dir}/hand-written.db`;
  await createMigratedDatabase(rawFile);
  const store = new HandWrittenStore(rawFile);
  ctx.record('runsPerRound', count);
  try {
    const m = await ctx.measure(
      'runs/s',
      async () => ({
        taskdeck: await taskdeckRunAll(kernel, count),
        taskdeckWide: await taskdeckRunAll(kernel, count, WIDE_TASK),
        handWritten: await handWritten(store, count, 1),
        handWrittenBatched: await handWritten(store, count, BATCH),
        bareAwaited: await bareCalls(count * 100),
      }),
      { warmup: 1 },
    );
    return [
      result({
        id: 'P1',
        scenario: `runAll of a no-op task, ${count} runs, fully persisted`,
        taskdeck: m.taskdeck,
        baseline: m.handWritten,
        baselineLabel: 'hand-written, 1 txn/run',
        unit: 'runs/s',
        goal: ratioAtLeast(0.5),
        notes: [
          `default maxConcurrent (${os.availableParallelism()} in flight)`,
          `hand-written batched (${BATCH} runs/txn): ${Math.round(m.handWrittenBatched).toLocaleString('en-US')} runs/s`,
          `bare awaited calls: ${Math.round(m.bareAwaited).toLocaleString('en-US')}/s`,
        ],
      }),
      result({
        id: 'P1-wide',
        scenario: `the same with maxConcurrent: -1 (128 in flight), for context`,
        taskdeck: m.taskdeckWide,
        baseline: m.handWritten,
        baselineLabel: 'hand-written, 1 txn/run',
        unit: 'runs/s',
        notes: 'no goal: shows what group commit gives when many runs are in flight',
      }),
    ];
  } finally {
    store.close();
    await kernel.stop();
  }
}

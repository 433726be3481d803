/**
 * P1-peer: the same no-op jobs through BullMQ on a private local Redis (no persistence, jobs kept),
 * against taskdeck's P1 measured in the same rounds; and, for a like-for-like durability, through a
 * second Redis that fsyncs its AOF on every write. Both process with the same parallelism (the
 * number of CPUs, taskdeck's default), and each no-op job writes the same two log lines.
 */
import os from 'node:os';
import { Queue, Worker } from 'bullmq';
import type { BenchContext } from '../lib/bench-context.js';
import { bootBenchKernel } from '../lib/bench-kernel.js';
import { ensureRedisServer, startRedis } from '../lib/redis-server.js';
import { faster, result, skipped, type ScenarioResult } from '../lib/scenario-result.js';
import { perSecond } from '../lib/stats.js';
import { registerNoop, runCount, taskdeckRunAll } from './P1.js';

const TITLE = 'no-op jobs through BullMQ + local Redis vs taskdeck runAll';

/** Jobs/s: add `count` jobs in bulk, process them with `concurrency`, until the last completes. */
async function bullmqRound(port: number, queueName: string, count: number, concurrency: number): Promise<number> {
  const connection = { host: '127.0.0.1', port };
  const queue = new Queue(queueName, { connection });
  let completed = 0;
  let failed: unknown = null;
  let finish!: () => void;
  const allDone = new Promise<void>((resolve) => (finish = resolve));
  const worker = new Worker(
    queueName,
    async (job) => {
      await job.log('noop');
      await job.log('task [No-op] completed');
    },
    { connection, concurrency, autorun: false },
  );
  worker.on('completed', () => {
    if (++completed === count) finish();
  });
  worker.on('failed', (_job, error) => {
    failed ??= error;
    finish();
  });
  try {
    await worker.waitUntilReady();
    await queue.waitUntilReady();
    const start = performance.now();
    void worker.run();
    await queue.addBulk(Array.from({ length: count }, (_, i) => ({ name: 'noop', data: { i } })));
    await allDone;
    const ms = performance.now() - start;
    if (failed) throw new Error(`a BullMQ job failed: ${String(failed)}`);
    const kept = await queue.getJobCountByTypes('completed');
    if (kept !== count) throw new Error(`BullMQ kept ${kept} completed jobs, expected ${count}`);
    return perSecond(count, ms);
  } finally {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}

export default async function p1Peer(ctx: BenchContext): Promise<ScenarioResult[]> {
  const redisPath = await ensureRedisServer({ install: ctx.install, log: ctx.log });
  if ('reason' in redisPath) return [skipped('P1-peer', TITLE, redisPath.reason)];
  const redis = await startRedis(redisPath.path);
  const durableRedis = await startRedis(redisPath.path, { durableDir: ctx.tempDir('redis-aof') }).catch(async (error: unknown) => {
    await redis.stop();
    throw error;
  });
  const count = runCount(ctx);
  const concurrency = os.availableParallelism();
  const kernel = await bootBenchKernel({ dir: ctx.tempDir('db') });
  registerNoop(kernel);
  ctx.record('runsPerRound', count);
  ctx.record('redisVersion', redis.version);
  try {
    let round = 0;
    const m = await ctx.measure(
      'runs/s',
      async () => ({
        bullmq: await bullmqRound(redis.port, `bench-${process.pid}-${round}`, count, concurrency),
        bullmqDurable: await bullmqRound(durableRedis.port, `bench-${process.pid}-${round++}`, count, concurrency),
        taskdeck: await taskdeckRunAll(kernel, count),
      }),
      { warmup: 1 },
    );
    return [
      result({
        id: 'P1-peer',
        scenario: `${count} no-op jobs: taskdeck runAll vs BullMQ`,
        taskdeck: m.taskdeck,
        baseline: m.bullmq,
        baselineLabel: `BullMQ + Redis ${redis.version}`,
        unit: 'runs/s',
        goal: faster(),
        notes: [
          `both with ${concurrency} in flight; BullMQ jobs kept (2 job.log lines each)`,
          'Redis without persistence (--save "" --appendonly no) vs taskdeck fsync-ing every commit',
        ],
      }),
      result({
        id: 'P1-peer-durable',
        scenario: `the same against BullMQ on a Redis that fsyncs every write`,
        taskdeck: m.taskdeck,
        baseline: m.bullmqDurable,
        baselineLabel: `BullMQ + Redis ${redis.version}, appendfsync always`,
        unit: 'runs/s',
        notes: ['no goal: the like-for-like durability (--appendonly yes --appendfsync always), for context'],
      }),
    ];
  } finally {
    await kernel.stop();
    await redis.stop();
    await durableRedis.stop();
  }
}

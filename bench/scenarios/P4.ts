/**
 * P4: `GET /admin/task/noop/run?format=json` under load (autocannon, 50 connections): every request
 * runs the no-op task and persists it before answering. The baseline is a bare Koa hello route on an
 * HTTP server with the same settings, in this same process. The load generator runs in a child process.
 * Each round also measures the same runs without HTTP (what the route calls, 50 at a time, in process):
 * that rate is the ceiling of the HTTP figure, and the difference is what the HTTP layer costs.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import type { BenchContext } from '../lib/bench-context.js';
import { bootBenchKernel } from '../lib/bench-kernel.js';
import { loadTest } from '../lib/load-test.js';
import { bySize, ratioAtLeast, result, type ScenarioResult } from '../lib/scenario-result.js';
import type { Kernel } from '../../core/kernel.js';
import { NOOP_TASK, registerNoop } from './P1.js';

const CONNECTIONS = 50;
/** How long the in-process run rate (the ceiling) is measured each round. */
const RUN_ONLY_SECONDS = 2;

/** Runs/s of what the route does (prepare the args, start, wait for the persisted result), `concurrency` at a time, no HTTP. */
async function runsWithoutHttp(kernel: Kernel, concurrency: number, seconds: number): Promise<number> {
  const task = kernel.registry.require(NOOP_TASK);
  const until = performance.now() + seconds * 1000;
  let runs = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const args = kernel.service.prepareArgs(task, { raw: Object.create(null) as Record<string, string>, fromForm: false });
        const result = await (await kernel.service.start(task, args, { origin: 'http' })).done;
        if (result.status !== 'ok') throw new Error(`a no-op run ended ${result.status}: ${result.error}`);
        runs++;
      }
    }),
  );
  return runs / ((performance.now() - started) / 1000);
}

/** Koa with one route, on a server with the options taskdeck's HttpServer uses. */
async function koaHello(): Promise<{ url: string; close(): Promise<void> }> {
  const app = new Koa();
  const router = new Router();
  router.get('/hello', (ctx) => {
    ctx.body = { hello: 'world' };
  });
  app.use(router.routes());
  const server = http.createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 120_000, headersTimeout: 30_000 }, app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hello`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export default async function p4(ctx: BenchContext): Promise<ScenarioResult[]> {
  const seconds = bySize(ctx.size, { tiny: 2, small: 5, full: 10 });
  const kernel = await bootBenchKernel({ dir: ctx.tempDir('db'), listen: true });
  registerNoop(kernel);
  const koa = await koaHello();
  const taskUrl = `${kernel.url}/admin/task/noop/run?format=json`;
  const check = await fetch(taskUrl);
  const body = (await check.json()) as { status?: string };
  if (check.status !== 200 || body.status !== 'ok') throw new Error(`GET ${taskUrl} answered ${check.status} ${JSON.stringify(body).slice(0, 200)}`);
  ctx.record('secondsPerLoad', seconds);
  try {
    const m = await ctx.measure(
      'req/s',
      async (round) => {
        // Warm-up rounds are short; the measured ones last the full duration.
        const duration = round < 0 ? 1 : seconds;
        const taskdeck = await loadTest(taskUrl, CONNECTIONS, duration);
        const bare = await loadTest(koa.url, CONNECTIONS, duration);
        const runOnly = await runsWithoutHttp(kernel, CONNECTIONS, round < 0 ? 1 : RUN_ONLY_SECONDS);
        return {
          taskdeck: taskdeck.requestsPerSecond,
          koa: bare.requestsPerSecond,
          runOnly,
          taskdeckP99: taskdeck.latencyP99,
          koaP99: bare.latencyP99,
          taskdeckP50: taskdeck.latencyP50,
        };
      },
      { warmup: 1 },
    );
    return [
      result({
        id: 'P4',
        scenario: `GET /admin/task/noop/run?format=json, ${CONNECTIONS} connections, ${seconds} s`,
        taskdeck: m.taskdeck,
        baseline: m.koa,
        baselineLabel: 'bare Koa hello route',
        unit: 'req/s',
        goal: ratioAtLeast(0.5),
        notes:
          `every request runs and persists a no-op run; latency p50/p99 ${m.taskdeckP50} / ${m.taskdeckP99} ms (Koa p99 ${m.koaP99} ms); autocannon in a child process; ` +
          `the same runs without HTTP, ${CONNECTIONS} at a time in process: ${Math.round(m.runOnly).toLocaleString('en-US')} runs/s (the ceiling: ${(m.runOnly / m.koa).toFixed(2)}x Koa; ` +
          `server time per request ${(1000 / m.taskdeck).toFixed(2)} ms with HTTP, ${(1000 / m.runOnly).toFixed(2)} ms without)`,
      }),
    ];
  } finally {
    await koa.close();
    await kernel.stop();
  }
}

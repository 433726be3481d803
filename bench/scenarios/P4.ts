/**
 * P4: `GET /admin/task/noop/run?format=json` under load (autocannon, 50 connections): every request
 * runs the no-op task and persists it before answering. The baseline is a bare Koa hello route on an
 * HTTP server with the same settings, in this same process. The load generator runs in a child process.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import type { BenchContext } from '../lib/bench-context.js';
import { bootBenchKernel } from '../lib/bench-kernel.js';
import { loadTest } from '../lib/load-test.js';
import { bySize, ratioAtLeast, result, type ScenarioResult } from '../lib/scenario-result.js';
import { registerNoop } from './P1.js';

const CONNECTIONS = 50;

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
        return {
          taskdeck: taskdeck.requestsPerSecond,
          koa: bare.requestsPerSecond,
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
        notes: `every request runs and persists a no-op run; latency p50/p99 ${m.taskdeckP50} / ${m.taskdeckP99} ms (Koa p99 ${m.koaP99} ms); autocannon in a child process`,
      }),
    ];
  } finally {
    await koa.close();
    await kernel.stop();
  }
}

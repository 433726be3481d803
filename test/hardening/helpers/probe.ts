/**
 * What the hardening tests look at from outside: how many runs the history holds, how often each task
 * function was called, and a WebSocket upgrade sent with exactly the headers given (the `ws` client
 * always adds its own Host and Origin, so a refused upgrade needs a raw request).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { expect } from 'chai';
import type { RunFilter } from '../../../core/tasks/run-repository.js';
import type { TestKernel } from '../../helpers/boot-kernel.js';

/** Every run the history holds that matches `filter` (streamed, so no page limit applies). */
export async function countRuns(t: TestKernel, filter: RunFilter = {}): Promise<number> {
  let count = 0;
  for await (const _run of t.kernel.service.streamRuns(filter)) count += 1;
  return count;
}

/** Calls of task functions, by task key: the spy behind "the task function is never called". */
export class CallCounter {
  readonly #counts = new Map<string, number>();

  /** Records one call of `key` and returns how many there were. */
  hit(key: string): number {
    const n = (this.#counts.get(key) ?? 0) + 1;
    this.#counts.set(key, n);
    return n;
  }

  of(key: string): number {
    return this.#counts.get(key) ?? 0;
  }

  get total(): number {
    let sum = 0;
    for (const n of this.#counts.values()) sum += n;
    return sum;
  }
}

/** Runs `action` and asserts that it inserted no run and called no task function. */
export async function expectNoRun<T>(t: TestKernel, calls: CallCounter, action: () => Promise<T>, what = 'the request'): Promise<T> {
  const runsBefore = await countRuns(t);
  const callsBefore = calls.total;
  const value = await action();
  // A run is inserted before its function is called; give a stray one a turn to show up.
  await new Promise((resolve) => setImmediate(resolve));
  expect(calls.total - callsBefore, `task calls after ${what}`).to.equal(0);
  expect((await countRuns(t)) - runsBefore, `runs inserted by ${what}`).to.equal(0);
  return value;
}

export interface UpgradeAnswer {
  /** 101 when the server accepted the upgrade (the socket is then closed by us). */
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Sends a WebSocket upgrade with these headers (Host and Origin included, or left out) and reads the answer. */
export function rawUpgrade(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<UpgradeAnswer> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({
      hostname,
      port,
      path,
      agent: false,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), ...headers },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A capturing pino destination: every line the kernel logs, parsed. */
export function logSink(): { write(line: string): void; lines: { level: number; msg: string; [key: string]: unknown }[] } {
  const lines: { level: number; msg: string; [key: string]: unknown }[] = [];
  return { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }), lines };
}

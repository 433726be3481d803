/** The parent side of `ws-clients-child.ts`: start the clients, wait until they are open, then done. */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ClientReport, ClientsRequest } from './ws-clients-child.js';

const CLIENTS_CHILD = fileURLToPath(new URL('./ws-clients-child.ts', import.meta.url));

export interface ClientsHandle {
  /** All sockets are open. */
  ready: Promise<void>;
  /** All sockets have closed. */
  done: Promise<ClientReport[]>;
}

export interface StreamFigures {
  /** Lines per second each client received (first to last line), the median client. */
  perClient: number;
  /** Lines per second over all clients together. */
  aggregate: number;
  lines: number;
  /** Clients that got every line but not the `complete` envelope (and how they were closed). */
  missingComplete: string[];
}

export function openClients(request: ClientsRequest, timeoutMs = 120_000): ClientsHandle {
  const child = fork(CLIENTS_CHILD, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let onReady!: () => void;
  let fail!: (error: Error) => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const done = new Promise<ClientReport[]>((resolve, reject) => {
    fail = reject;
    const timer = setTimeout(() => reject(new Error(`WebSocket clients of ${request.url} not done within ${timeoutMs} ms`)), timeoutMs);
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') onReady();
      else if (message.type === 'done') {
        clearTimeout(timer);
        resolve(message.clients);
      } else {
        clearTimeout(timer);
        reject(new Error(message.message));
      }
    });
    child.once('exit', (code) => reject(new Error(`the WebSocket client process exited with code ${code}`)));
  });
  // `ready` must not hang when the clients fail to connect.
  done.catch(() => undefined);
  const readyOrFail = Promise.race([ready, done.then(() => undefined)]);
  void done.finally(() => child.kill());
  child.once('error', (error) => fail(error));
  child.send(request);
  return { ready: readyOrFail, done };
}

/**
 * Lines/s from what the clients saw. Throws if a client missed lines or got them out of order; a client
 * that got every line but no `complete` is listed in `missingComplete` (a finding, not a broken bench).
 */
export function streamFigures(reports: readonly ClientReport[], expectedLines: number, what: string): StreamFigures {
  for (const [i, r] of reports.entries()) {
    if (r.outputs !== expectedLines || !r.ordered) {
      throw new Error(`${what}: client ${i + 1} of ${reports.length} got ${r.outputs} of ${expectedLines} lines${r.ordered ? '' : ' out of order'} (closed ${r.closeCode})`);
    }
  }
  const missingComplete = reports.filter((r) => !r.completed).map((r) => `closed ${r.closeCode}`);
  const rates = reports.map((r) => (r.outputs * 1000) / Math.max(1e-3, r.lastOutputMs - r.firstOutputMs)).sort((a, b) => a - b);
  const first = Math.min(...reports.map((r) => r.firstOutputMs));
  const last = Math.max(...reports.map((r) => r.lastOutputMs));
  const total = reports.reduce((sum, r) => sum + r.outputs, 0);
  return { perClient: rates[rates.length >> 1]!, aggregate: (total * 1000) / Math.max(1e-3, last - first), lines: expectedLines, missingComplete };
}

/**
 * WebSocket clients for P5, in a process of their own (a client parsing 100k messages a second would
 * otherwise steal the server's event loop). The parent sends `{ url, count, origin }` over IPC; this
 * process opens `count` sockets, answers `{ type: "ready" }` once all are open, and `{ type: "done" }`
 * with what each received once all have closed: output lines, whether their `seq` rose by exactly one
 * each time, and when the first and last output and the `complete` envelope arrived.
 */
import WebSocket from 'ws';

const CMD = /"cmd":"([a-z-]+)"/;
const SEQ = /"seq":(\d+)/;

export interface ClientsRequest {
  url: string;
  count: number;
  origin: string;
}

export interface ClientReport {
  outputs: number;
  ordered: boolean;
  completed: boolean;
  closeCode: number;
  firstOutputMs: number;
  lastOutputMs: number;
  completeMs: number;
}

export type ChildMessage = { type: 'ready' } | { type: 'done'; clients: ClientReport[] } | { type: 'error'; message: string };

function openClient(request: ClientsRequest): Promise<{ opened: Promise<void>; closed: Promise<ClientReport> }> {
  const report: ClientReport = { outputs: 0, ordered: true, completed: false, closeCode: 0, firstOutputMs: -1, lastOutputMs: -1, completeMs: -1 };
  let lastSeq = 0;
  const ws = new WebSocket(request.url, { origin: request.origin, perMessageDeflate: false });
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade of ${request.url} refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
  ws.on('message', (data) => {
    // Only `cmd` and `seq` are read, with a string search: a full JSON.parse of every frame would make
    // this process, not the server, the bottleneck.
    const text = data.toString();
    const cmd = CMD.exec(text)?.[1];
    if (cmd === 'output') {
      const now = performance.now();
      if (report.firstOutputMs < 0) report.firstOutputMs = now;
      report.lastOutputMs = now;
      report.outputs++;
      const seq = Number(SEQ.exec(text)?.[1]);
      if (seq !== lastSeq + 1) report.ordered = false;
      lastSeq = seq;
    } else if (cmd === 'complete') {
      report.completed = true;
      report.completeMs = performance.now();
    }
  });
  const closed = new Promise<ClientReport>((resolve) =>
    ws.once('close', (code) => {
      report.closeCode = code;
      resolve(report);
    }),
  );
  return Promise.resolve({ opened, closed });
}

process.on('message', (message: ClientsRequest) => {
  void (async () => {
    const clients = await Promise.all(Array.from({ length: message.count }, () => openClient(message)));
    await Promise.all(clients.map((c) => c.opened));
    process.send!({ type: 'ready' } satisfies ChildMessage);
    const reports = await Promise.all(clients.map((c) => c.closed));
    process.send!({ type: 'done', clients: reports } satisfies ChildMessage);
  })().catch((error: unknown) => process.send!({ type: 'error', message: String((error as Error)?.message ?? error) } satisfies ChildMessage));
});

/** A recording WebSocket client for tests: every envelope received, in order. */
import WebSocket from 'ws';

export interface Envelope {
  channel?: string;
  cmd: string;
  param: any;
}

export interface RecordedSocket {
  ws: WebSocket;
  messages: Envelope[];
  /** Resolves with the close code once the socket closes. */
  closed: Promise<number>;
  /** Resolves when a message with this cmd has arrived. */
  waitFor(cmd: string, timeoutMs?: number): Promise<Envelope>;
}

export function openSocket(url: string, options: { origin?: string | null; headers?: Record<string, string> } = {}): Promise<RecordedSocket> {
  const origin = options.origin === undefined ? new URL(url.replace(/^ws/, 'http')).origin : options.origin;
  const ws = new WebSocket(url, { headers: options.headers, ...(origin ? { origin } : {}) });
  const messages: Envelope[] = [];
  const waiters: { cmd: string; resolve: (e: Envelope) => void }[] = [];
  ws.on('message', (data) => {
    const envelope = JSON.parse(data.toString()) as Envelope;
    messages.push(envelope);
    for (const w of waiters.filter((w) => w.cmd === envelope.cmd)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(envelope);
    }
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  const waitFor = (cmd: string, timeoutMs = 10_000) => {
    const found = messages.find((m) => m.cmd === cmd);
    if (found) return Promise.resolve(found);
    return new Promise<Envelope>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${cmd}" message within ${timeoutMs} ms; got ${messages.map((m) => m.cmd).join(',')}`)), timeoutMs);
      waiters.push({ cmd, resolve: (e) => { clearTimeout(timer); resolve(e); } });
    });
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages, closed, waitFor }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode} ${body}`), { status: res.statusCode, body })));
    });
    ws.once('error', reject);
  });
}

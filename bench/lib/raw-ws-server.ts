/**
 * The P5 baseline: a bare `ws` server sending the frames taskdeck sends for a chatty run (one `output`
 * envelope per line, the completion line, the `complete` envelope with the Result, `close-connection`),
 * in the same chunks the chatty task logs them, each frame serialised once and sent to every client.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as yieldTurn } from 'node:timers/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { CHUNK, lineText } from './chatty-task.js';

export interface RawWsServer {
  url: string;
  /** Waits for `clients` sockets, then sends `lines` lines to all of them and closes them. */
  broadcast(clients: number, lines: number): Promise<void>;
  close(): Promise<void>;
}

const htmlEscape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function startRawWsServer(): Promise<RawWsServer> {
  const server = http.createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 120_000, headersTimeout: 30_000 });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  let waiting: { count: number; sockets: WebSocket[]; resolve: (sockets: WebSocket[]) => void } | null = null;
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => undefined);
      if (!waiting) return ws.close(1013, 'not expecting clients');
      waiting.sockets.push(ws);
      if (waiting.sockets.length === waiting.count) waiting.resolve(waiting.sockets);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const channel = '00000000-0000-4000-8000-000000000000';
  const output = (seq: number, msg: string, stream: string) => JSON.stringify({ channel, cmd: 'output', param: { seq, msg, html: htmlEscape(msg), stream } });
  return {
    url: `ws://127.0.0.1:${port}/raw`,
    async broadcast(count, lines) {
      const sockets = await new Promise<WebSocket[]>((resolve) => (waiting = { count, sockets: [], resolve }));
      waiting = null;
      const logs: string[] = [];
      for (let i = 0; i < lines; i++) {
        const msg = lineText(i);
        logs.push(msg);
        const frame = output(i + 1, msg, 'log');
        for (const ws of sockets) ws.send(frame);
        if (i % CHUNK === CHUNK - 1) await yieldTurn();
      }
      const last = 'task [Chatty] completed in [1.000ms]';
      logs.push(last);
      const lastFrame = output(lines + 1, last, 'system');
      const result = { id: channel, task: { key: 'chatty', title: 'Chatty' }, run: 'ad-hoc', args: { lines: String(lines) }, status: 'ok', logs, success: true };
      const complete = JSON.stringify({ channel, cmd: 'complete', param: { result, html: '' } });
      const close = JSON.stringify({ cmd: 'close-connection', param: null });
      for (const ws of sockets) {
        ws.send(lastFrame);
        ws.send(complete);
        ws.send(close);
        ws.close(1000);
      }
    },
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

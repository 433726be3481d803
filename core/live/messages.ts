/** The WebSocket envelope, kept from the original: `{ channel, cmd, param }`. The channel is the run id. */
import type { Progress, ResultJson } from '../tasks/types.js';

export interface Envelope {
  channel?: string;
  cmd: 'started' | 'output' | 'progress' | 'complete' | 'close-connection' | 'error';
  param: unknown;
}

export const started = (channel: string, param: { id: string; href: string; watchPath: string; cancelHref: string; task: string }): Envelope => ({ channel, cmd: 'started', param });
export const output = (channel: string, param: { seq: number; msg: string; html: string; stream: string }): Envelope => ({ channel, cmd: 'output', param });
export const progress = (channel: string, param: Progress): Envelope => ({ channel, cmd: 'progress', param });
export const complete = (channel: string, param: { result: ResultJson; html: string }): Envelope => ({ channel, cmd: 'complete', param });
export const closeConnection = (): Envelope => ({ cmd: 'close-connection', param: null });
export const errorMessage = (channel: string | undefined, message: string): Envelope => ({ channel, cmd: 'error', param: { message } });

/** What a client may send: only `{ cmd: "cancel" }` means anything. */
export function parseClientMessage(data: unknown): { cmd: 'cancel' } | null {
  if (typeof data !== 'string') return null;
  try {
    const parsed: unknown = JSON.parse(data);
    return typeof parsed === 'object' && parsed !== null && (parsed as { cmd?: unknown }).cmd === 'cancel' ? { cmd: 'cancel' } : null;
  } catch {
    return null;
  }
}

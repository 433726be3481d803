/** Helpers for the processes a benchmark starts: wait for a line, read memory, stop by pid. */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';

/** Resolves with the first line of `stream` that matches, rejects on exit or after `timeoutMs`. */
export function waitForLine(child: ChildProcess, stream: NodeJS.ReadableStream, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: stream });
    const seen: string[] = [];
    const done = (error: Error | null, match?: RegExpExecArray) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      lines.off('line', onLine);
      // Keep draining, so a chatty child never blocks on a full pipe.
      lines.on('line', () => undefined);
      if (error) reject(error);
      else resolve(match!);
    };
    const onLine = (line: string) => {
      seen.push(line);
      if (seen.length > 20) seen.shift();
      const match = pattern.exec(line);
      if (match) done(null, match);
    };
    const onExit = (code: number | null, signal: string | null) =>
      done(new Error(`process exited (code ${code}, signal ${signal}) before printing ${pattern}; last output:\n${seen.join('\n')}`));
    const timer = setTimeout(() => done(new Error(`no line matching ${pattern} within ${timeoutMs} ms; last output:\n${seen.join('\n')}`)), timeoutMs);
    lines.on('line', onLine);
    child.once('exit', onExit);
  });
}

/** Resident memory of a live process, in bytes: current (VmRSS) and peak (VmHWM). */
export function processMemory(pid: number): { rss: number; peakRss: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kb('VmRSS'), peakRss: kb('VmHWM') };
}

/** Sends SIGTERM and waits for the exit; SIGKILL after `graceMs`. Safe to call on an exited child. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

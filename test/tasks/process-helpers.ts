/** Helpers for tests that run real processes: is a pid alive, wait for pids to go, wait for log lines. */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LiveRun } from '../../core/tasks/live-run.js';
import type { LogLine } from '../../core/tasks/run-repository.js';

/**
 * `process.kill(pid, 0)` succeeds for a zombie too: a killed child whose parent died waits for PID 1 to
 * reap it, and not every container's PID 1 does. A zombie is gone for our purposes.
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** Resolves once none of the pids is alive; rejects naming the survivors after `ms`. */
export async function waitGone(pids: readonly number[], ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (pids.some(alive)) {
    if (Date.now() > deadline) throw new Error(`still alive after ${ms} ms: ${pids.filter(alive).join(', ')}`);
    await sleep(20);
  }
}

/** Collects a run's lines as subscribers see them (committed), and waits for one that matches. */
export class LineWatcher {
  readonly lines: LogLine[] = [];
  readonly #waiters: { test: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];

  constructor(live: LiveRun) {
    live.subscribe((event) => {
      if (event.type !== 'log') return;
      this.lines.push(event.line);
      for (const waiter of [...this.#waiters]) {
        if (!waiter.test(event.line)) continue;
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(event.line);
      }
    });
  }

  next(pattern: RegExp, ms = 10_000): Promise<LogLine> {
    const seen = this.lines.find((l) => pattern.test(l.msg));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no log line matching ${pattern} within ${ms} ms; saw ${JSON.stringify(this.lines.map((l) => l.msg))}`)), ms);
      this.#waiters.push({ test: (l) => pattern.test(l.msg), resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  }

  /** Every number after `word ` in the lines so far: pids a script printed. */
  pids(word: string): number[] {
    return this.lines.flatMap((l) => [...l.msg.matchAll(new RegExp(`\\b${word} (\\d+)`, 'g'))].map((m) => Number(m[1])));
  }
}

/**
 * The process groups a run has started. Each command runs in a group of its own (spawned `detached`),
 * so stopping it signals `-pid`: the command and everything it started. Stopping is SIGTERM first,
 * then SIGKILL for a group still alive after its grace period. A run owns one of these: closing it
 * (on cancel, timeout, or when the run ends) stops every group still running, and any group tracked
 * afterwards is stopped at once, so nothing a run started outlives it by more than a grace period.
 */
import type { Logger } from 'pino';

/** One tracked group, as the code that spawned it sees it. */
export interface TrackedGroup {
  /** SIGTERM the group now, SIGKILL it after its grace period if it is still alive. Idempotent. */
  terminate(why?: string): void;
  /** The command is over (its output closed). A group being terminated is still watched until it is gone. */
  release(): void;
}

/** Where `exec` registers what it spawns: the run's ProcessGroups, or (in a worker) a proxy to them. */
export interface ProcessTracker {
  track(pid: number, label: string, graceMs: number): TrackedGroup;
}

export interface ProcessGroupsOptions {
  /** A system line in the run's log. */
  onLine: (msg: string) => void;
  logger: Logger;
  now?: () => number;
  /** How often a group being terminated is checked for being gone. Default 100 ms. */
  pollMs?: number;
}

interface Entry {
  pid: number;
  label: string;
  graceMs: number;
  released: boolean;
  /** When SIGKILL is due; null while the group is not being terminated. */
  killAt: number | null;
}

export class ProcessGroups implements ProcessTracker {
  readonly #options: ProcessGroupsOptions;
  readonly #now: () => number;
  readonly #entries = new Map<number, Entry>();
  #closed = false;
  #poll: NodeJS.Timeout | null = null;
  #idleWaiters: (() => void)[] = [];

  constructor(options: ProcessGroupsOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Groups still tracked (running, or terminated and not yet gone). */
  get size(): number {
    return this.#entries.size;
  }

  track(pid: number, label: string, graceMs: number): TrackedGroup {
    const entry: Entry = { pid, label, graceMs, released: false, killAt: null };
    this.#entries.set(pid, entry);
    if (this.#closed) this.#terminate(entry, 'the run is over');
    return {
      terminate: (why = '') => this.#terminate(entry, why),
      release: () => this.#release(entry),
    };
  }

  /** Stops every group and every group tracked from now on: the run was cancelled, timed out or ended. */
  close(why = ''): void {
    this.#closed = true;
    for (const entry of this.#entries.values()) this.#terminate(entry, why);
  }

  /** SIGKILL every group at once (the kernel is stopping and the grace period is over). */
  killAll(): void {
    this.#closed = true;
    for (const entry of this.#entries.values()) this.#signal(entry, 'SIGKILL');
    this.#entries.clear();
    this.#settle();
  }

  /** Resolves once no group is tracked. */
  whenIdle(): Promise<void> {
    if (this.#entries.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #terminate(entry: Entry, why: string): void {
    if (entry.killAt !== null || this.#entries.get(entry.pid) !== entry) return;
    if (entry.released && !groupAlive(entry.pid)) {
      this.#drop(entry);
      return;
    }
    entry.killAt = this.#now() + entry.graceMs;
    const because = why ? ` (${why})` : '';
    this.#options.onLine(`stopping command ${entry.label} (process group ${entry.pid})${because}: SIGTERM, then SIGKILL after ${entry.graceMs} ms`);
    this.#signal(entry, 'SIGTERM');
    this.#poll ??= setInterval(() => this.#check(), this.#options.pollMs ?? 100);
  }

  #release(entry: Entry): void {
    entry.released = true;
    // Terminated but not gone: a process that ignores SIGTERM may have closed its output; keep watching.
    if (entry.killAt === null || !groupAlive(entry.pid)) this.#drop(entry);
  }

  #check(): void {
    const now = this.#now();
    for (const entry of [...this.#entries.values()]) {
      if (entry.killAt === null) continue;
      if (!groupAlive(entry.pid)) {
        this.#drop(entry);
      } else if (now >= entry.killAt) {
        const msg = `command ${entry.label} (process group ${entry.pid}) was still running ${entry.graceMs} ms after SIGTERM: SIGKILL`;
        this.#options.onLine(msg);
        this.#options.logger.warn({ pid: entry.pid }, msg);
        this.#signal(entry, 'SIGKILL');
        this.#drop(entry);
      }
    }
  }

  #signal(entry: Entry, signal: NodeJS.Signals): void {
    try {
      process.kill(-entry.pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') this.#options.logger.warn({ err: error, pid: entry.pid }, `could not send ${signal} to process group ${entry.pid}`);
    }
  }

  #drop(entry: Entry): void {
    if (this.#entries.get(entry.pid) === entry) this.#entries.delete(entry.pid);
    this.#settle();
  }

  #settle(): void {
    if ([...this.#entries.values()].every((e) => e.killAt === null) && this.#poll) {
      clearInterval(this.#poll);
      this.#poll = null;
    }
    if (this.#entries.size > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** True while any process is in the group. A group we may not signal (EPERM) is not ours to wait for. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

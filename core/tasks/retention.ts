/**
 * Retention: history does not eat the disk. Finished runs older than `maxAgeDays` go, except each
 * task's latest `keepPerTask`; then, while the database is over `maxBytes`, the oldest runs beyond
 * each task's latest `keepPerTask` go regardless of age. Deletes run in small batches, yielding to the
 * event loop between them, and never touch a running run.
 */
import type { Logger } from 'pino';
import type { PruneCandidate, PruneCount, RunRepository } from './run-repository.js';

export interface RetentionPolicy {
  /** 0 = keep forever (by age). */
  maxAgeDays: number;
  keepPerTask: number;
  /** 0 = no size budget. */
  maxBytes: number;
  /** Minutes between automatic prunes of a server; 0 or absent = none (`taskdeck prune` still works). */
  intervalMinutes?: number;
}

export interface PruneReport {
  byAge: number;
  bySize: number;
  bytesBefore: number;
  bytesAfter: number;
}

export interface PrunePreview {
  /** Runs started before this (epoch ms) are past the age limit; null when age is no limit. */
  cutoff: number | null;
  /** Runs that would go by age now (exact). */
  byAge: number;
  /** The same, per task, largest first. */
  perTask: PruneCount[];
  /** The first runs to go by age, oldest first (at most 20). */
  oldest: PruneCandidate[];
  bytes: number;
  overBudget: boolean;
  /** When the server prunes next (epoch ms), or null without periodic pruning. */
  nextPruneAt: number | null;
  /** The last prune this process ran, if any. */
  lastPrune: (PruneReport & { at: number }) | null;
}

const DAY_MS = 86_400_000;
const BATCH = 500;
const OLDEST = 20;
/** The first automatic prune comes a minute after start-up (or sooner with a shorter interval). */
const FIRST_PRUNE_MS = 60_000;

export class Retention {
  readonly #repository: RunRepository;
  readonly #policy: RetentionPolicy;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #createdAt: number;
  #lastPrune: (PruneReport & { at: number }) | null = null;

  constructor(options: { repository: RunRepository; policy: RetentionPolicy; logger: Logger; now?: () => number }) {
    this.#repository = options.repository;
    this.#policy = options.policy;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#createdAt = this.#now();
  }

  get policy(): RetentionPolicy {
    return this.#policy;
  }

  /** What a prune would do now; reads only (the count comes from an index, not from the candidates). */
  async preview(): Promise<PrunePreview> {
    const cutoff = this.#cutoff() ?? null;
    const keepPerTask = this.#policy.keepPerTask;
    const [perTask, oldest, bytes] = await Promise.all([
      cutoff === null ? [] : this.#repository.countPrunable({ startedBefore: cutoff, keepPerTask }),
      cutoff === null ? [] : this.#repository.findPrunable({ startedBefore: cutoff, keepPerTask, limit: OLDEST }),
      this.#repository.storageBytes(),
    ]);
    return {
      cutoff,
      byAge: perTask.reduce((sum, t) => sum + t.count, 0),
      perTask,
      oldest,
      bytes,
      overBudget: this.#policy.maxBytes > 0 && bytes > this.#policy.maxBytes,
      nextPruneAt: this.nextPruneAt(),
      lastPrune: this.#lastPrune,
    };
  }

  /**
   * When the kernel's timer prunes next: a minute after start-up (sooner with a shorter interval),
   * then every interval from start-up. Null when the policy has no interval.
   */
  nextPruneAt(): number | null {
    const every = (this.#policy.intervalMinutes ?? 0) * 60_000;
    if (every <= 0) return null;
    const now = this.#now();
    const first = this.#createdAt + Math.min(FIRST_PRUNE_MS, every);
    if (now < first) return first;
    const ticks = Math.floor((now - this.#createdAt) / every) + 1;
    return this.#createdAt + ticks * every;
  }

  async prune(): Promise<PruneReport> {
    const bytesBefore = await this.#repository.storageBytes();
    let byAge = 0;
    const cutoff = this.#cutoff();
    if (cutoff !== undefined) byAge = await this.#deleteWhile(() => true, cutoff);
    let bySize = 0;
    if (this.#policy.maxBytes > 0) {
      bySize = await this.#deleteWhile(async () => (await this.#repository.storageBytes()) > this.#policy.maxBytes, undefined);
    }
    const bytesAfter = await this.#repository.storageBytes();
    this.#lastPrune = { at: this.#now(), byAge, bySize, bytesBefore, bytesAfter };
    if (byAge + bySize > 0) this.#logger.info({ byAge, bySize, bytesBefore, bytesAfter }, `retention removed ${byAge + bySize} run(s)`);
    return { byAge, bySize, bytesBefore, bytesAfter };
  }

  #cutoff(): number | undefined {
    return this.#policy.maxAgeDays > 0 ? this.#now() - this.#policy.maxAgeDays * DAY_MS : undefined;
  }

  async #deleteWhile(shouldGoOn: () => boolean | Promise<boolean>, startedBefore: number | undefined): Promise<number> {
    let total = 0;
    while (await shouldGoOn()) {
      const batch = await this.#repository.findPrunable({ startedBefore, keepPerTask: this.#policy.keepPerTask, limit: BATCH });
      if (batch.length === 0) break;
      total += await this.#repository.deleteRuns(batch.map((c) => c.id));
      await new Promise((resolve) => setImmediate(resolve));
    }
    return total;
  }
}

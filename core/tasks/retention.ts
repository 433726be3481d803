/**
 * Retention: history does not eat the disk. Finished runs older than `maxAgeDays` go, except each
 * task's latest `keepPerTask`; then, while the database is over `maxBytes`, the oldest runs beyond
 * each task's latest `keepPerTask` go regardless of age. Deletes run in small batches, yielding to the
 * event loop between them, and never touch a running run.
 */
import type { Logger } from 'pino';
import type { PruneCandidate, RunRepository } from './run-repository.js';

export interface RetentionPolicy {
  /** 0 = keep forever (by age). */
  maxAgeDays: number;
  keepPerTask: number;
  /** 0 = no size budget. */
  maxBytes: number;
}

export interface PruneReport {
  byAge: number;
  bySize: number;
  bytesBefore: number;
  bytesAfter: number;
}

export interface PrunePreview {
  /** Runs that would go by age (exact). */
  byAge: number;
  oldest: PruneCandidate[];
  bytes: number;
  overBudget: boolean;
}

const DAY_MS = 86_400_000;
const BATCH = 500;
const PREVIEW_LIMIT = 100_000;

export class Retention {
  readonly #repository: RunRepository;
  readonly #policy: RetentionPolicy;
  readonly #logger: Logger;
  readonly #now: () => number;

  constructor(options: { repository: RunRepository; policy: RetentionPolicy; logger: Logger; now?: () => number }) {
    this.#repository = options.repository;
    this.#policy = options.policy;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
  }

  get policy(): RetentionPolicy {
    return this.#policy;
  }

  async preview(): Promise<PrunePreview> {
    const candidates = this.#cutoff() === undefined ? [] : await this.#repository.findPrunable({ startedBefore: this.#cutoff(), keepPerTask: this.#policy.keepPerTask, limit: PREVIEW_LIMIT });
    const bytes = await this.#repository.storageBytes();
    return { byAge: candidates.length, oldest: candidates.slice(0, 20), bytes, overBudget: this.#policy.maxBytes > 0 && bytes > this.#policy.maxBytes };
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

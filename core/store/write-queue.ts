/**
 * The single writer. Writes from every run are queued and committed together in one transaction per
 * turn of the event loop (group commit): with `synchronous=FULL` each commit costs an fsync, so one
 * commit for many log lines and many runs is what makes full durability affordable. A write's promise
 * resolves only after its transaction commits.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Schema } from './schema.js';

export type WriteOp = (trx: Transaction<Schema>) => Promise<void>;

interface Pending {
  op: WriteOp;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Bounds one transaction so the event loop is never held for long by a single commit. */
const MAX_OPS_PER_COMMIT = 256;

export class WriteQueue {
  readonly #db: Kysely<Schema>;
  #pending: Pending[] = [];
  #draining: Promise<void> | null = null;
  #idleWaiters: (() => void)[] = [];

  constructor(db: Kysely<Schema>) {
    this.#db = db;
  }

  enqueue(op: WriteOp): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ op, resolve, reject });
      this.#draining ??= this.#drainSoon();
    });
  }

  /** Resolves when everything queued so far has been committed (or has failed). */
  async idle(): Promise<void> {
    if (!this.#draining) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  async #drainSoon(): Promise<void> {
    // Let the current tick queue more writes so they share one commit.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0, MAX_OPS_PER_COMMIT);
        await this.#commit(batch);
      }
    } finally {
      this.#draining = null;
      for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    try {
      await this.#db.transaction().execute(async (trx) => {
        for (const item of batch) await item.op(trx);
      });
      for (const item of batch) item.resolve();
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // One bad write must not take the others down with it: retry them one transaction each.
      for (const item of batch) await this.#commit([item]);
    }
  }
}

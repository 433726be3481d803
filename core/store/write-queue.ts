/**
 * The single writer. Writes from every run are queued and committed together in one transaction per
 * turn of the event loop (group commit): with `synchronous=FULL` each commit costs an fsync, so one
 * commit for many log lines and many runs is what makes full durability affordable. A write's promise
 * resolves only after its transaction commits.
 *
 * When the storage itself fails (disk full, I/O error, read-only file: see `storage-fault.ts`), the
 * whole batch is rejected at once with a retryable `ERR_STORE` error: retrying its writes one by one
 * would only hit the same full disk again, up to 256 times. The queue then pauses before its next
 * commit (50 ms, doubling up to 2 s, back to none after a commit succeeds), so a storage that stays
 * broken costs one failed transaction per pause, never a spin. SQLite undoes the failed transaction;
 * what was committed before stays, and only that was ever acknowledged.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely, Transaction } from 'kysely';
import type { Schema } from './schema.js';
import { isStorageFault, storageUnavailable, storeClosed } from './storage-fault.js';

export type WriteOp = (trx: Transaction<Schema>) => Promise<void>;

interface Pending {
  op: WriteOp;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface WriteQueueOptions {
  /** The pause after a first storage fault; it doubles with each further one. */
  firstPauseMs?: number;
  maxPauseMs?: number;
}

/** Bounds one transaction so the event loop is never held for long by a single commit. */
const MAX_OPS_PER_COMMIT = 256;
const FIRST_PAUSE_MS = 50;
const MAX_PAUSE_MS = 2000;

export class WriteQueue {
  readonly #db: Kysely<Schema>;
  readonly #firstPauseMs: number;
  readonly #maxPauseMs: number;
  #pending: Pending[] = [];
  #draining: Promise<void> | null = null;
  #idleWaiters: (() => void)[] = [];
  /** How long to wait before the next commit: 0 unless the last one hit a storage fault. */
  #pauseMs = 0;
  #closed = false;

  constructor(db: Kysely<Schema>, options: WriteQueueOptions = {}) {
    this.#db = db;
    this.#firstPauseMs = options.firstPauseMs ?? FIRST_PAUSE_MS;
    this.#maxPauseMs = options.maxPauseMs ?? MAX_PAUSE_MS;
  }

  enqueue(op: WriteOp): Promise<void> {
    if (this.#closed) return Promise.reject(storeClosed());
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

  /** Refuses new writes (they reject, not retryable), then waits for the queued ones. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.idle();
  }

  async #drainSoon(): Promise<void> {
    // Let the current tick queue more writes so they share one commit.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.#pending.length > 0) {
        if (this.#pauseMs > 0) await sleep(this.#pauseMs);
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
      await this.#transaction(batch);
    } catch (error) {
      if (isStorageFault(error)) {
        this.#pauseMs = Math.min(this.#maxPauseMs, this.#pauseMs > 0 ? this.#pauseMs * 2 : this.#firstPauseMs);
        const failure = storageUnavailable(error);
        for (const item of batch) item.reject(failure);
        return;
      }
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // One bad write must not take the others down with it: retry them one transaction each.
      for (const item of batch) await this.#commit([item]);
      return;
    }
    this.#pauseMs = 0;
    for (const item of batch) item.resolve();
  }

  async #transaction(batch: Pending[]): Promise<void> {
    const trx = await this.#db.startTransaction().execute();
    try {
      for (const item of batch) await item.op(trx);
      await trx.commit().execute();
    } catch (error) {
      // On SQLITE_FULL and I/O errors SQLite may already have rolled back: a failing ROLLBACK ("no
      // transaction is active") must not replace the error that says what went wrong.
      await trx.rollback().execute().catch(() => undefined);
      throw error;
    }
  }
}

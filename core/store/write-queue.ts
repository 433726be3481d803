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
 *
 * A background write (search indexing: work the store can redo after a crash) waits until no other
 * write is queued (or a few commits have gone by without it) and commits alone, without an fsync
 * (`synchronous=NORMAL` for that one commit, then back to the database's FULL). In WAL mode that keeps
 * the database consistent, and the next ordinary commit's fsync makes it durable too; a power cut
 * before that loses only background work, which its owner must be able to redo.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely, type Transaction } from 'kysely';
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
/** Ordinary commits a waiting background write lets go first; then it takes its turn (no starving). */
const MAX_COMMITS_AHEAD_OF_BACKGROUND = 8;
const FIRST_PAUSE_MS = 50;
const MAX_PAUSE_MS = 2000;

export class WriteQueue {
  readonly #db: Kysely<Schema>;
  readonly #firstPauseMs: number;
  readonly #maxPauseMs: number;
  #pending: Pending[] = [];
  #background: Pending[] = [];
  /** Ordinary commits since a background write last took its turn. */
  #commitsAhead = 0;
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

  /**
   * Queues a write; it resolves once committed. `background`: a write whose loss in a crash its owner
   * can redo (see above): committed after every other queued write, alone, without an fsync.
   */
  enqueue(op: WriteOp, options: { background?: boolean } = {}): Promise<void> {
    if (this.#closed) return Promise.reject(storeClosed());
    return new Promise<void>((resolve, reject) => {
      (options.background ? this.#background : this.#pending).push({ op, resolve, reject });
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
    try {
      do {
        // Let the current turn queue more writes so they share one commit. Before every commit, not only
        // the first: a writer that queues its next write when the last one commits (chunked indexing)
        // would otherwise keep the queue draining in microtasks, and the event loop would never turn.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.#pauseMs > 0) await sleep(this.#pauseMs);
        const backgroundTurn = this.#background.length > 0 && (this.#pending.length === 0 || this.#commitsAhead >= MAX_COMMITS_AHEAD_OF_BACKGROUND);
        if (backgroundTurn) {
          this.#commitsAhead = 0;
          await this.#commit(this.#background.splice(0, 1), true);
        } else {
          if (this.#background.length > 0) this.#commitsAhead += 1;
          await this.#commit(this.#pending.splice(0, MAX_OPS_PER_COMMIT), false);
        }
      } while (this.#pending.length > 0 || this.#background.length > 0);
    } finally {
      this.#draining = null;
      for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }

  async #commit(batch: Pending[], background: boolean): Promise<void> {
    try {
      await this.#transaction(batch, background);
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
      for (const item of batch) await this.#commit([item], background);
      return;
    }
    this.#pauseMs = 0;
    for (const item of batch) item.resolve();
  }

  async #transaction(batch: Pending[], background: boolean): Promise<void> {
    if (background) await sql`PRAGMA synchronous = NORMAL`.execute(this.#db);
    try {
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
    } finally {
      if (background) await sql`PRAGMA synchronous = FULL`.execute(this.#db);
    }
  }
}

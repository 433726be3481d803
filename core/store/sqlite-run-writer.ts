/**
 * Every write to run history, through the database's single WriteQueue (one transaction per turn of
 * the event loop). The hot writes (a run's row, its log lines, its outcome) are prepared statements on
 * the writer's handle, run inside the queue's transaction: no query is compiled per call.
 *
 * A finished run goes into the full-text indexes after its outcome is committed, in background
 * writes (see `write-queue.ts`) of at most about `INDEX_CHUNK` lines: every short run finished since
 * the last one, then a chunk of a long log. The outcome's commit (on the path every run waits for)
 * carries no index work, and indexing a million lines never holds the event loop for seconds.
 * `runs.log_indexed_seq` says where indexing stands (migration 0005), so what a crash interrupted is
 * picked up again at the next start-up. A search waits for the short runs already finished
 * (`searchable`), so a run is found as soon as it is done; a long log, once `flush` resolves.
 *
 * Another process (a CLI run while the server starts) may index the same run: each background write
 * reads where indexing stands from the row, not from memory, and moves it on with a compare-and-set;
 * a write to a run that another process has meanwhile marked interrupted (and may have indexed) first
 * takes what was indexed out again, so the index never holds a line twice or a line it cannot find.
 * A run whose indexing fails (not the storage: the run itself) is logged and set aside until the
 * next start-up, so it never blocks the others.
 */
import type Database from 'better-sqlite3';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { TaskdeckError } from '../errors.js';
import type { LogLine, RunCompletion, RunStart, RunTurn } from '../tasks/run-repository.js';
import type { OpenedDatabase } from './open-database.js';
import { storeClosed } from './storage-fault.js';
import type { WriteOp, WriteQueue } from './write-queue.js';

/** Lines added to the search index in one background write: a few milliseconds of work. */
const INDEX_CHUNK = 1000;
/** Short runs indexed in one background write, at most. */
const SHORT_RUNS_PER_WRITE = 500;
/** `log_indexed_seq` of a finished run nothing of which is indexed yet, not even its error and data. */
const NOTHING_INDEXED = -1;
/** Above every sequence number. */
const LAST_SEQ = Number.MAX_SAFE_INTEGER;

type Statements = ReturnType<typeof prepareStatements>;

/** What the writer logs to: indexing failures (one bad run, a storage fault) it cannot return to anyone. */
export type WriterLogger = Pick<Logger, 'error' | 'warn'>;

const SILENT: WriterLogger = { error() {}, warn() {} };

function prepareStatements(db: Database.Database) {
  return {
    insertRun: db.prepare(
      `INSERT INTO runs (id, task_key, task_title, task_version, run_label, args_json, status, started_at, origin)
       VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?)`,
    ),
    insertArg: db.prepare('INSERT INTO run_args (name, value, run_num) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
    numOf: db.prepare('SELECT num FROM runs WHERE id = ?').pluck(),
    insertLog: db.prepare('INSERT INTO run_logs (run_num, seq, at, stream, msg) VALUES (?, ?, ?, ?, ?)'),
    dropLogs: db.prepare('DELETE FROM run_logs WHERE run_num = ? AND seq >= ? AND seq <= ?'),
    saveProgress: db.prepare('UPDATE runs SET progress_done = ?, progress_total = ?, progress_message = ? WHERE num = ?'),
    completeRun: db.prepare(
      `UPDATE runs SET status = ?, finished_at = ?, elapsed_us = ?, summary = ?, error = ?, error_stack = ?, data_json = ?,
       metadata_json = ?, tags_json = ?, log_count = ?, logs_dropped = ?, progress_done = ?, progress_total = ?, progress_message = ?,
       log_indexed_seq = ? WHERE num = ?`,
    ),
    insertTag: db.prepare('INSERT INTO run_tags (tag, run_num) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    /** The seq of a run's line number `offset + 1` after `seq`: where a chunk of that many lines ends. */
    lineAfter: db.prepare('SELECT seq FROM run_logs WHERE run_num = ? AND seq > ? ORDER BY seq LIMIT 1 OFFSET ?').pluck(),
    indexLogs: db.prepare('INSERT INTO log_search (rowid, msg) SELECT rowid, msg FROM run_logs_plain WHERE run_num = ? AND seq > ? AND seq <= ?'),
    setIndexedSeq: db.prepare('UPDATE runs SET log_indexed_seq = ? WHERE num = ?'),
    /**
     * Where indexing of a run stands, read with a write: the background write's first statement then
     * takes the write lock, so no other process moves it on between this read and the update below.
     */
    lockIndexedSeq: db.prepare('UPDATE runs SET log_indexed_seq = log_indexed_seq WHERE num = ? RETURNING log_indexed_seq').pluck(),
    moveIndexedSeq: db.prepare('UPDATE runs SET log_indexed_seq = ? WHERE num = ? AND log_indexed_seq IS ?'),
    runState: db.prepare('SELECT status, log_indexed_seq FROM runs WHERE num = ?'),
    unindexLogs: db.prepare('DELETE FROM log_search WHERE rowid IN (SELECT rowid FROM run_logs WHERE run_num = ? AND seq <= ?)'),
    unindexResult: db.prepare('DELETE FROM result_search WHERE rowid = ?'),
    // After the row holds its final error and data: FTS5 external content must match what is indexed.
    indexResult: db.prepare('INSERT INTO result_search (rowid, error, data_json) SELECT num, error, data_json FROM runs WHERE num = ?'),
  };
}

/** A search waiting for the short runs finished up to number `upTo` to be indexed. */
interface SearchWaiter {
  upTo: number;
  wake: () => void;
}

export interface SqliteRunWriterOptions {
  logger?: WriterLogger;
}

export class SqliteRunWriter {
  readonly #queue: WriteQueue;
  readonly #handle: Database.Database;
  readonly #readHandle: Database.Database;
  readonly #logger: WriterLogger;
  #statements: Statements | null = null;
  /** id -> num of runs written by this process, so log appends need no lookup. */
  readonly #nums = new Map<string, number>();
  /**
   * Finished runs still to index: runs whose log fits one chunk (num -> the run's number in the order
   * runs finished, what a waiting search compares against), and longer ones. Where each one's
   * indexing stands is read from its row, in the write that indexes it.
   */
  readonly #shortToIndex = new Map<number, number>();
  readonly #longToIndex = new Set<number>();
  /** Short runs taken by the background write in flight, num -> finish number. */
  readonly #shortInFlight = new Map<number, number>();
  /** Runs finished by this process so far: each finished run's number in `#shortToIndex`. */
  #finished = 0;
  #searchWaiters: SearchWaiter[] = [];
  #indexing: Promise<void> | null = null;
  #closed = false;

  constructor(db: OpenedDatabase, options: SqliteRunWriterOptions = {}) {
    this.#queue = db.writes;
    this.#handle = db.writeHandle;
    this.#readHandle = db.readHandle;
    this.#logger = options.logger ?? SILENT;
  }

  insertRun(run: RunStart): Promise<void> {
    return this.#write(async () => {
      const s = this.#prepared();
      const inserted = s.insertRun.run(run.id, run.taskKey, run.taskTitle, run.taskVersion, run.label, JSON.stringify(run.args), run.startedAt, run.origin);
      const num = Number(inserted.lastInsertRowid);
      for (const arg of argIndexRows(run.args)) s.insertArg.run(arg.name, arg.value, num);
      this.#nums.set(run.id, num);
    });
  }

  /** A running run's lines, progress and trim from one turn, in one transaction. */
  writeTurn(runId: string, turn: RunTurn): Promise<void> {
    const { lines, progress, dropLines } = turn;
    if (lines.length === 0 && !progress && !dropLines) return Promise.resolve();
    return this.#write(async () => {
      const s = this.#prepared();
      const num = this.#numOf(runId);
      // The insert first: a transaction that opens with a write waits for another process's write lock
      // (busy_timeout) instead of failing with SQLITE_BUSY_SNAPSHOT once a read has started it.
      this.#insertLines(num, lines);
      if (lines.length > 0 || dropLines) this.#unindexIfTaken(num, lines[0]?.seq ?? LAST_SEQ);
      if (progress) s.saveProgress.run(progress.done, progress.total, progress.message, num);
      if (dropLines) s.dropLogs.run(num, dropLines.fromSeq, dropLines.toSeq);
    });
  }

  /** The last lines, the last trim of the log and the outcome, in one transaction. */
  completeRun(c: RunCompletion): Promise<void> {
    let num = 0;
    let long = false;
    return this.#write(async () => {
      const s = this.#prepared();
      num = this.#numOf(c.id);
      this.#insertLines(num, c.finalLines);
      this.#unindexIfTaken(num, c.finalLines[0]?.seq ?? LAST_SEQ);
      if (c.dropLines) s.dropLogs.run(num, c.dropLines.fromSeq, c.dropLines.toSeq);
      long = s.lineAfter.get(num, 0, INDEX_CHUNK) !== undefined;
      s.completeRun.run(
        c.status,
        c.finishedAt,
        c.elapsedUs,
        c.summary,
        c.error,
        c.errorStack,
        c.dataJson,
        JSON.stringify(c.metadata),
        JSON.stringify(c.tags),
        c.logCount,
        c.logsDropped,
        c.progress?.done ?? null,
        c.progress?.total ?? null,
        c.progress?.message ?? null,
        NOTHING_INDEXED,
        num,
      );
      for (const tag of c.tags) s.insertTag.run(tag, num);
    }).then(() => {
      this.#nums.delete(c.id);
      this.#indexLater(num, long);
    });
  }

  /** Start-up: rows left `running` become `interrupted`, and logs not yet fully indexed are indexed (in the background). */
  async markInterrupted(now: number): Promise<number> {
    let count = 0;
    let pending: { num: number }[] = [];
    await this.#write(async (trx) => {
      const left = await trx
        .updateTable('runs')
        .set({ status: 'interrupted', finished_at: now, error: 'the process stopped while this run was running', log_indexed_seq: NOTHING_INDEXED })
        .where('status', '=', 'running')
        .returning('num')
        .execute();
      count = left.length;
      pending = await trx.selectFrom('runs').select('num').where('log_indexed_seq', 'is not', null).orderBy('num').execute();
    });
    for (const run of pending) this.#indexLater(run.num, true);
    return count;
  }

  async deleteRuns(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    let deleted = 0;
    let nums: number[] = [];
    await this.#write(async (trx) => {
      // Never a running run, even if it started between the query and this delete.
      const rows = await trx.selectFrom('runs').select('num').where('id', 'in', ids).where('status', '!=', 'running').execute();
      nums = rows.map((r) => r.num);
      if (nums.length === 0) return;
      // External-content FTS rows are removed while their content still exists (FTS5 reads it back), and
      // only the lines that were indexed: removing a row the index never had would corrupt it.
      await sql`DELETE FROM log_search WHERE rowid IN (
        SELECT l.rowid FROM run_logs l JOIN runs r ON r.num = l.run_num
        WHERE l.run_num IN (${sql.join(nums)}) AND l.seq <= coalesce(r.log_indexed_seq, ${LAST_SEQ}))`.execute(trx);
      await sql`DELETE FROM result_search WHERE rowid IN (
        SELECT num FROM runs WHERE num IN (${sql.join(nums)}) AND coalesce(log_indexed_seq, 0) != ${NOTHING_INDEXED})`.execute(trx);
      await trx.deleteFrom('run_logs').where('run_num', 'in', nums).execute();
      await trx.deleteFrom('run_tags').where('run_num', 'in', nums).execute();
      await trx.deleteFrom('run_args').where('run_num', 'in', nums).execute();
      const result = await trx.deleteFrom('runs').where('num', 'in', nums).executeTakeFirst();
      deleted = Number(result.numDeletedRows);
    });
    for (const num of nums) {
      this.#shortToIndex.delete(num);
      this.#longToIndex.delete(num);
    }
    this.#wakeSearches();
    return deleted;
  }

  /**
   * Resolves once the short runs finished so far are searchable (a background write away at most).
   * Runs that finish while it waits do not hold it back: it waits for those numbered up to now only.
   */
  searchable(): Promise<void> {
    if (!this.#indexing || (this.#shortToIndex.size === 0 && this.#shortInFlight.size === 0)) return Promise.resolve();
    const upTo = this.#finished;
    return new Promise((wake) => this.#searchWaiters.push({ upTo, wake }));
  }

  /** Waits for every queued write to commit and for finished runs' logs to be indexed. */
  async flush(): Promise<void> {
    await this.#queue.idle();
    while (this.#indexing) {
      await this.#indexing;
      await this.#queue.idle();
    }
  }

  /** Refuses further writes and waits for the queued ones; indexing stops after its current chunk (it resumes at the next start-up). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#indexing;
    await this.#queue.idle();
  }

  #write(op: WriteOp): Promise<void> {
    return this.#closed ? Promise.reject(storeClosed()) : this.#queue.enqueue(op);
  }

  #prepared(): Statements {
    // Prepared on first use, inside a write: the schema is migrated by then.
    this.#statements ??= prepareStatements(this.#handle);
    return this.#statements;
  }

  #insertLines(num: number, lines: readonly LogLine[]): void {
    const insert = this.#prepared().insertLog;
    for (const line of lines) insert.run(num, line.seq, line.at, line.stream, line.msg);
  }

  #numOf(runId: string): number {
    const known = this.#nums.get(runId);
    if (known !== undefined) return known;
    const num = this.#prepared().numOf.get(runId) as number | undefined;
    if (num === undefined) throw new Error(`run ${runId} is not in the database`);
    return num;
  }

  /**
   * When this process writes to a run it is still running: if another process has marked the run
   * interrupted meanwhile (a server starting while a CLI runs) and indexed some of it, takes that out of
   * the indexes before a line is dropped or the outcome replaces the row, so the log and the outcome are
   * indexed once, from scratch, when the run ends. Lines from `newFromSeq` on were inserted by this
   * write: never indexed.
   */
  #unindexIfTaken(num: number, newFromSeq: number): void {
    const s = this.#prepared();
    const row = s.runState.get(num) as { status: string; log_indexed_seq: number | null } | undefined;
    if (!row || row.status === 'running' || row.log_indexed_seq === NOTHING_INDEXED) return;
    s.unindexLogs.run(num, Math.min(row.log_indexed_seq ?? LAST_SEQ, newFromSeq - 1));
    s.unindexResult.run(num);
    s.setIndexedSeq.run(NOTHING_INDEXED, num);
  }

  #indexLater(num: number, long: boolean): void {
    if (long) this.#longToIndex.add(num);
    else this.#shortToIndex.set(num, ++this.#finished);
    if (!this.#closed) this.#indexing ??= this.#indexPending();
  }

  /** Background writes, one after the other, until every finished run is indexed. */
  async #indexPending(): Promise<void> {
    try {
      while (!this.#closed && (this.#shortToIndex.size > 0 || this.#longToIndex.size > 0)) {
        const shorts = [...this.#shortToIndex.keys()].slice(0, SHORT_RUNS_PER_WRITE);
        for (const num of shorts) {
          this.#shortInFlight.set(num, this.#shortToIndex.get(num)!);
          this.#shortToIndex.delete(num);
        }
        const long: number | undefined = this.#longToIndex.values().next().value;
        let longDone = false;
        try {
          // A background write: lost in a crash, it is redone from `log_indexed_seq`, committed with it.
          await this.#background(() => {
            longDone = this.#indexSome(shorts, long);
          });
        } catch (error) {
          if (isStoreError(error)) throw error;
          this.#logger.error({ err: error, runs: shorts.length + (long === undefined ? 0 : 1) }, 'search indexing failed; indexing those runs one by one to set the failing one aside');
          longDone = await this.#indexOneByOne(shorts, long);
        }
        this.#shortInFlight.clear();
        if (long !== undefined && longDone) this.#longToIndex.delete(long);
        this.#wakeSearches();
      }
    } catch (error) {
      // The storage failed or the store closed: the runs left stay marked in the database and are taken
      // up again when the next run finishes, or at the next start-up.
      for (const [num, finished] of this.#shortInFlight) this.#shortToIndex.set(num, finished);
      this.#shortInFlight.clear();
      if (!this.#closed) this.#logger.warn({ err: error }, 'search indexing paused: it resumes when the next run finishes, or at the next start-up');
    } finally {
      this.#indexing = null;
      this.#wakeAllSearches();
    }
  }

  /** After a write of several runs failed: each run in its own write; a run that fails alone is set aside. */
  async #indexOneByOne(shorts: readonly number[], long: number | undefined): Promise<boolean> {
    for (const num of shorts) {
      if (this.#closed) throw storeClosed();
      if (this.#shortInFlight.has(num)) {
        try {
          await this.#background(() => void this.#indexRun(num, null));
        } catch (error) {
          if (isStoreError(error)) throw error;
          this.#setAside(num, error);
        }
        this.#shortInFlight.delete(num);
      }
      this.#wakeSearches();
    }
    if (long === undefined || this.#closed || !this.#longToIndex.has(long)) return false;
    try {
      let done = false;
      await this.#background(() => {
        done = this.#indexRun(long, INDEX_CHUNK).upTo === null;
      });
      return done;
    } catch (error) {
      if (isStoreError(error)) throw error;
      this.#setAside(long, error);
      return true;
    }
  }

  #background(index: () => void): Promise<void> {
    return this.#queue.enqueue(async () => index(), { background: true });
  }

  /** Left marked in its row: the next start-up tries it again (and logs it again if it still fails). */
  #setAside(num: number, error: unknown): void {
    const run = this.#readHandle.prepare('SELECT id, task_key FROM runs WHERE num = ?').get(num) as { id: string; task_key: string } | undefined;
    const name = run ? `run ${run.id} (task ${run.task_key})` : `run #${num}`;
    this.#logger.error({ err: error, runId: run?.id, runNum: num }, `search indexing of ${name} failed; it is set aside until the next start-up`);
  }

  /** Indexes the short runs given, then what is left of the budget of a long log; returns whether that log is done. */
  #indexSome(shorts: readonly number[], long: number | undefined): boolean {
    let budget = INDEX_CHUNK;
    for (const num of shorts) budget -= this.#indexRun(num, null).lines;
    return long === undefined ? false : this.#indexRun(long, Math.max(budget, 100)).upTo === null;
  }

  /**
   * Indexes a run's result (unless done already) and its next `maxLines` lines (null: every line left),
   * from where its row says indexing stands: another process may have moved it on.
   */
  #indexRun(num: number, maxLines: number | null): { upTo: number | null; lines: number } {
    const s = this.#prepared();
    const indexedSeq = s.lockIndexedSeq.get(num) as number | null | undefined;
    // Deleted, or indexed to the end (by another process) meanwhile.
    if (indexedSeq === undefined || indexedSeq === null) return { upTo: null, lines: 0 };
    const from = Math.max(indexedSeq, 0);
    const end = maxLines === null ? undefined : (s.lineAfter.get(num, from, maxLines - 1) as number | undefined);
    const upTo = end ?? null;
    if (s.moveIndexedSeq.run(upTo, num, indexedSeq).changes === 0) return { upTo: null, lines: 0 };
    if (indexedSeq === NOTHING_INDEXED) s.indexResult.run(num);
    const lines = s.indexLogs.run(num, from, end ?? LAST_SEQ).changes;
    return { upTo, lines };
  }

  /** Wakes the searches waiting for no run but those finished after they started. */
  #wakeSearches(): void {
    if (this.#searchWaiters.length === 0) return;
    let oldest = Number.POSITIVE_INFINITY;
    for (const finished of this.#shortInFlight.values()) oldest = Math.min(oldest, finished);
    for (const finished of this.#shortToIndex.values()) oldest = Math.min(oldest, finished);
    const waiting: SearchWaiter[] = [];
    for (const waiter of this.#searchWaiters) {
      if (waiter.upTo < oldest) waiter.wake();
      else waiting.push(waiter);
    }
    this.#searchWaiters = waiting;
  }

  #wakeAllSearches(): void {
    for (const waiter of this.#searchWaiters.splice(0)) waiter.wake();
  }
}

/** A failure of the store as a whole (storage fault, closed), not of the run being indexed. */
function isStoreError(error: unknown): boolean {
  return error instanceof TaskdeckError && error.code === 'ERR_STORE';
}

/** One row per scalar argument value (one per element of a list), as text, for `arg.name=value` filters. */
function argIndexRows(args: Record<string, unknown>): { name: string; value: string }[] {
  const rows: { name: string; value: string }[] = [];
  for (const [name, value] of Object.entries(args)) {
    // Once per distinct value: a list that repeats one (`['prod', 'prod']`) still lists the run once.
    const values = new Set<string>();
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === null || item === undefined || typeof item === 'object' && !(item instanceof Date)) continue;
      values.add(item instanceof Date ? item.toISOString() : String(item));
    }
    for (const text of values) rows.push({ name, value: text });
  }
  return rows;
}

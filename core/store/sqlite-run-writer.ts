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
 */
import type Database from 'better-sqlite3';
import { sql } from 'kysely';
import type { LogLine, RunCompletion, RunStart } from '../tasks/run-repository.js';
import type { Progress } from '../tasks/types.js';
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

function prepareStatements(db: Database.Database) {
  return {
    insertRun: db.prepare(
      `INSERT INTO runs (id, task_key, task_title, task_version, run_label, args_json, status, started_at, origin)
       VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?)`,
    ),
    insertArg: db.prepare('INSERT INTO run_args (name, value, run_num) VALUES (?, ?, ?)'),
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
    // After the row holds its final error and data: FTS5 external content must match what is indexed.
    indexResult: db.prepare('INSERT INTO result_search (rowid, error, data_json) SELECT num, error, data_json FROM runs WHERE num = ?'),
  };
}

export class SqliteRunWriter {
  readonly #queue: WriteQueue;
  readonly #handle: Database.Database;
  #statements: Statements | null = null;
  /** id -> num of runs written by this process, so log appends need no lookup. */
  readonly #nums = new Map<string, number>();
  /** Finished runs still to index, num -> `log_indexed_seq`: runs whose log fits one chunk, and longer ones. */
  readonly #shortToIndex = new Map<number, number>();
  readonly #longToIndex = new Map<number, number>();
  /** Short runs taken by the background write in flight. */
  #shortInFlight = 0;
  #searchWaiters: (() => void)[] = [];
  #indexing: Promise<void> | null = null;
  #closed = false;

  constructor(db: OpenedDatabase) {
    this.#queue = db.writes;
    this.#handle = db.writeHandle;
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

  appendLogs(runId: string, lines: readonly LogLine[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    return this.#write(async () => this.#insertLines(this.#numOf(runId), lines));
  }

  saveProgress(runId: string, progress: Progress): Promise<void> {
    return this.#write(async () => void this.#prepared().saveProgress.run(progress.done, progress.total, progress.message, this.#numOf(runId)));
  }

  dropLogs(runId: string, fromSeq: number, toSeq: number): Promise<void> {
    return this.#write(async () => void this.#prepared().dropLogs.run(this.#numOf(runId), fromSeq, toSeq));
  }

  /** The last lines, the last trim of the log and the outcome, in one transaction. */
  completeRun(c: RunCompletion): Promise<void> {
    let num = 0;
    let long = false;
    return this.#write(async () => {
      const s = this.#prepared();
      num = this.#numOf(c.id);
      this.#insertLines(num, c.finalLines);
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
      this.#indexLater(num, NOTHING_INDEXED, long);
    });
  }

  /** Start-up: rows left `running` become `interrupted`, and logs not yet fully indexed are indexed (in the background). */
  async markInterrupted(now: number): Promise<number> {
    let count = 0;
    let pending: { num: number; log_indexed_seq: number }[] = [];
    await this.#write(async (trx) => {
      const left = await trx
        .updateTable('runs')
        .set({ status: 'interrupted', finished_at: now, error: 'the process stopped while this run was running', log_indexed_seq: NOTHING_INDEXED })
        .where('status', '=', 'running')
        .returning('num')
        .execute();
      count = left.length;
      pending = (await trx.selectFrom('runs').select(['num', 'log_indexed_seq']).where('log_indexed_seq', 'is not', null).orderBy('num').execute()) as typeof pending;
    });
    for (const run of pending) this.#indexLater(run.num, run.log_indexed_seq, true);
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
    return deleted;
  }

  /** Resolves once the short runs finished so far are searchable (a background write away at most). */
  searchable(): Promise<void> {
    if (!this.#indexing || (this.#shortToIndex.size === 0 && this.#shortInFlight === 0)) return Promise.resolve();
    return new Promise((resolve) => this.#searchWaiters.push(resolve));
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

  #indexLater(num: number, indexedSeq: number, long: boolean): void {
    (long ? this.#longToIndex : this.#shortToIndex).set(num, indexedSeq);
    if (!this.#closed) this.#indexing ??= this.#indexPending();
  }

  /** Background writes, one after the other, until every finished run is indexed. */
  async #indexPending(): Promise<void> {
    try {
      while (!this.#closed && (this.#shortToIndex.size > 0 || this.#longToIndex.size > 0)) {
        const shorts = [...this.#shortToIndex].slice(0, SHORT_RUNS_PER_WRITE);
        for (const [num] of shorts) this.#shortToIndex.delete(num);
        const long = this.#longToIndex.entries().next().value;
        this.#shortInFlight = shorts.length;
        let longUpTo: number | null = null;
        try {
          // A background write: lost in a crash, it is redone from `log_indexed_seq`, committed with it.
          await this.#queue.enqueue(async () => {
            longUpTo = this.#indexSome(shorts, long);
          }, { background: true });
        } catch (error) {
          for (const [num, seq] of shorts) this.#shortToIndex.set(num, seq);
          throw error;
        } finally {
          this.#shortInFlight = 0;
        }
        if (long && this.#longToIndex.has(long[0])) {
          if (longUpTo === null) this.#longToIndex.delete(long[0]);
          else this.#longToIndex.set(long[0], longUpTo);
        }
        if (this.#shortToIndex.size === 0) this.#wakeSearches();
      }
    } catch {
      // The storage failed or the store closed: the runs left stay marked in the database and are taken
      // up again when the next run finishes, or at the next start-up.
    } finally {
      this.#indexing = null;
      this.#wakeSearches();
    }
  }

  /** Indexes the short runs given, then what is left of the budget of a long log; returns where that log stands. */
  #indexSome(shorts: readonly [number, number][], long: [number, number] | undefined): number | null {
    let budget = INDEX_CHUNK;
    for (const [num, seq] of shorts) budget -= this.#indexRun(num, seq, null).lines;
    return long ? this.#indexRun(long[0], long[1], Math.max(budget, 100)).upTo : null;
  }

  /** Indexes a run's result (unless done already) and its next `maxLines` lines (null: every line left). */
  #indexRun(num: number, indexedSeq: number, maxLines: number | null): { upTo: number | null; lines: number } {
    const s = this.#prepared();
    if (indexedSeq === NOTHING_INDEXED) s.indexResult.run(num);
    const from = Math.max(indexedSeq, 0);
    const end = maxLines === null ? undefined : (s.lineAfter.get(num, from, maxLines - 1) as number | undefined);
    const lines = s.indexLogs.run(num, from, end ?? LAST_SEQ).changes;
    const upTo = end ?? null;
    s.setIndexedSeq.run(upTo, num);
    return { upTo, lines };
  }

  #wakeSearches(): void {
    for (const wake of this.#searchWaiters.splice(0)) wake();
  }
}

/** One row per scalar argument value (one per element of a list), as text, for `arg.name=value` filters. */
function argIndexRows(args: Record<string, unknown>): { name: string; value: string }[] {
  const rows: { name: string; value: string }[] = [];
  for (const [name, value] of Object.entries(args)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === null || item === undefined || typeof item === 'object' && !(item instanceof Date)) continue;
      rows.push({ name, value: item instanceof Date ? item.toISOString() : String(item) });
    }
  }
  return rows;
}

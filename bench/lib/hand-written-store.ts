/**
 * The baseline a hand-written application would be: better-sqlite3 with prepared statements on the
 * kernel's own schema and the kernel's pragmas (WAL, synchronous=FULL, the same autocheckpoint), writing
 * the same rows a run writes (the run row, its log lines, the completion).
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { WAL_AUTOCHECKPOINT_PAGES } from '../../core/store/open-database.js';

export interface HandWrittenRun {
  taskKey: string;
  taskTitle: string;
  lines: readonly string[];
  startedAt: number;
  finishedAt: number;
  elapsedUs: number;
}

export class HandWrittenStore {
  readonly db: Database.Database;
  readonly #insertRun: Database.Statement;
  readonly #insertLog: Database.Statement;
  readonly #complete: Database.Statement;
  readonly #writeRuns: (runs: readonly HandWrittenRun[]) => void;

  /** `file` must already carry the kernel's schema (see `createMigratedDatabase`). */
  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    this.#insertRun = this.db.prepare(
      `INSERT INTO runs (id, task_key, task_title, task_version, run_label, args_json, status, started_at, origin)
       VALUES (?, ?, ?, '', 'ad-hoc', '{}', 'running', ?, 'batch')`,
    );
    this.#insertLog = this.db.prepare('INSERT INTO run_logs (run_num, seq, at, stream, msg) VALUES (?, ?, ?, ?, ?)');
    this.#complete = this.db.prepare(
      `UPDATE runs SET status = 'ok', finished_at = ?, elapsed_us = ?, summary = 'ok', error = '', error_stack = '', data_json = NULL,
       metadata_json = ?, tags_json = '[]', log_count = ?, logs_dropped = 0 WHERE num = ?`,
    );
    this.#writeRuns = this.db.transaction((runs: readonly HandWrittenRun[]) => {
      for (const run of runs) this.#write(run);
    });
  }

  /** Writes runs in one transaction (one commit, one fsync). */
  writeRuns(runs: readonly HandWrittenRun[]): void {
    this.#writeRuns(runs);
  }

  close(): void {
    this.db.close();
  }

  #write(run: HandWrittenRun): void {
    const num = Number(this.#insertRun.run(randomUUID(), run.taskKey, run.taskTitle, run.startedAt).lastInsertRowid);
    run.lines.forEach((msg, i) => this.#insertLog.run(num, i + 1, run.finishedAt, i === run.lines.length - 1 ? 'system' : 'log', msg));
    this.#complete.run(run.finishedAt, run.elapsedUs, JSON.stringify({ taskVersion: '' }), run.lines.length, num);
  }
}

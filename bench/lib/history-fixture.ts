/**
 * A large run history for the history and export scenarios, generated outside git with raw SQL inserts
 * into a database the kernel's own migrations created. Its shape is known, so filters have known
 * selectivity:
 *
 * - 20 tasks: `backup` (10% of runs, args `{format: sql|tar}`, half each), `nightly-report` (5%),
 *   18 others sharing the rest (args `{value: "item-<n>"}`);
 * - statuses: 90% ok, 8% error, 2% cancelled; started over the last 30 days, oldest first;
 * - tags: `db` on every backup run, `nightly` on every 10th run, `flaky` on every 100th;
 * - `logsPerRun` log lines each (10 by default).
 *
 * Only the tables the scenarios read are filled: the full-text search indexes stay empty.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createMigratedDatabase } from './bench-kernel.js';

export interface HistoryFixture {
  file: string;
  runs: number;
  logLines: number;
  generateMs: number;
  bytes: number;
  /** The filters the scenarios use, with how many runs each matches. */
  filters: { task: string; taskRuns: number; argName: string; argValue: string; argRuns: number; tag: string; tagRuns: number };
}

const OTHER_TASKS = Array.from({ length: 18 }, (_, i) => `task-${String(i).padStart(2, '0')}`);
const DAY_MS = 86_400_000;
const ROWS_PER_TXN = 20_000;

export async function generateHistory(dir: string, runs: number, logsPerRun = 10): Promise<HistoryFixture> {
  const file = path.join(dir, 'history.db');
  await createMigratedDatabase(file);
  const started = performance.now();
  const db = new Database(file);
  // Generation only: durability does not matter here, the kernel reopens with its own pragmas.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const insertRun = db.prepare(
    `INSERT INTO runs (num, id, task_key, task_title, task_version, run_label, args_json, status, started_at, finished_at, elapsed_us,
       summary, error, error_stack, data_json, metadata_json, tags_json, log_count, logs_dropped, origin)
     VALUES (?, ?, ?, ?, 'v1', ?, ?, ?, ?, ?, ?, ?, ?, '', ?, '{"taskVersion":"v1"}', ?, ?, 0, ?)`,
  );
  const insertLog = db.prepare('INSERT INTO run_logs (run_num, seq, at, stream, msg) VALUES (?, ?, ?, ?, ?)');
  const insertTag = db.prepare('INSERT INTO run_tags (tag, run_num) VALUES (?, ?)');
  const insertArg = db.prepare('INSERT INTO run_args (name, value, run_num) VALUES (?, ?, ?)');
  const now = Date.now();
  const span = 30 * DAY_MS;
  const counts = { backup: 0, tar: 0, nightly: 0, task: 0 };
  const writeRange = db.transaction((from: number, to: number) => {
    for (let num = from; num < to; num++) {
      const slot = num % 100;
      const taskKey = slot < 10 ? 'backup' : slot < 15 ? 'nightly-report' : OTHER_TASKS[num % OTHER_TASKS.length]!;
      const status = slot === 99 || slot === 98 ? 'cancelled' : num % 12 === 0 ? 'error' : 'ok';
      const args: Record<string, string> = taskKey === 'backup' ? { format: num % 2 ? 'tar' : 'sql' } : { value: `item-${num}` };
      const tags = [...(taskKey === 'backup' ? ['db'] : []), ...(num % 10 === 0 ? ['nightly'] : []), ...(num % 100 === 7 ? ['flaky'] : [])];
      const startedAt = now - span + Math.floor((num / runs) * span);
      const elapsedUs = 1000 + (num % 5000) * 37;
      const error = status === 'error' ? `exit code ${num % 7}: something went wrong` : status === 'cancelled' ? 'cancelled' : '';
      insertRun.run(num, randomUUID(), taskKey, taskKey, num % 3 ? 'ad-hoc' : 'nightly', JSON.stringify(args), status, startedAt,
        startedAt + Math.ceil(elapsedUs / 1000), elapsedUs, status, error, status === 'ok' ? `{"n":${num}}` : null, JSON.stringify(tags), logsPerRun, 'batch');
      for (let seq = 1; seq <= logsPerRun; seq++) {
        insertLog.run(num, seq, startedAt, seq === logsPerRun ? 'system' : 'log', seq === logsPerRun ? `task [${taskKey}] completed in [${elapsedUs / 1000}ms]` : `step ${seq} of run ${num}: processed ${num * seq % 9973} items`);
      }
      for (const tag of tags) insertTag.run(tag, num);
      for (const [name, value] of Object.entries(args)) insertArg.run(name, value, num);
      if (taskKey === 'backup') counts.backup++;
      if (args.format === 'tar') counts.tar++;
      if (tags.includes('nightly')) counts.nightly++;
      if (taskKey === 'nightly-report') counts.task++;
    }
  });
  const rowsPerRun = 1 + logsPerRun;
  const runsPerTxn = Math.max(1, Math.floor(ROWS_PER_TXN / rowsPerRun));
  for (let from = 1; from <= runs; from += runsPerTxn) {
    writeRange(from, Math.min(from + runsPerTxn, runs + 1));
    // Generation of the full size takes a while: let timers (and Ctrl-C) through.
    await new Promise((resolve) => setImmediate(resolve));
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('ANALYZE');
  db.close();
  return {
    file,
    runs,
    logLines: runs * logsPerRun,
    generateMs: performance.now() - started,
    bytes: fs.statSync(file).size,
    filters: { task: 'nightly-report', taskRuns: counts.task, argName: 'format', argValue: 'tar', argRuns: counts.tar, tag: 'nightly', tagRuns: counts.nightly },
  };
}

// Frozen in time: sees the database as Kysely<any>. Full-text search is SQLite FTS5 (a PostgreSQL
// store would use tsvector columns instead), so this migration is SQLite-only by nature.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // One FTS row per log line, its rowid the run_logs rowid: snippets can name the line.
  await sql`CREATE VIRTUAL TABLE log_search USING fts5(msg, content='run_logs', content_rowid='rowid', tokenize='unicode61')`.execute(db);
  // The error and the data of each finished run, its rowid the run's num.
  await sql`CREATE VIRTUAL TABLE result_search USING fts5(error, data_json, content='runs', content_rowid='num', tokenize='unicode61')`.execute(db);
  // Index what finished runs already hold (running runs are indexed when they finish).
  await sql`INSERT INTO log_search(rowid, msg) SELECT l.rowid, l.msg FROM run_logs l JOIN runs r ON r.num = l.run_num WHERE r.status != 'running'`.execute(db);
  await sql`INSERT INTO result_search(rowid, error, data_json) SELECT num, error, data_json FROM runs WHERE status != 'running'`.execute(db);
  // Duration statistics per task (p50/p95) and the duration filter.
  await db.schema.createIndex('runs_task_elapsed').on('runs').columns(['task_key', 'elapsed_us']).execute();
  await db.schema.createIndex('runs_task_started').on('runs').columns(['task_key', 'started_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('runs_task_started').execute();
  await db.schema.dropIndex('runs_task_elapsed').execute();
  await sql`DROP TABLE result_search`.execute(db);
  await sql`DROP TABLE log_search`.execute(db);
}

// Frozen in time: sees the database as Kysely<any>. Colour codes stuck to words (`\e[33mdisk` became
// the token `33mdisk`), so log lines are indexed through a view that strips ANSI escapes with the
// `strip_ansi` function the store registers on every connection.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE log_search`.execute(db);
  await sql`CREATE VIEW run_logs_plain AS SELECT rowid, run_num, seq, strip_ansi(msg) AS msg FROM run_logs`.execute(db);
  await sql`CREATE VIRTUAL TABLE log_search USING fts5(msg, content='run_logs_plain', content_rowid='rowid', tokenize='unicode61')`.execute(db);
  await sql`INSERT INTO log_search(rowid, msg) SELECT p.rowid, p.msg FROM run_logs_plain p JOIN runs r ON r.num = p.run_num WHERE r.status != 'running'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE log_search`.execute(db);
  await sql`DROP VIEW run_logs_plain`.execute(db);
  await sql`CREATE VIRTUAL TABLE log_search USING fts5(msg, content='run_logs', content_rowid='rowid', tokenize='unicode61')`.execute(db);
  await sql`INSERT INTO log_search(rowid, msg) SELECT l.rowid, l.msg FROM run_logs l JOIN runs r ON r.num = l.run_num WHERE r.status != 'running'`.execute(db);
}

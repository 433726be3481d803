// Frozen in time: sees the database as Kysely<any>. A finished run's log is added to the full-text
// index in bounded chunks, each its own write turn, so a run of a million lines never holds the writer
// (and the event loop) for seconds. `log_indexed_seq` is where that indexing stands: NULL once the log
// is fully indexed (every run finished before this migration is), else the lines with `seq` up to it
// are in `log_search` and the rest are still to index, after a crash too.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('runs').addColumn('log_indexed_seq', 'integer').execute();
  // Only runs still being indexed have a value: start-up finds them without reading every run.
  await sql`CREATE INDEX runs_log_indexing ON runs (num) WHERE log_indexed_seq IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX runs_log_indexing`.execute(db);
  await db.schema.alterTable('runs').dropColumn('log_indexed_seq').execute();
}

// Frozen in time: sees the database as Kysely<any>. The history page marks runs "slower than usual"
// against the p95 of each task's latest finished runs: this index holds exactly what that reads (the
// task, the run's num, its duration and its status, finished runs only), so no run row is fetched for it.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX runs_task_finished ON runs (task_key, num, elapsed_us, status) WHERE status != 'running'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX runs_task_finished`.execute(db);
}

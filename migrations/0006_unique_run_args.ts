// Frozen in time: sees the database as Kysely<any>. An argument list that repeated a value
// (`env: ['prod', 'prod']`) was indexed once per element, and a filter driven by `run_args` listed the
// run once per row. Each (name, value, run) is kept once, and the lookup index now says so.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM run_args WHERE rowid NOT IN (SELECT min(rowid) FROM run_args GROUP BY name, value, run_num)`.execute(db);
  await sql`DROP INDEX run_args_lookup`.execute(db);
  await sql`CREATE UNIQUE INDEX run_args_lookup ON run_args (name, value, run_num)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX run_args_lookup`.execute(db);
  await sql`CREATE INDEX run_args_lookup ON run_args (name, value, run_num)`.execute(db);
}

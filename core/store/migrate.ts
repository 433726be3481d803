/** Brings the schema up to date with the migration files in `migrations/`. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileMigrationProvider, Migrator, type Kysely, type MigrationResultSet } from 'kysely';
import { TaskdeckError } from '../errors.js';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url));

export async function migrateToLatest(db: Kysely<any>, folder = MIGRATIONS_FOLDER): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder: folder }),
  });
  const outcome = await migrator.migrateToLatest();
  if (outcome.error) {
    const failed = outcome.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new TaskdeckError('ERR_STORE', `migration "${failed}" failed: ${String((outcome.error as Error)?.message ?? outcome.error)}`, {
      cause: outcome.error,
    });
  }
  return outcome;
}

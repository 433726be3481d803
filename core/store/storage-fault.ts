/**
 * Tells a failure of the storage (disk full, I/O error, read-only file, lock held too long) from a
 * failure of one write (a constraint, a bug). The first makes every write fail alike until the storage
 * recovers, so it is not worth retrying write by write; it is worth retrying later.
 */
import { TaskdeckError } from '../errors.js';

/** SQLite primary codes (extended codes start with them: `SQLITE_IOERR_WRITE`, `SQLITE_READONLY_DIRECTORY`). */
const FAULT_CODES = ['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_NOMEM', 'SQLITE_PROTOCOL'];

/** The SQLite error code of a thrown value (better-sqlite3 sets `code`), if it has one. */
export function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

export function isStorageFault(error: unknown): boolean {
  const code = sqliteCode(error);
  return code !== undefined && FAULT_CODES.some((fault) => code === fault || code.startsWith(`${fault}_`));
}

/**
 * The error a write rejects with when the storage cannot take it now: `ERR_STORE`, 503 with
 * `Retry-After`, `details.retryable` (see `isRetryableStoreError`), the SQLite error as `cause`.
 */
export function storageUnavailable(error: unknown): TaskdeckError {
  const code = sqliteCode(error) ?? 'SQLITE_ERROR';
  const reason = error instanceof Error ? error.message : String(error);
  return new TaskdeckError('ERR_STORE', `cannot write to the database: ${code}: ${reason}`, {
    status: 503,
    expose: true,
    headers: { 'Retry-After': '5' },
    details: { retryable: true, sqlite: code },
    cause: error,
  });
}

/** What a write rejects with once the store is closed (the kernel is stopping): not worth a retry. */
export function storeClosed(): TaskdeckError {
  return new TaskdeckError('ERR_STORE', 'the database is closed: taskdeck is stopping', { status: 503, expose: true, headers: { 'Retry-After': '5' } });
}

/**
 * One server per database. A server holds a lock on `<db>.lock`, a small SQLite file next to the
 * database: an open write transaction (a RESERVED lock, an OS file lock underneath) for as long as it
 * runs. The operating system drops that lock when the process ends in any way, kill -9 included, so
 * there is never a stale lock to clean up and no PID to trust after a reboot or in a new container.
 * The file also records who holds it (pid, host, since), for the refusal message. It holds nothing
 * else and is never deleted. CLI commands (`taskdeck run`, `runs`, ...) do not take it: they share the
 * database with a running server.
 */
import os from 'node:os';
import Database from 'better-sqlite3';
import { TaskdeckError } from '../errors.js';
import { describeFolderAccess } from './database-file.js';
import { sqliteCode } from './storage-fault.js';

export interface InstanceLock {
  readonly file: string;
  /** Lets the next server in. Idempotent. */
  release(): void;
}

interface Holder {
  pid: number;
  host: string;
  since: number;
}

export function lockFileOf(dbFile: string): string {
  return `${dbFile}.lock`;
}

/** Takes the lock of the database file `dbFile` (a resolved path) or throws `ERR_STORE` naming the holder. */
export function acquireInstanceLock(dbFile: string): InstanceLock {
  const file = lockFileOf(dbFile);
  let handle: Database.Database | null = null;
  try {
    handle = new Database(file, { timeout: 0 });
    handle.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, host TEXT NOT NULL, since INTEGER NOT NULL)');
  } catch (error) {
    handle?.close();
    if (isBusy(error)) throw heldBy(dbFile, file, null);
    throw cannotLock(dbFile, file, error);
  }
  try {
    // Take the lock, record ourselves (a commit gives the lock up), take it again and keep it.
    // Another server that slips in between wins, and this one refuses like any second server.
    take(handle, dbFile, file);
    handle.prepare('DELETE FROM holder').run();
    handle.prepare('INSERT INTO holder (pid, host, since) VALUES (?, ?, ?)').run(process.pid, os.hostname(), Date.now());
    handle.pragma('busy_timeout = 2000'); // readers of the holder row may briefly hold the file
    handle.exec('COMMIT');
    handle.pragma('busy_timeout = 0');
    take(handle, dbFile, file);
  } catch (error) {
    if (handle.inTransaction) handle.exec('ROLLBACK');
    handle.close();
    throw error instanceof TaskdeckError ? error : cannotLock(dbFile, file, error);
  }
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      try {
        handle.exec('ROLLBACK');
      } finally {
        handle.close();
      }
    },
  };
}

function take(handle: Database.Database, dbFile: string, file: string): void {
  try {
    handle.exec('BEGIN IMMEDIATE');
  } catch (error) {
    if (!isBusy(error)) throw cannotLock(dbFile, file, error);
    throw heldBy(dbFile, file, readHolder(handle));
  }
}

/** The holder as it recorded itself; null if it cannot be read (it is recording itself right now). */
function readHolder(handle: Database.Database): Holder | null {
  try {
    handle.pragma('busy_timeout = 500');
    return (handle.prepare('SELECT pid, host, since FROM holder LIMIT 1').get() as Holder | undefined) ?? null;
  } catch {
    return null;
  }
}

function heldBy(dbFile: string, file: string, holder: Holder | null): TaskdeckError {
  const who = holder
    ? `taskdeck process ${holder.pid}${holder.host === os.hostname() ? '' : ` on ${holder.host}`} (running since ${new Date(holder.since).toISOString()})`
    : 'another taskdeck process';
  return new TaskdeckError(
    'ERR_STORE',
    `the database ${dbFile} is in use by ${who}: one server per database. Stop that server first, or give this one another --db. (The lock is ${file}; it goes away with its process.)`,
    { status: 503, details: { db: dbFile, lock: file, pid: holder?.pid ?? null } },
  );
}

function cannotLock(dbFile: string, file: string, cause: unknown): TaskdeckError {
  const code = sqliteCode(cause);
  const damaged = code === 'SQLITE_NOTADB' || code?.startsWith('SQLITE_CORRUPT') === true;
  const hint = damaged ? '. It holds no data: delete it when no taskdeck server is running' : '';
  return new TaskdeckError('ERR_STORE', `cannot open the database ${dbFile}: cannot take its lock file ${file}: ${describe(cause)}${describeFolderAccess(dbFile)}${hint}`, { status: 503, cause });
}

function isBusy(error: unknown): boolean {
  const code = sqliteCode(error);
  return code === 'SQLITE_BUSY' || code?.startsWith('SQLITE_BUSY_') === true || code === 'SQLITE_LOCKED';
}

function describe(error: unknown): string {
  const code = sqliteCode(error) ?? (error as { code?: string } | null)?.code;
  const reason = error instanceof Error ? error.message : String(error);
  return code ? `${code}: ${reason}` : reason;
}

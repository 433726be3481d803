/**
 * Checks on the database file before taskdeck writes to it. An existing file is opened read-only
 * first and checked (`quick_check`): a file that is not a SQLite database, or a damaged one, is refused
 * with its path and SQLite's error, and never touched: no migration, no journal-mode change, no
 * checkpoint, so the bytes stay as they were for whoever investigates. A file taskdeck cannot write
 * (read-only file, folder or file system) is refused too: there is no read-only mode.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { TaskdeckError } from '../errors.js';
import { sqliteCode } from './storage-fault.js';

/** The absolute path of the database file, its folder created if missing. `:memory:` stays as is. */
export function prepareDatabaseFile(file: string): string {
  if (file === ':memory:') return file;
  const resolved = path.resolve(file);
  try {
    fs.mkdirSync(path.dirname(resolved), { recursive: true });
  } catch (error) {
    throw cannotOpen(resolved, error); // the message names the mkdir that failed
  }
  return resolved;
}

/** Refuses an existing file that is not a sound SQLite database; reads it only. */
export function checkExistingDatabase(file: string): void {
  if (file === ':memory:' || !fs.existsSync(file)) return;
  let probe: Database.Database | null = null;
  try {
    probe = new Database(file, { readonly: true, fileMustExist: true });
    const check = probe.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw Object.assign(new Error(`quick_check says: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
  } catch (error) {
    const code = sqliteCode(error);
    const damaged = code === 'SQLITE_NOTADB' || code?.startsWith('SQLITE_CORRUPT') === true;
    throw cannotOpen(file, error, damaged ? 'taskdeck neither repairs nor replaces it: restore a backup, or move the file away to start an empty history' : undefined);
  } finally {
    probe?.close();
  }
}

/**
 * Makes sure the write handle can write: rewrites a header field with its own value, then rolls back.
 * A read-only file or folder fails here (`SQLITE_READONLY…`) rather than halfway through a migration
 * (SQLite opens a file it cannot write read-only without a word, and in WAL mode even takes the write
 * lock; only a write says no).
 */
export function checkWritable(file: string, handle: Database.Database): void {
  try {
    handle.exec('BEGIN IMMEDIATE');
    const version = Number(handle.pragma('user_version', { simple: true }));
    handle.pragma(`user_version = ${version}`);
    handle.exec('ROLLBACK');
  } catch (error) {
    if (handle.inTransaction) handle.exec('ROLLBACK');
    throw cannotOpen(file, error, sqliteCode(error)?.startsWith('SQLITE_READONLY') ? `taskdeck writes the file and creates ${path.basename(file)}-wal and -shm next to it; it has no read-only mode` : undefined);
  }
}

/** The error for a database that cannot be opened: its path, SQLite's code and message, and a hint. */
export function cannotOpen(file: string, cause: unknown, hint?: string): TaskdeckError {
  const code = sqliteCode(cause) ?? (cause as { code?: unknown } | null)?.code;
  const reason = cause instanceof Error ? cause.message : String(cause);
  const prefix = typeof code === 'string' && !reason.startsWith(code) ? `${code}: ` : '';
  const access = describeFolderAccess(file);
  return new TaskdeckError('ERR_STORE', `cannot open the database ${file}: ${prefix}${reason}${access}${hint ? `. ${hint}` : ''}`, {
    status: 503,
    cause,
  });
}

/** `statfs` magic numbers of file systems that may live on another host (Linux `f_type`). */
const NETWORK_FILE_SYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x6969, 'nfs'],
  [0x517b, 'smb'],
  [0xff534d42, 'cifs'],
  [0xfe534d42, 'smb2'],
  [0x65735546, 'fuse'],
  [0x01021997, '9p'],
  [0x00c36400, 'ceph'],
  [0x47504653, 'gpfs'],
  [0x5346414f, 'afs'],
]);

/** The file system type of a `statfs` result when it may be a network one (nfs, smb, fuse, …), else null. */
export function networkFileSystemName(type: number): string | null {
  return NETWORK_FILE_SYSTEMS.get(type >>> 0) ?? null;
}

/**
 * A warning when the database's folder is on a network file system: SQLite's WAL needs memory shared
 * on one host, and the one-server lock relies on file locks such systems may not honour. Null otherwise.
 */
export function networkFileSystemWarning(file: string): string | null {
  if (file === ':memory:') return null;
  let name: string | null;
  try {
    name = networkFileSystemName(fs.statfsSync(path.dirname(file)).type);
  } catch {
    return null;
  }
  if (!name) return null;
  return `the database ${file} is on a network file system (${name}): SQLite's WAL mode needs shared memory on one host and taskdeck's one-server lock needs working file locks; keep the database on a local disk, and never open it from two hosts`;
}

/** ` (the folder … is not writable: EACCES)` when that explains a failure, else ''. */
export function describeFolderAccess(file: string): string {
  if (file === ':memory:') return '';
  const folder = path.dirname(file);
  try {
    fs.accessSync(folder, fs.constants.W_OK);
    if (fs.existsSync(file)) fs.accessSync(file, fs.constants.W_OK);
    return '';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EACCES';
    if (code === 'ENOENT') return ''; // nothing to say about a folder that is not there
    const what = (error as NodeJS.ErrnoException).path === file ? `the file ${file}` : `the folder ${folder}`;
    return ` (${what} is not writable: ${code}${ERRNO_TEXT[code] ? `, ${ERRNO_TEXT[code]}` : ''})`;
  }
}

const ERRNO_TEXT: Record<string, string> = { EACCES: 'permission denied', EPERM: 'operation not permitted', EROFS: 'read-only file system' };

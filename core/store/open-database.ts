/**
 * Opens the SQLite file twice: one read-write connection that is the only writer, and one read-only
 * connection for history pages and exports, so a long read never waits behind a write (WAL).
 * An existing file is checked read-only before anything writes to it (see `database-file.ts`). A
 * `-wal` and `-shm` left by a crash are SQLite's to recover when the file opens: taskdeck never
 * deletes, moves or truncates them.
 */
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { TaskdeckError } from '../errors.js';
import { cannotOpen, checkExistingDatabase, checkWritable, prepareDatabaseFile } from './database-file.js';
import type { Schema } from './schema.js';
import { stripAnsi } from './strip-ansi.js';
import { WriteQueue } from './write-queue.js';

/**
 * WAL pages after which a commit also checkpoints (SQLite's default). The checkpoint runs inside that
 * commit and holds the event loop while it copies: at 10,000 pages (40 MB) a checkpoint held it for
 * 70-400 ms in a long log; at 1,000 for under 45 ms, with no loss of throughput measured (P2).
 */
export const WAL_AUTOCHECKPOINT_PAGES = 1000;

export interface OpenedDatabase {
  readonly file: string;
  readonly writer: Kysely<Schema>;
  readonly reader: Kysely<Schema>;
  /**
   * The one queue every write goes through (group commit: see `write-queue.ts`). Write with it, not
   * with `writer` directly, or a write can land in the middle of another part's transaction.
   */
  readonly writes: WriteQueue;
  /**
   * The writer's better-sqlite3 handle, for prepared statements on hot paths. Use it only inside a
   * `writes` operation: the statements then run in that operation's transaction.
   */
  readonly writeHandle: Database.Database;
  /**
   * The reader's better-sqlite3 handle (the writer's for `:memory:`), for prepared statements on hot
   * read paths. Read-only use.
   */
  readonly readHandle: Database.Database;
  /** Bytes in pages that hold data (free pages excluded): what a size budget is measured against. */
  usedBytes(): number;
  close(): Promise<void>;
}

export async function openDatabase(file: string): Promise<OpenedDatabase> {
  const resolved = prepareDatabaseFile(file);
  checkExistingDatabase(resolved);
  const writeHandle = openHandle(resolved, false);
  try {
    writeHandle.pragma('busy_timeout = 5000');
    writeHandle.pragma('journal_mode = WAL');
    writeHandle.pragma('synchronous = FULL');
    writeHandle.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    if (resolved !== ':memory:') checkWritable(resolved, writeHandle);
  } catch (error) {
    writeHandle.close();
    throw error instanceof TaskdeckError ? error : cannotOpen(resolved, error);
  }
  // An in-memory database cannot be shared between two handles: read through the writer then.
  let readHandle = writeHandle;
  if (resolved !== ':memory:') {
    try {
      readHandle = openHandle(resolved, true);
    } catch (error) {
      writeHandle.close();
      throw error;
    }
  }
  if (readHandle !== writeHandle) readHandle.pragma('busy_timeout = 5000');
  // The search index reads log lines through a view that calls it (migration 0003).
  for (const handle of new Set([writeHandle, readHandle])) handle.function('strip_ansi', { deterministic: true }, (text: unknown) => (typeof text === 'string' ? stripAnsi(text) : text));
  const writer = new Kysely<Schema>({ dialect: new SqliteDialect({ database: writeHandle }) });
  const reader = readHandle === writeHandle ? writer : new Kysely<Schema>({ dialect: new SqliteDialect({ database: readHandle }) });
  const writes = new WriteQueue(writer);
  let closed = false;
  return {
    file: resolved,
    writer,
    reader,
    writes,
    writeHandle,
    readHandle,
    usedBytes() {
      const pages = Number(writeHandle.pragma('page_count', { simple: true })) - Number(writeHandle.pragma('freelist_count', { simple: true }));
      return pages * Number(writeHandle.pragma('page_size', { simple: true }));
    },
    async close() {
      if (closed) return;
      closed = true;
      await writes.close();
      if (reader !== writer) await reader.destroy();
      await writer.destroy();
    },
  };
}

function openHandle(file: string, readonly: boolean): Database.Database {
  try {
    return new Database(file, { readonly, fileMustExist: readonly });
  } catch (error) {
    throw cannotOpen(file, error);
  }
}

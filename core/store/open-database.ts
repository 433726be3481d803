/**
 * Opens the SQLite file twice: one read-write connection that is the only writer, and one read-only
 * connection for history pages and exports, so a long read never waits behind a write (WAL).
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { TaskdeckError } from '../errors.js';
import type { Schema } from './schema.js';
import { stripAnsi } from './strip-ansi.js';

export interface OpenedDatabase {
  readonly file: string;
  readonly writer: Kysely<Schema>;
  readonly reader: Kysely<Schema>;
  /** Bytes in pages that hold data (free pages excluded): what a size budget is measured against. */
  usedBytes(): number;
  close(): Promise<void>;
}

export async function openDatabase(file: string): Promise<OpenedDatabase> {
  const resolved = file === ':memory:' ? file : path.resolve(file);
  if (resolved !== ':memory:') fs.mkdirSync(path.dirname(resolved), { recursive: true });
  const writeHandle = openHandle(resolved, false);
  try {
    writeHandle.pragma('journal_mode = WAL');
    writeHandle.pragma('synchronous = FULL');
    writeHandle.pragma('busy_timeout = 5000');
    writeHandle.pragma('wal_autocheckpoint = 10000');
    const check = writeHandle.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`quick_check says: ${String(check)}`);
  } catch (error) {
    writeHandle.close();
    throw storeError(resolved, error);
  }
  // An in-memory database cannot be shared between two handles: read through the writer then.
  const readHandle = resolved === ':memory:' ? writeHandle : openHandle(resolved, true);
  if (readHandle !== writeHandle) readHandle.pragma('busy_timeout = 5000');
  // The search index reads log lines through a view that calls it (migration 0003).
  for (const handle of new Set([writeHandle, readHandle])) handle.function('strip_ansi', { deterministic: true }, (text: unknown) => (typeof text === 'string' ? stripAnsi(text) : text));
  const writer = new Kysely<Schema>({ dialect: new SqliteDialect({ database: writeHandle }) });
  const reader = readHandle === writeHandle ? writer : new Kysely<Schema>({ dialect: new SqliteDialect({ database: readHandle }) });
  let closed = false;
  return {
    file: resolved,
    writer,
    reader,
    usedBytes() {
      const pages = Number(writeHandle.pragma('page_count', { simple: true })) - Number(writeHandle.pragma('freelist_count', { simple: true }));
      return pages * Number(writeHandle.pragma('page_size', { simple: true }));
    },
    async close() {
      if (closed) return;
      closed = true;
      if (reader !== writer) await reader.destroy();
      await writer.destroy();
    },
  };
}

function openHandle(file: string, readonly: boolean): Database.Database {
  try {
    return new Database(file, { readonly, fileMustExist: readonly });
  } catch (error) {
    throw storeError(file, error);
  }
}

function storeError(file: string, cause: unknown): TaskdeckError {
  const code = (cause as { code?: unknown })?.code;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new TaskdeckError('ERR_STORE', `cannot open the database ${file}: ${typeof code === 'string' ? `${code}: ` : ''}${reason}`, {
    status: 503,
    cause,
  });
}

/** What the figures were measured on: CPU, cores, memory, Node, SQLite, the code's commit, the load. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import Database from 'better-sqlite3';

export interface MachineNotes {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  sqlite: string;
  betterSqlite3: string;
  commit: string;
  loadAverageStart: number[];
  loadAverageEnd?: number[];
  tempDir: string;
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(execFileSync(process.execPath, ['-p', `JSON.stringify(require('${name}/package.json'))`], { encoding: 'utf8' })) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${head} + uncommitted changes` : head;
  } catch {
    return 'unknown';
  }
}

export function machineNotes(): MachineNotes {
  const db = new Database(':memory:');
  const sqlite = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  db.close();
  return {
    date: new Date().toISOString(),
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    sqlite,
    betterSqlite3: packageVersion('better-sqlite3'),
    commit: gitCommit(),
    loadAverageStart: os.loadavg().map((n) => Math.round(n * 100) / 100),
    tempDir: os.tmpdir(),
  };
}

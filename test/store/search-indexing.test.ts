import path from 'node:path';
import { expect } from 'chai';
import { migrateToLatest } from '../../core/store/migrate.js';
import { openDatabase, type OpenedDatabase } from '../../core/store/open-database.js';
import { SqliteRunRepository } from '../../core/store/sqlite-run-repository.js';
import type { LogLine, RunCompletion } from '../../core/tasks/run-repository.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

/** More lines than one indexing chunk, so the log is indexed in several background writes. */
const LINES = 5000;

function completion(id: string, finalLines: LogLine[]): RunCompletion {
  return {
    id,
    status: 'ok',
    finishedAt: Date.now(),
    elapsedUs: 1000,
    summary: 'ok',
    error: '',
    errorStack: '',
    dataJson: null,
    metadata: {},
    tags: [],
    logCount: LINES + 1,
    logsDropped: 0,
    progress: null,
    finalLines,
    dropLines: null,
  };
}

describe('search indexing of long logs', function () {
  this.timeout(30_000);
  let dir: string;
  let file: string;
  let db: OpenedDatabase;
  beforeEach(async () => {
    dir = makeTempDir();
    file = path.join(dir, 'taskdeck.db');
    db = await openDatabase(file);
    await migrateToLatest(db.writer);
  });
  afterEach(async () => {
    await db.close();
    removeDir(dir);
  });

  const indexedSeq = (id: string) => (db.writeHandle.prepare('SELECT log_indexed_seq FROM runs WHERE id = ?').pluck().get(id) as number | null);
  const ftsIntegrity = () => db.writeHandle.prepare("INSERT INTO log_search(log_search, rank) VALUES('integrity-check', 1)").run();

  /** A finished run of LINES lines, the last one holding `word`, written through `repository`. */
  async function writeLongRun(repository: SqliteRunRepository, id: string, word: string): Promise<void> {
    await repository.insertRun({ id, taskKey: 'long', taskTitle: 'Long', taskVersion: '', label: 'ad-hoc', args: {}, startedAt: Date.now(), origin: 'code' });
    const lines: LogLine[] = Array.from({ length: LINES }, (_, i) => ({ seq: i + 1, at: Date.now(), stream: 'log', msg: i === LINES - 1 ? `last line ${word}` : `line ${i + 1}` }));
    await repository.writeTurn(id, { lines: lines.slice(0, LINES - 100) });
    await repository.completeRun(completion(id, [...lines.slice(LINES - 100), { seq: LINES + 1, at: Date.now(), stream: 'system', msg: 'task [Long] completed' }]));
  }

  it('makes a long log searchable once flushed, its last lines committed with the outcome', async () => {
    const repository = new SqliteRunRepository(db);
    await writeLongRun(repository, 'run-1', 'zebra');
    expect((await repository.getRun('run-1'))?.status).to.equal('ok');
    expect(await repository.getLogs('run-1')).to.have.length(LINES + 1);
    await repository.flush();
    expect(indexedSeq('run-1')).to.equal(null);
    expect((await repository.listRuns({ q: 'zebra' })).runs.map((r) => r.id)).to.deep.equal(['run-1']);
    expect((await repository.listRuns({ q: 'completed' })).runs.map((r) => r.id)).to.deep.equal(['run-1']);
    await repository.close();
    expect(() => ftsIntegrity()).not.to.throw();
  });

  it('takes indexing up again at the next start-up when the process stopped in the middle', async () => {
    const first = new SqliteRunRepository(db);
    await writeLongRun(first, 'run-2', 'okapi');
    // Closing stops indexing after its current chunk, as a crash would stop it anywhere.
    await first.close();
    expect(indexedSeq('run-2'), 'the log was fully indexed before the stop').to.not.equal(null);
    expect((await first.listRuns({ q: 'okapi' })).runs).to.deep.equal([]);

    const second = new SqliteRunRepository(db);
    expect(await second.markInterrupted(Date.now())).to.equal(0);
    await second.flush();
    expect(indexedSeq('run-2')).to.equal(null);
    expect((await second.listRuns({ q: 'okapi' })).runs.map((r) => r.id)).to.deep.equal(['run-2']);
    await second.close();
    expect(() => ftsIntegrity()).not.to.throw();
  });

  it('deletes a run whose log is only partly indexed without corrupting the index', async () => {
    const first = new SqliteRunRepository(db);
    await writeLongRun(first, 'run-3', 'ibex');
    await first.close();
    expect(indexedSeq('run-3')).to.not.equal(null);

    const second = new SqliteRunRepository(db);
    expect(await second.deleteRuns(['run-3'])).to.equal(1);
    await second.flush();
    expect(await second.getRun('run-3')).to.equal(undefined);
    await second.close();
    expect(() => ftsIntegrity()).not.to.throw();
  });

  it('finds a short run the moment it is done, and deletes one not indexed yet without corrupting the index', async () => {
    const repository = new SqliteRunRepository(db);
    for (const [id, word] of [['short-1', 'heron'], ['short-2', 'egret']] as const) {
      await repository.insertRun({ id, taskKey: 'short', taskTitle: 'Short', taskVersion: '', label: 'ad-hoc', args: {}, startedAt: Date.now(), origin: 'code' });
      await repository.completeRun({ ...completion(id, [{ seq: 1, at: Date.now(), stream: 'log', msg: `a ${word}` }]), logCount: 1 });
    }
    // Queued before the background write that indexes it.
    expect(await repository.deleteRuns(['short-2'])).to.equal(1);
    expect((await repository.listRuns({ q: 'heron' })).runs.map((r) => r.id)).to.deep.equal(['short-1']);
    expect((await repository.listRuns({ q: 'egret' })).runs).to.deep.equal([]);
    await repository.flush();
    await repository.close();
    expect(() => ftsIntegrity()).not.to.throw();
  });

  it('indexes the lines of a run interrupted by a crash at the next start-up', async () => {
    const first = new SqliteRunRepository(db);
    await first.insertRun({ id: 'run-4', taskKey: 'long', taskTitle: 'Long', taskVersion: '', label: 'ad-hoc', args: {}, startedAt: Date.now(), origin: 'code' });
    await first.writeTurn('run-4', { lines: Array.from({ length: LINES }, (_, i) => ({ seq: i + 1, at: Date.now(), stream: 'log' as const, msg: `line ${i + 1} ${i === LINES - 1 ? 'walrus' : ''}` })) });
    await first.close();

    const second = new SqliteRunRepository(db);
    expect(await second.markInterrupted(Date.now())).to.equal(1);
    await second.flush();
    expect((await second.listRuns({ q: 'walrus' })).runs.map((r) => [r.id, r.status])).to.deep.equal([['run-4', 'interrupted']]);
    expect((await second.listRuns({ q: 'stopped' })).runs.map((r) => r.id), 'the error is searchable').to.deep.equal(['run-4']);
    await second.close();
    expect(() => ftsIntegrity()).not.to.throw();
  });
});

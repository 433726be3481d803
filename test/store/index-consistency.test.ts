import path from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import pino, { type Logger } from 'pino';
import { migrateToLatest } from '../../core/store/migrate.js';
import { openDatabase, type OpenedDatabase } from '../../core/store/open-database.js';
import { SqliteRunRepository } from '../../core/store/sqlite-run-repository.js';
import type { LogLine, RunCompletion } from '../../core/tasks/run-repository.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

function completion(id: string, finalLines: LogLine[], logCount: number): RunCompletion {
  return { id, status: 'ok', finishedAt: Date.now(), elapsedUs: 1000, summary: 'ok', error: '', errorStack: '', dataJson: null, metadata: {}, tags: [], logCount, logsDropped: 0, progress: null, finalLines, dropLines: null };
}

const lines = (count: number, from: number, word: string): LogLine[] =>
  Array.from({ length: count }, (_, i) => ({ seq: from + i, at: Date.now(), stream: 'log', msg: `line ${from + i} ${word}` }));

/** A logger whose records the test reads. */
function capturingLogger(): { logger: Logger; records: { level: number; msg: string; runId?: string }[] } {
  const records: { level: number; msg: string; runId?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) records.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, sink), records };
}

describe('search indexing stays consistent and moving', function () {
  this.timeout(60_000);
  let dir: string;
  let file: string;
  let db: OpenedDatabase;
  const opened: OpenedDatabase[] = [];
  beforeEach(async () => {
    dir = makeTempDir();
    file = path.join(dir, 'taskdeck.db');
    db = await openDatabase(file);
    await migrateToLatest(db.writer);
    opened.push(db);
  });
  afterEach(async () => {
    for (const each of opened.splice(0)) await each.close();
    removeDir(dir);
  });

  /** Another process on the same file (a CLI run beside the server). */
  async function openAgain(): Promise<OpenedDatabase> {
    const other = await openDatabase(file);
    opened.push(other);
    return other;
  }

  function expectIntact(on: OpenedDatabase): void {
    expect(on.writeHandle.pragma('integrity_check', { simple: true })).to.equal('ok');
    expect(() => on.writeHandle.prepare("INSERT INTO log_search(log_search) VALUES('integrity-check')").run(), 'log_search').not.to.throw();
    expect(() => on.writeHandle.prepare("INSERT INTO result_search(result_search) VALUES('integrity-check')").run(), 'result_search').not.to.throw();
  }

  const matches = (on: OpenedDatabase, word: string) => on.writeHandle.prepare('SELECT count(*) FROM log_search WHERE log_search MATCH ?').pluck().get(word);

  async function shortRun(repository: SqliteRunRepository, id: string, word: string, taskKey = 'short'): Promise<void> {
    await repository.insertRun({ id, taskKey, taskTitle: 'Short', taskVersion: '', label: 'ad-hoc', args: {}, startedAt: Date.now(), origin: 'code' });
    await repository.completeRun(completion(id, lines(1, 1, word), 1));
  }

  it('answers a text search while other runs keep finishing', async () => {
    const repository = new SqliteRunRepository(db);
    await shortRun(repository, 'wanted', 'heron');
    const events: string[] = [];
    const limit = 3000;
    let finished = 0;
    let answered = false;
    let warmedUp: () => void;
    const busy = new Promise<void>((resolve) => (warmedUp = resolve));
    const producer = async (worker: number) => {
      for (let i = 0; !answered && finished < limit; i++) {
        await shortRun(repository, `busy-${worker}-${i}`, 'other');
        if (++finished === 100) warmedUp();
      }
    };
    const producers = Promise.all(Array.from({ length: 10 }, (_, worker) => producer(worker))).then(() => events.push('producers stopped'));
    await busy;
    const page = await repository.listRuns({ q: 'heron' });
    answered = true;
    events.push('search answered');
    await producers;
    expect(events).to.deep.equal(['search answered', 'producers stopped']);
    expect(finished).to.be.below(limit);
    expect(page.runs.map((r) => r.id)).to.deep.equal(['wanted']);
    await repository.close();
  });

  it('logs a run whose indexing fails, sets it aside and indexes the others', async () => {
    const { logger, records } = capturingLogger();
    const repository = new SqliteRunRepository(db, { logger });
    // A run the index cannot take (here a trigger on this connection refuses it; in life a bug or a bad row).
    db.writeHandle.exec(`CREATE TEMP TRIGGER refuse_bad_run BEFORE UPDATE OF log_indexed_seq ON runs
      WHEN OLD.status != 'running' AND OLD.task_key = 'bad' BEGIN SELECT RAISE(ABORT, 'cannot index this run'); END`);
    await Promise.all([shortRun(repository, 'good-1', 'okapi'), shortRun(repository, 'bad-1', 'okapi', 'bad'), shortRun(repository, 'good-2', 'okapi')]);
    expect((await repository.listRuns({ q: 'okapi' })).runs.map((r) => r.id)).to.have.members(['good-1', 'good-2']);
    await shortRun(repository, 'good-3', 'okapi');
    expect((await repository.listRuns({ q: 'okapi' })).runs.map((r) => r.id), 'indexing goes on after').to.have.members(['good-1', 'good-2', 'good-3']);
    const setAside = records.filter((r) => r.runId === 'bad-1');
    expect(setAside.map((r) => r.msg)).to.deep.equal(['search indexing of run bad-1 (task bad) failed; it is set aside until the next start-up']);
    await repository.close();

    db.writeHandle.exec('DROP TRIGGER refuse_bad_run');
    const next = new SqliteRunRepository(db, { logger });
    await next.markInterrupted(Date.now());
    await next.flush();
    expect((await next.listRuns({ q: 'okapi' })).runs.map((r) => r.id), 'the next start-up indexes it').to.have.members(['good-1', 'bad-1', 'good-2', 'good-3']);
    await next.close();
    expectIntact(db);
  });

  it('indexes a run once when the server marks a CLI run interrupted and indexes it, and the CLI run goes on', async () => {
    const cli = new SqliteRunRepository(db);
    await cli.insertRun({ id: 'cli-run', taskKey: 't', taskTitle: 'T', taskVersion: '', label: 'ad-hoc', args: {}, startedAt: Date.now(), origin: 'cli' });
    await cli.writeTurn('cli-run', { lines: lines(50, 1, 'kiwi') });
    const serverDb = await openAgain();
    const server = new SqliteRunRepository(serverDb);
    expect(await server.markInterrupted(Date.now())).to.equal(1);
    await server.flush();
    expect(matches(serverDb, 'kiwi')).to.equal(50);
    // The CLI run goes on: more lines, a trim of lines the server indexed, then its outcome.
    await cli.writeTurn('cli-run', { lines: lines(20, 51, 'kiwi') });
    await cli.writeTurn('cli-run', { lines: [], dropLines: { fromSeq: 1, toSeq: 10 } });
    await cli.completeRun(completion('cli-run', lines(10, 71, 'kiwi'), 80));
    await cli.flush();
    expect((await server.getRun('cli-run'))?.status).to.equal('ok');
    expect(matches(serverDb, 'kiwi')).to.equal(70);
    expect((await server.listRuns({ q: 'kiwi' })).runs.map((r) => r.id)).to.deep.equal(['cli-run']);
    expect((await server.listRuns({ q: 'stopped' })).runs, 'the interrupted error is no longer indexed').to.deep.equal([]);
    await cli.close();
    await server.close();
    expectIntact(serverDb);
  });

  it('indexes a long log once when the CLI and the server index it at the same time', async () => {
    const cli = new SqliteRunRepository(db);
    await cli.insertRun({ id: 'long-run', taskKey: 't', taskTitle: 'T', taskVersion: '', label: 'ad-hoc', args: {}, startedAt: Date.now(), origin: 'cli' });
    await cli.writeTurn('long-run', { lines: lines(5000, 1, 'kiwi') });
    await cli.completeRun(completion('long-run', [], 5000));
    const serverDb = await openAgain();
    const server = new SqliteRunRepository(serverDb);
    expect(await server.markInterrupted(Date.now())).to.equal(0);
    await Promise.all([server.flush(), cli.flush()]);
    expect(matches(serverDb, 'kiwi')).to.equal(5000);
    expect(serverDb.writeHandle.prepare('SELECT log_indexed_seq FROM runs').pluck().get()).to.equal(null);
    await cli.close();
    await server.close();
    expectIntact(serverDb);
  });
});

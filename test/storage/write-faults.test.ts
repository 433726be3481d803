import path from 'node:path';
import { expect } from 'chai';
import { sql } from 'kysely';
import pino from 'pino';
import { migrateToLatest } from '../../core/store/migrate.js';
import { openDatabase, type OpenedDatabase } from '../../core/store/open-database.js';
import { SqliteRunRepository } from '../../core/store/sqlite-run-repository.js';
import { WriteQueue } from '../../core/store/write-queue.js';
import { TaskRegistry } from '../../core/tasks/registry.js';
import { isRetryableStoreError, type LogLine } from '../../core/tasks/run-repository.js';
import { normalizeTask } from '../../core/tasks/task.js';
import { TaskService } from '../../core/tasks/task-service.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { integrityCheck } from '../fixtures/db-file.js';

const diskFull = () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });

describe('storage: writes when the storage fails (SQLITE_FULL)', function () {
  this.timeout(30_000);
  let dir: string;
  let db: OpenedDatabase;
  beforeEach(async () => {
    dir = makeTempDir();
    db = await openDatabase(path.join(dir, 'taskdeck.db'));
    await migrateToLatest(db.writer);
    await sql`CREATE TABLE probe (n INTEGER PRIMARY KEY)`.execute(db.writer);
  });
  afterEach(async () => {
    await db.close();
    removeDir(dir);
  });

  const probeRows = async () => (await sql<{ n: number }>`SELECT n FROM probe ORDER BY n`.execute(db.reader)).rows.map((r) => r.n);

  describe('the write queue', () => {
    it('rejects the whole batch at once with a retryable ERR_STORE naming SQLITE_FULL, without retrying each write alone', async () => {
      const queue = new WriteQueue(db.writer);
      const calls = new Map<number, number>();
      const ops = Array.from({ length: 10 }, (_, n) =>
        queue.enqueue(async (trx) => {
          calls.set(n, (calls.get(n) ?? 0) + 1);
          if (n === 4) throw diskFull();
          await sql`INSERT INTO probe (n) VALUES (${n})`.execute(trx);
        }),
      );
      const outcomes = await Promise.allSettled(ops);
      expect(outcomes.map((o) => o.status)).to.deep.equal(Array(10).fill('rejected'));
      const reason = (outcomes[0] as PromiseRejectedResult).reason as Error & { status: number; headers: Record<string, string> };
      expect(isRetryableStoreError(reason)).to.equal(true);
      expect(reason.message).to.equal('cannot write to the database: SQLITE_FULL: database or disk is full');
      expect(reason.status).to.equal(503);
      expect(reason.headers['Retry-After']).to.equal('5');
      // Every write ran at most once: the ones after the failure not at all.
      expect([...calls.entries()]).to.deep.equal([[0, 1], [1, 1], [2, 1], [3, 1], [4, 1]]);
      expect(await probeRows(), 'the failed transaction was not rolled back').to.deep.equal([]);
    });

    it('waits longer before each commit while the storage keeps failing, and not at all after one succeeds', async () => {
      const queue = new WriteQueue(db.writer, { firstPauseMs: 40, maxPauseMs: 160 });
      const attempts: number[] = [];
      for (let i = 0; i < 5; i++) {
        await queue.enqueue(async () => {
          attempts.push(performance.now());
          throw diskFull();
        }).catch(() => undefined);
      }
      await queue.enqueue(async (trx) => {
        attempts.push(performance.now());
        await sql`INSERT INTO probe (n) VALUES (1)`.execute(trx);
      });
      await queue.enqueue(async (trx) => {
        attempts.push(performance.now());
        await sql`INSERT INTO probe (n) VALUES (2)`.execute(trx);
      });
      const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
      // Pauses of 40, 80, 160, 160 ms (capped), 160 ms before the commit that succeeds, then none.
      [40, 80, 160, 160, 160].forEach((pause, i) => expect(gaps[i], `gap ${i}`).to.be.at.least(pause - 5));
      expect(gaps[5], 'still pausing after a successful commit').to.be.below(35);
      expect(await probeRows()).to.deep.equal([1, 2]);
    });

    it('still commits the rest of a batch when one write fails on its own (a constraint), failing only that one', async () => {
      const queue = new WriteQueue(db.writer);
      const ops = [1, 2, 2, 3].map((n) => queue.enqueue(async (trx) => void (await sql`INSERT INTO probe (n) VALUES (${n})`.execute(trx))));
      const outcomes = await Promise.allSettled(ops);
      expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      expect(isRetryableStoreError((outcomes[2] as PromiseRejectedResult).reason)).to.equal(false);
      expect(await probeRows()).to.deep.equal([1, 2, 3]);
    });

    it('keeps what was committed before a real SQLITE_FULL, and writes again once there is room', async () => {
      const queue = new WriteQueue(db.writer, { firstPauseMs: 10, maxPauseMs: 10 });
      await sql`CREATE TABLE blob (b BLOB)`.execute(db.writer);
      const pages = Number((await sql<{ page_count: number }>`PRAGMA page_count`.execute(db.writer)).rows[0]!.page_count);
      await sql.raw(`PRAGMA max_page_count = ${pages + 8}`).execute(db.writer);
      await queue.enqueue(async (trx) => void (await sql`INSERT INTO probe (n) VALUES (1)`.execute(trx)));
      const big = queue.enqueue(async (trx) => void (await sql`INSERT INTO blob (b) VALUES (zeroblob(200000))`.execute(trx)));
      const error = await big.then(() => null, (e: unknown) => e);
      expect(isRetryableStoreError(error), String(error)).to.equal(true);
      expect((error as Error).message).to.match(/^cannot write to the database: SQLITE_FULL: database or disk is full$/);
      expect(await probeRows()).to.deep.equal([1]);
      await sql.raw('PRAGMA max_page_count = 1073741823').execute(db.writer);
      await queue.enqueue(async (trx) => void (await sql`INSERT INTO probe (n) VALUES (2)`.execute(trx)));
      expect(await probeRows()).to.deep.equal([1, 2]);
      await queue.close();
      expect(integrityCheck(path.join(dir, 'taskdeck.db'))).to.equal('ok');
    });

    it('commits a background write after the ordinary writes queued with it, in a commit of its own', async () => {
      const queue = new WriteQueue(db.writer);
      const order: string[] = [];
      const write = (name: string, n: number, background = false) =>
        queue.enqueue(async (trx) => {
          order.push(name);
          await sql`INSERT INTO probe (n) VALUES (${n})`.execute(trx);
        }, { background });
      const outcomes = await Promise.allSettled([write('index', 1, true), write('first', 2), write('bad', 2), write('second', 3)]);
      expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      // The bad write made its batch retry write by write; the background write was never part of it.
      expect(order).to.deep.equal(['first', 'bad', 'first', 'bad', 'second', 'index']);
      expect(await probeRows()).to.deep.equal([1, 2, 3]);
    });

    it('refuses writes once closed, with an error that is not worth a retry', async () => {
      const queue = new WriteQueue(db.writer);
      await queue.close();
      const error = await queue.enqueue(async () => undefined).then(() => null, (e: unknown) => e);
      expect(error).to.be.an('error').with.property('code', 'ERR_STORE');
      expect(isRetryableStoreError(error)).to.equal(false);
    });
  });

  describe('a run', () => {
    it('ends `error` saying so when its outcome cannot be recorded at all (the store closed under it), not `ok`', async () => {
      const repository = new SqliteRunRepository(db);
      const registry = new TaskRegistry();
      const service = new TaskService({ registry, repository, logger: pino({ level: 'silent' }), limits: { maxLineLength: 16384, maxDataBytes: 1 << 20, maxLogLines: 100_000 } });
      let release = () => undefined as void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      registry.register(normalizeTask({ key: 'late', run: async () => { await gate; return 'done'; } }, { kind: 'dynamic', by: 'test' }));
      registry.register(normalizeTask({ key: 'late-failing', run: async () => { await gate; throw new Error('boom'); } }, { kind: 'dynamic', by: 'test' }));
      const ok = await service.start(registry.require('late'), {});
      const failing = await service.start(registry.require('late-failing'), {});
      await repository.close();
      release();
      const [okResult, failingResult] = await Promise.all([ok.done, failing.done]);
      expect(okResult.status).to.equal('error');
      expect(okResult.error).to.match(/^storage: the outcome could not be recorded \(.+\)$/);
      expect(failingResult.status).to.equal('error');
      expect(failingResult.error).to.match(/^storage: the outcome could not be recorded \(.+\); the run itself ended error: boom$/);
      // What history holds: still running, which the next start-up turns into `interrupted`.
      const rows = (await sql<{ status: string }>`SELECT status FROM runs ORDER BY num`.execute(db.reader)).rows.map((r) => r.status);
      expect(rows).to.deep.equal(['running', 'running']);
    });

    it('ends `error` with "storage: …" when its log cannot be written, after showing only lines that were committed', async () => {
      const repository = new SqliteRunRepository(db);
      const registry = new TaskRegistry();
      const logger = pino({ level: 'silent' });
      const service = new TaskService({ registry, repository, logger, limits: { maxLineLength: 16384, maxDataBytes: 1 << 20, maxLogLines: 100_000 } });
      let logged = () => undefined as void;
      const taskDone = new Promise<void>((resolve) => (logged = resolve));
      registry.register(normalizeTask({
        key: 'flood',
        run: async ({ log }: { log: (...parts: unknown[]) => void }) => {
          for (let i = 1; i <= 3000; i++) {
            log(`line ${i} ${'x'.repeat(200)}`);
            if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
          }
          logged();
          return { lines: 3000 };
        },
      }, { kind: 'dynamic', by: 'test' }));
      registry.register(normalizeTask({ key: 'small', run: ({ log }: { log: (m: string) => void }) => log('fits') }, { kind: 'dynamic', by: 'test' }));

      const pages = Number((await sql<{ page_count: number }>`PRAGMA page_count`.execute(db.writer)).rows[0]!.page_count);
      await sql.raw(`PRAGMA max_page_count = ${pages + 40}`).execute(db.writer);
      const live = await service.start(registry.require('flood'), {});
      const shown: LogLine[] = [];
      live.subscribe((event) => void (event.type === 'log' && shown.push(event.line)));
      await taskDone;
      await new Promise((resolve) => setTimeout(resolve, 300));
      // The outcome cannot be written either (it indexes the log for search): the run waits, recorded as running.
      const meanwhile = await service.getStoredRun(live.id);
      expect(meanwhile.status).to.be.oneOf(['running', 'error']);
      await sql.raw('PRAGMA max_page_count = 1073741823').execute(db.writer);
      const result = await live.done;

      expect(result.status).to.equal('error');
      expect(result.error).to.match(/^storage: cannot write to the database: SQLITE_FULL: database or disk is full \(\d+ log line\(s\) could not be recorded\)$/);
      const stored = await service.getStoredRun(live.id);
      expect(stored).to.include({ status: 'error', error: result.error });
      const logs = await service.getLogs(live.id);
      expect(shown.length).to.be.greaterThan(0);
      expect(logs.length, 'every line fitted: the test did not fill the database').to.be.below(3001);
      // What subscribers saw is exactly what the database holds: nothing shown was lost.
      expect(logs.map((l) => `${l.seq} ${l.msg}`)).to.deep.equal(shown.map((l) => `${l.seq} ${l.msg}`));

      const next = await service.run('small');
      expect(next.status).to.equal('ok');
      await service.stop();
      await repository.close();
      expect(integrityCheck(path.join(dir, 'taskdeck.db'))).to.equal('ok');
    });
  });
});

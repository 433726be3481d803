import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import pino from 'pino';
import { migrateToLatest } from '../../core/store/migrate.js';
import { openDatabase, type OpenedDatabase } from '../../core/store/open-database.js';
import { SqliteRunRepository } from '../../core/store/sqlite-run-repository.js';
import { TaskRegistry } from '../../core/tasks/registry.js';
import type { RunRepository, RunTurn } from '../../core/tasks/run-repository.js';
import { normalizeTask } from '../../core/tasks/task.js';
import { TaskService } from '../../core/tasks/task-service.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

type Call = [method: string, ...details: unknown[]];

/** The repository, recording each write the task layer asks of it. */
function recording(repository: RunRepository, calls: Call[]): RunRepository {
  return new Proxy(repository, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (key === 'writeTurn') calls.push(['writeTurn', (args[1] as RunTurn).lines.map((l) => l.msg), args[1]]);
        else if (key === 'completeRun') calls.push(['completeRun', (args[0] as { finalLines: { msg: string }[] }).finalLines.map((l) => l.msg)]);
        else if (key === 'insertRun') calls.push([key]);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe('the write path of a run', function () {
  this.timeout(30_000);
  let dir: string;
  let db: OpenedDatabase;
  let repository: SqliteRunRepository;
  let service: TaskService;
  let registry: TaskRegistry;
  let calls: Call[];
  beforeEach(async () => {
    dir = makeTempDir();
    db = await openDatabase(path.join(dir, 'taskdeck.db'));
    await migrateToLatest(db.writer);
    repository = new SqliteRunRepository(db);
    registry = new TaskRegistry();
    calls = [];
    service = new TaskService({ registry, repository: recording(repository, calls), logger: pino({ level: 'silent' }), limits: { maxLineLength: 16384, maxDataBytes: 1 << 20, maxLogLines: 100_000 } });
  });
  afterEach(async () => {
    await service.stop();
    await repository.close();
    await db.close();
    removeDir(dir);
  });

  const register = (def: Record<string, unknown>) => registry.register(normalizeTask(def as never, { kind: 'dynamic', by: 'test' }));

  it('writes a task that logs and returns within one turn as its row, then its lines with its outcome', async () => {
    register({ key: 'quick', title: 'Quick', run: ({ log }: { log: (m: string) => void }) => log('noop') });
    const result = await service.run('quick');
    expect(calls.map(([method]) => method)).to.deep.equal(['insertRun', 'completeRun']);
    expect(calls[1]![1]).to.deep.equal(result.logs);
    expect((await repository.getLogs(result.id)).map((l) => l.msg)).to.deep.equal(result.logs);
  });

  it('hands a subscriber each line only once it is committed, in order, while batches are queued back to back', async () => {
    const reader = new Database(path.join(dir, 'taskdeck.db'), { readonly: true });
    const storedMsg = reader.prepare('SELECT msg FROM run_logs WHERE run_num = (SELECT num FROM runs WHERE id = ?) AND seq = ?').pluck();
    let release = () => undefined as void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    register({
      key: 'turns',
      run: async ({ log }: { log: (m: string) => void }) => {
        await gate;
        for (let turn = 1; turn <= 20; turn++) {
          for (let i = 1; i <= 50; i++) log(`turn ${turn} line ${i}`);
          await nextTurn();
        }
      },
    });
    try {
      const live = await service.start(registry.require('turns'), {});
      const seen: { seq: number; msg: string; stored: unknown }[] = [];
      live.subscribe((event) => {
        if (event.type === 'log') seen.push({ seq: event.line.seq, msg: event.line.msg, stored: storedMsg.get(live.id, event.line.seq) });
      });
      release();
      const result = await live.done;
      expect(seen.map((s) => s.seq)).to.deep.equal(result.logs.map((_, i) => i + 1));
      expect(seen.filter((s) => s.stored !== s.msg), 'lines handed out before their commit').to.deep.equal([]);
      expect(calls.filter(([method]) => method === 'writeTurn').length, 'one write per turn of logging').to.be.within(2, 21);
    } finally {
      reader.close();
    }
  });

  it('records a line logged in the last turn with the outcome, and the run is searchable when done', async () => {
    register({ key: 'last-word', run: async ({ log }: { log: (m: string) => void }) => { log('early'); await nextTurn(); await nextTurn(); log('farewell'); } });
    const result = await service.run('last-word');
    expect(calls.map(([method]) => method)).to.deep.equal(['insertRun', 'writeTurn', 'completeRun']);
    expect(calls.at(-1)![1]).to.deep.equal(['farewell', result.logs.at(-1)]);
    expect((await repository.listRuns({ q: 'farewell' })).runs.map((r) => r.id)).to.deep.equal([result.id]);
  });

  it('writes a turn\'s lines, progress and trim in one write, and does a trim again whose write failed', async () => {
    // A user function lets the test refuse every delete from run_logs for a while.
    let refusing = false;
    db.writeHandle.function('refuse_trim', () => {
      if (refusing) throw new Error('trim refused by the test');
      return 0;
    });
    db.writeHandle.exec('CREATE TEMP TRIGGER refuse_trim BEFORE DELETE ON run_logs BEGIN SELECT refuse_trim(); END');
    const capped = new TaskService({ registry, repository: recording(repository, calls), logger: pino({ level: 'silent' }), limits: { maxLineLength: 16384, maxDataBytes: 1 << 20, maxLogLines: 100 } });
    // Each step ends once the turn's write is queued (after the turn) and has committed or failed.
    const settle = async () => {
      await nextTurn();
      await repository.flush();
    };
    register({
      key: 'capped',
      run: async ({ log, result }: { log: (m: string) => void; result: { progress(done: number, total: number): void } }) => {
        // Under the trim step: committed, no trim.
        for (let i = 1; i <= 1040; i++) log(`line ${i}`);
        await settle();
        refusing = true;
        // Lines 51-1090 are now past the head and out of the tail: this turn's write trims them, and fails.
        for (let i = 1041; i <= 1140; i++) log(`line ${i}`);
        result.progress(1, 2);
        await settle();
        refusing = false;
        log('after the refused trim');
      },
    });
    try {
      const live = await capped.start(registry.require('capped'), {});
      const seen: number[] = [];
      live.subscribe((event) => {
        if (event.type === 'log') seen.push(event.line.seq);
      });
      const result = await live.done;
      const turns = calls.filter(([method]) => method === 'writeTurn').map(([, , turn]) => turn as RunTurn);
      expect(turns.map((t) => [t.lines.length, t.progress ?? null, t.dropLines ?? null])).to.deep.equal([
        [1040, null, null],
        [100, { done: 1, total: 2, message: '' }, { fromSeq: 51, toSeq: 1090 }],
      ]);
      expect(result.status).to.equal('error');
      expect(result.error).to.match(/^storage: .*trim refused by the test.* \(100 log line\(s\) could not be recorded\)$/);
      const stored = (await repository.getLogs(live.id)).map((l) => l.seq);
      expect(stored.filter((seq) => !seen.includes(seq)), 'stored lines never shown').to.deep.equal([]);
      expect(stored.filter((seq) => seq > 50 && seq <= live.lastSeq - 50), 'lines of the middle left in the store').to.deep.equal([]);
      expect(stored.filter((seq) => seq <= 50)).to.have.length(50);
    } finally {
      await capped.stop();
    }
  });
});

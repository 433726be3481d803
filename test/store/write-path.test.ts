import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import pino from 'pino';
import { migrateToLatest } from '../../core/store/migrate.js';
import { openDatabase, type OpenedDatabase } from '../../core/store/open-database.js';
import { SqliteRunRepository } from '../../core/store/sqlite-run-repository.js';
import { TaskRegistry } from '../../core/tasks/registry.js';
import type { RunRepository } from '../../core/tasks/run-repository.js';
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
        if (key === 'appendLogs') calls.push(['appendLogs', (args[1] as { msg: string }[]).map((l) => l.msg)]);
        else if (key === 'completeRun') calls.push(['completeRun', (args[0] as { finalLines: { msg: string }[] }).finalLines.map((l) => l.msg)]);
        else if (key === 'insertRun' || key === 'saveProgress' || key === 'dropLogs') calls.push([key]);
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
      expect(calls.filter(([method]) => method === 'appendLogs').length, 'one write per turn of logging').to.be.within(2, 21);
    } finally {
      reader.close();
    }
  });

  it('records a line logged in the last turn with the outcome, and the run is searchable when done', async () => {
    register({ key: 'last-word', run: async ({ log }: { log: (m: string) => void }) => { log('early'); await nextTurn(); await nextTurn(); log('farewell'); } });
    const result = await service.run('last-word');
    expect(calls.map(([method]) => method)).to.deep.equal(['insertRun', 'appendLogs', 'completeRun']);
    expect(calls.at(-1)![1]).to.deep.equal(['farewell', result.logs.at(-1)]);
    expect((await repository.listRuns({ q: 'farewell' })).runs.map((r) => r.id)).to.deep.equal([result.id]);
  });
});

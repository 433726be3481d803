import path from 'node:path';
import { expect } from 'chai';
import { migrateToLatest } from '../../core/store/migrate.js';
import { openDatabase, type OpenedDatabase } from '../../core/store/open-database.js';
import { SqliteRunRepository } from '../../core/store/sqlite-run-repository.js';
import type { RunCompletion } from '../../core/tasks/run-repository.js';
import { up as uniqueRunArgs } from '../../migrations/0006_unique_run_args.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

function completion(id: string): RunCompletion {
  return { id, status: 'ok', finishedAt: Date.now(), elapsedUs: 1000, summary: 'ok', error: '', errorStack: '', dataJson: null, metadata: {}, tags: [], logCount: 0, logsDropped: 0, progress: null, finalLines: [], dropLines: null };
}

describe('argument filters on run history', () => {
  let dir: string;
  let db: OpenedDatabase;
  let repository: SqliteRunRepository;
  beforeEach(async () => {
    dir = makeTempDir();
    db = await openDatabase(path.join(dir, 'taskdeck.db'));
    await migrateToLatest(db.writer);
    repository = new SqliteRunRepository(db);
  });
  afterEach(async () => {
    await repository.close();
    await db.close();
    removeDir(dir);
  });

  async function run(id: string, args: Record<string, unknown>): Promise<void> {
    await repository.insertRun({ id, taskKey: 'deploy', taskTitle: 'Deploy', taskVersion: '', label: 'ad-hoc', args, startedAt: Date.now(), origin: 'code' });
    await repository.completeRun(completion(id));
  }

  it('lists a run once when a list argument repeats the value filtered on, in pages and in an export', async () => {
    for (let i = 1; i <= 5; i++) await run(`run-${i}`, { env: i % 2 ? ['prod', 'prod', 'eu'] : ['staging'], n: [i, String(i)] });
    const filter = { args: { env: 'prod' } };
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await repository.listRuns(filter, { limit: 2, cursor });
      paged.push(...page.runs.map((r) => r.id));
      cursor = page.next;
    } while (cursor);
    expect(paged).to.deep.equal(['run-5', 'run-3', 'run-1']);
    const exported: string[] = [];
    for await (const rows of repository.streamRunRows(filter)) exported.push(...rows.map((r) => r.id));
    expect(exported).to.deep.equal(['run-5', 'run-3', 'run-1']);
    // A number and its text are one value as an argument filter sees them.
    expect((await repository.listRuns({ args: { n: '3' } })).runs.map((r) => r.id)).to.deep.equal(['run-3']);
    expect((await repository.listRuns({ args: { env: 'prod', n: '1' } })).runs.map((r) => r.id)).to.deep.equal(['run-1']);
  });

  it('migration 0006 keeps one row of each repeated argument value and makes the lookup index unique', async () => {
    await run('old-run', { env: ['prod'] });
    // The schema before 0006: a plain index, and the duplicate row an older writer left.
    db.writeHandle.exec(`DROP INDEX run_args_lookup;
      CREATE INDEX run_args_lookup ON run_args (name, value, run_num);
      INSERT INTO run_args (name, value, run_num) SELECT name, value, run_num FROM run_args;`);
    const rows = () => db.writeHandle.prepare('SELECT name, value, run_num FROM run_args ORDER BY rowid').all();
    expect(rows()).to.have.length(2);
    await uniqueRunArgs(db.writer);
    expect(rows()).to.have.length(1);
    const index = (db.writeHandle.pragma('index_list(run_args)') as { name: string; unique: number }[]).find((i) => i.name === 'run_args_lookup');
    expect(index?.unique).to.equal(1);
    expect((await repository.listRuns({ args: { env: 'prod' } })).runs.map((r) => r.id)).to.deep.equal(['old-run']);
  });
});

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { bootKernel } from '../helpers/boot-kernel.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { sha256 } from '../fixtures/db-file.js';
import { startServerExpectingFailure, type Exit } from '../fixtures/server-process.js';

/** A real history database (a few hundred KB) to damage. */
async function healthyDatabase(dir: string): Promise<Buffer> {
  const t = await bootKernel({ dir });
  t.kernel.registerTask({ key: 'fill', run: ({ log }) => { for (let i = 0; i < 200; i++) log(`line ${i} ${'x'.repeat(60)}`); } });
  for (let i = 0; i < 20; i++) await t.kernel.service.run('fill');
  await t.stop();
  return fs.readFileSync(t.dbFile);
}

describe('storage: a damaged database file is refused, never replaced', function () {
  this.timeout(120_000);
  let dir: string;
  const cases: Record<string, { bytes: (healthy: Buffer) => Buffer; code: RegExp }> = {
    'random bytes': { bytes: () => randomBytes(64 * 1024), code: /SQLITE_NOTADB: file is not a database/ },
    'a text file': { bytes: () => Buffer.from('these are my notes, not a database\n'.repeat(200)), code: /SQLITE_NOTADB: file is not a database/ },
    'a database truncated to half its size': { bytes: (healthy) => healthy.subarray(0, Math.floor(healthy.length / 8192) * 4096), code: /SQLITE_CORRUPT/ },
    'a database with one page overwritten': {
      bytes: (healthy) => {
        const damaged = Buffer.from(healthy);
        randomBytes(4096).copy(damaged, 4 * 4096);
        return damaged;
      },
      code: /SQLITE_CORRUPT/,
    },
  };
  const outcomes = new Map<string, { file: string; before: string; exit: Exit & { served: boolean } }>();

  before(async () => {
    dir = makeTempDir();
    const healthy = await healthyDatabase(path.join(dir, 'healthy'));
    fs.mkdirSync(path.join(dir, 'plugins'));
    // Every case is a real process, started together: start-up is most of their cost.
    await Promise.all(
      Object.entries(cases).map(async ([name, { bytes }], i) => {
        const file = path.join(dir, `case-${i}`, 'taskdeck.db');
        fs.mkdirSync(path.dirname(file));
        fs.writeFileSync(file, bytes(healthy));
        const before = sha256(file);
        const exit = await startServerExpectingFailure({ db: file, plugins: path.join(dir, 'plugins') });
        outcomes.set(name, { file, before, exit });
      }),
    );
  });
  after(() => removeDir(dir));

  for (const [name, { code }] of Object.entries(cases)) {
    it(`refuses ${name}: exit 1, naming the file and SQLite's error, the bytes untouched`, () => {
      const { file, before, exit } = outcomes.get(name)!;
      expect(exit.served, 'the server started on a damaged file').to.equal(false);
      expect(exit.code).to.equal(1);
      expect(exit.stderr).to.include(`taskdeck: cannot open the database ${file}: `);
      expect(exit.stderr).to.match(code);
      expect(exit.stderr).to.include('taskdeck neither repairs nor replaces it');
      expect(sha256(file), 'the damaged file was modified').to.equal(before);
      // Nothing was migrated into a new file beside it either.
      expect(fs.readdirSync(path.dirname(file)).filter((f) => !/^taskdeck\.db(\.lock|-wal|-shm)?$/.test(f))).to.deep.equal([]);
    });
  }

  it('takes an empty (0-byte) file for a new database, as SQLite does', async () => {
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    fs.writeFileSync(path.join(empty, 'taskdeck.db'), '');
    const t = await bootKernel({ dir: empty });
    try {
      t.kernel.registerTask({ key: 'hello', run: () => 'hi' });
      expect((await t.kernel.service.run('hello')).status).to.equal('ok');
    } finally {
      await t.stop();
    }
  });
});

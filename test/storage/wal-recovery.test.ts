import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';
import { expect } from 'chai';
import { killMidRun } from '../fixtures/kill-mid-run.js';
import { bootKernel } from '../helpers/boot-kernel.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { integrityCheck } from '../fixtures/db-file.js';

/** Records every call that could remove, move or shorten a file, while `work` runs. */
async function watchFileRemovals<T>(work: () => Promise<T>): Promise<{ result: T; calls: string[] }> {
  const calls: string[] = [];
  const targets: [Record<string, unknown>, string[]][] = [
    [fs as unknown as Record<string, unknown>, ['unlink', 'unlinkSync', 'rm', 'rmSync', 'rename', 'renameSync', 'truncate', 'truncateSync', 'rmdirSync']],
    [fs.promises as unknown as Record<string, unknown>, ['unlink', 'rm', 'rename', 'truncate']],
  ];
  const originals: [Record<string, unknown>, string, unknown][] = [];
  for (const [owner, names] of targets) {
    for (const name of names) {
      const original = owner[name] as (...args: unknown[]) => unknown;
      originals.push([owner, name, original]);
      owner[name] = function (this: unknown, ...args: unknown[]) {
        calls.push(`${name}(${String(args[0])})`);
        return original.apply(this, args);
      };
    }
  }
  syncBuiltinESMExports(); // so `import { unlink } from 'node:fs'` sees the spies too
  try {
    return { result: await work(), calls };
  } finally {
    for (const [owner, name, original] of originals) owner[name] = original;
    syncBuiltinESMExports();
  }
}

describe('storage: the -wal and -shm a crash leaves behind', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = makeTempDir();
  });
  after(() => removeDir(dir));

  it('are recovered when the database opens (committed lines come back) and never deleted by taskdeck', async () => {
    const { runId, seenSeq } = await killMidRun(dir);

    const db = path.join(dir, 'taskdeck.db');
    // The committed lines live only in the WAL: the checkpoint threshold (10,000 pages) was never reached.
    expect(fs.statSync(`${db}-wal`).size, 'the crash left no WAL to recover').to.be.greaterThan(0);
    expect(fs.existsSync(`${db}-shm`)).to.equal(true);

    const canary = path.join(dir, 'canary');
    const { result: restarted, calls } = await watchFileRemovals(async () => {
      const kernel = await bootKernel({ dir });
      fs.rmSync(canary, { force: true }); // proves the spies see a removal
      return kernel;
    });
    try {
      expect(calls).to.include(`rmSync(${canary})`);
      expect(calls.filter((call) => /-(wal|shm)\b/.test(call))).to.deep.equal([]);
      expect(calls.filter((call) => call.includes('taskdeck.db'))).to.deep.equal([]);
      expect(fs.existsSync(`${db}-wal`), 'the WAL was removed while the server runs').to.equal(true);
      const run = await restarted.kernel.service.getStoredRun(runId);
      expect(run.status).to.equal('interrupted');
      const logs = await restarted.kernel.service.getLogs(runId);
      expect(logs.length).to.be.at.least(seenSeq);
      expect(logs.slice(0, seenSeq).map((l) => `${l.seq} ${l.msg}`)).to.deep.equal(Array.from({ length: seenSeq }, (_, i) => `${i + 1} line ${i + 1}`));
    } finally {
      await restarted.stop();
    }
    expect(integrityCheck(db)).to.equal('ok');
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { LineWatcher } from './process-helpers.js';

const PLUGINS = path.resolve(import.meta.dirname, '../../plugins');

describe('example plugins: commands and isolated work', function () {
  this.timeout(30_000);
  let t: TestKernel;
  let root: string;
  let outside: string;
  const savedRoot = process.env.DISK_USAGE_ROOT;
  before(async () => {
    root = makeTempDir('taskdeck-du-root-');
    outside = makeTempDir('taskdeck-du-outside-');
    fs.mkdirSync(path.join(root, 'data', 'deep'), { recursive: true });
    fs.writeFileSync(path.join(root, 'data', 'deep', 'file.bin'), Buffer.alloc(64 * 1024, 1));
    fs.mkdirSync(path.join(root, '--files0-from=x'));
    fs.symlinkSync(outside, path.join(root, 'escape'));
    // disk-usage reads its root when the plugin is imported
    process.env.DISK_USAGE_ROOT = root;
    t = await bootKernel({ config: { plugins: PLUGINS } });
  });
  after(async () => {
    if (savedRoot === undefined) delete process.env.DISK_USAGE_ROOT;
    else process.env.DISK_USAGE_ROOT = savedRoot;
    await t.cleanup();
    removeDir(root);
    removeDir(outside);
  });

  it('loads every example plugin', () => {
    expect(t.kernel.plugins.failures()).to.deep.equal([]);
    expect(t.kernel.registry.list().map((task) => task.key)).to.include.members(['disk-usage', 'colour-progress', 'count-primes']);
  });

  describe('disk-usage', () => {
    it('runs du -sh on a folder under the root and returns its size', async () => {
      const result = await t.kernel.service.run('disk-usage', { folder: 'data' });
      expect(result.status).to.equal('ok');
      expect(result.data).to.have.property('folder', 'data');
      expect((result.data as { size: string }).size).to.match(/^\d+(\.\d+)?[KMG]$/);
      expect(result.logs[0]).to.equal(`$ du -sh -- ${fs.realpathSync(path.join(root, 'data'))}`);
      expect(result.metadata).to.include({ exitCode: 0 });
    });

    it('refuses a folder outside the root, by .. or through a symlink, and runs nothing', async () => {
      for (const folder of ['..', '../..', '/etc', 'escape']) {
        const result = await t.kernel.service.run('disk-usage', { folder });
        expect(result.status, folder).to.equal('error');
        expect(result.error, folder).to.match(/is outside .*: refused$/);
        expect(result.logs.some((l) => l.startsWith('$ ')), folder).to.equal(false);
      }
    });

    it('passes a folder that looks like an option as a path after --, never as an option', async () => {
      const result = await t.kernel.service.run('disk-usage', { folder: '--files0-from=x' });
      expect(result.status).to.equal('ok');
      expect(result.logs[0]).to.match(/^\$ du -sh -- \S+\/--files0-from=x$/);
      const missing = await t.kernel.service.run('disk-usage', { folder: '--files0-from=/etc/passwd' });
      expect(missing.error).to.match(/does not exist under/);
    });
  });

  describe('colour-progress', () => {
    it('keeps the colours, logs only the last state of each \\r line, and drives the progress bar', async () => {
      const result = await t.kernel.service.run('colour-progress', { steps: 10, delay: 5 });
      expect(result.status).to.equal('ok');
      expect(result.logs).to.include('\u001b[1;32mdone\u001b[0m');
      expect(result.logs).to.include('progress  50%');
      expect(result.logs).to.include('progress 100%');
      expect(result.logs.filter((l) => l.startsWith('progress'))).to.have.length(2);
      expect((await t.kernel.service.getStoredRun(result.id)).progress).to.deep.equal({ done: 100, total: 100, message: 'progress 100%' });
      const stderr = (await t.kernel.service.getLogs(result.id)).filter((l) => l.stream === 'stderr');
      expect(stderr.map((l) => l.msg)).to.deep.equal(['\u001b[33mwarning\u001b[0m half-way there']);
    });

    it('is cancelled half-way: the script is stopped', async () => {
      const live = await t.kernel.service.start(t.kernel.registry.require('colour-progress'), { steps: 1000, delay: 20 });
      await new LineWatcher(live).next(/starting 1000 steps/);
      expect((await t.kernel.service.cancel(live.id)).status).to.equal('cancelled');
    });
  });

  describe('count-primes', () => {
    it('is isolated, counts in a worker and reports progress', async () => {
      expect(t.kernel.registry.require('count-primes').isolate?.kind).to.equal('worker');
      const result = await t.kernel.service.run('count-primes', { limit: 100_000 });
      expect(result.status).to.equal('ok');
      expect(result.data).to.deep.equal({ limit: 100_000, primes: 9592 });
      expect((await t.kernel.service.getStoredRun(result.id)).progress).to.deep.include({ done: 100_000, total: 100_000 });
    });

    it('stops at its next chunk when cancelled', async () => {
      const task = t.kernel.registry.require('count-primes');
      const live = await t.kernel.service.start(task, { limit: 2_000_000_000 });
      await new LineWatcher(live).next(/^counting the primes/);
      const result = await t.kernel.service.cancel(live.id);
      expect(result.status).to.equal('cancelled');
    });
  });
});

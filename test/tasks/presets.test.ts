import { expect } from 'chai';
import { bootKernel } from '../helpers/boot-kernel.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

const backupPlugin = `export default {
  key: 'backup', title: 'Database Backup', category: 'maintenance', dangerous: 'May lock tables',
  fields: [{ key: 'format', choices: ['sql', 'tar'], default: 'sql' }, { key: 'keep', type: 'int', default: 7 }],
  run: ({ args }: { args: Record<string, unknown> }) => ({ file: 'backup.' + args.format, keep: args.keep }),
};\n`;

describe('presets', () => {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(() => removeDir(dir));

  it('saves a task with fixed defaults under a new key, runs the base code, and restores it at start-up', async () => {
    const first = await bootKernel({ dir, plugins: { 'backup.ts': backupPlugin } });
    const base = first.kernel.registry.require('backup');
    const args = first.kernel.service.prepareArgs(base, { raw: { format: 'tar', keep: '30' } });
    const preset = await first.kernel.presets.create(base, 'backup-monthly', 'Monthly Backup', args);
    expect(preset).to.deep.include({ key: 'backup-monthly', title: 'Monthly Backup', category: 'maintenance', dangerous: 'May lock tables' });
    expect(preset.source).to.deep.equal({ kind: 'preset', base: 'backup' });
    expect((await first.kernel.service.run('backup-monthly')).data).to.deep.equal({ file: 'backup.tar', keep: 30 });
    // The defaults are fixed, not locked: a run may still choose another value.
    expect((await first.kernel.service.run('backup-monthly', { keep: 1 })).data).to.deep.equal({ file: 'backup.tar', keep: 1 });
    await first.stop();

    const second = await bootKernel({ dir });
    try {
      expect(second.kernel.registry.get('backup-monthly')?.title).to.equal('Monthly Backup');
      expect((await second.kernel.service.run('backup-monthly')).data).to.deep.equal({ file: 'backup.tar', keep: 30 });
    } finally {
      await second.stop();
    }
  });

  it('is removed like a dynamic task, and stays removed after a restart; its runs stay in history', async () => {
    const t = await bootKernel({ dir, plugins: { 'backup.ts': backupPlugin } });
    const base = t.kernel.registry.require('backup');
    await t.kernel.presets.create(base, 'weekly', 'Weekly', t.kernel.service.prepareArgs(base, { raw: { format: 'sql' } }));
    const run = await t.kernel.service.run('weekly');
    t.kernel.removeTask('weekly');
    await t.kernel.service.run('backup');
    await t.stop();
    const again = await bootKernel({ dir });
    try {
      expect(again.kernel.registry.has('weekly')).to.equal(false);
      expect((await again.kernel.service.getStoredRun(run.id)).taskKey).to.equal('weekly');
    } finally {
      await again.stop();
    }
  });

  it('refuses a key that is taken or invalid', async () => {
    const t = await bootKernel({ dir, plugins: { 'backup.ts': backupPlugin } });
    try {
      const base = t.kernel.registry.require('backup');
      await expectStatus(t.kernel.presets.create(base, 'backup', 'Same', {}), 409);
      await expectStatus(t.kernel.presets.create(base, 'Bad Key', 'Bad', {}), 400);
    } finally {
      await t.stop();
    }
  });

  it('waits while its base task is gone and comes back with it, without being deleted', async function () {
    this.timeout(20_000);
    const t = await bootKernel({ dir, config: { watchPlugins: false } });
    try {
      t.kernel.registerTask({ key: 'base', fields: [{ key: 'n', type: 'int', default: 1 }], run: ({ args }) => args.n });
      const base = t.kernel.registry.require('base');
      await t.kernel.presets.create(base, 'base-ten', 'Ten', { n: 10 });
      t.kernel.removeTask('base');
      expect(t.kernel.registry.has('base-ten')).to.equal(false);
      t.kernel.registerTask({ key: 'base', fields: [{ key: 'n', type: 'int', default: 1 }], run: ({ args }) => Number(args.n) * 2 });
      expect((await t.kernel.service.run('base-ten')).data).to.equal(20);
    } finally {
      await t.stop();
    }
  });
});

async function expectStatus(promise: Promise<unknown>, status: number): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect((error as { status?: number }).status).to.equal(status);
    return;
  }
  expect.fail(`expected a ${status} error`);
}

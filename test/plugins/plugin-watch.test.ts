import { expect } from 'chai';
import type { PluginLoader, PluginsChange } from '../../core/plugins/plugin-loader.js';
import type { TaskRegistry } from '../../core/tasks/registry.js';
import type { Task } from '../../core/tasks/types.js';
import { fakeContext, newLoader, PluginFolder, sleep, until } from './plugin-fixtures.js';

/** Set PLUGIN_WATCH_TIMINGS=1 to print how long each watched change took to reach the registry. */
const timings: string[] = [];
function timed(what: string, ms: number): void {
  timings.push(`${what}: ${Math.round(ms)} ms`);
  expect(ms, what).to.be.below(2000);
}

describe('plugins/plugin-loader: watch', () => {
  let folder: PluginFolder;
  let loader: PluginLoader;
  let registry: TaskRegistry;
  let changes: PluginsChange[];

  beforeEach(async () => {
    folder = new PluginFolder();
    folder.write('base.ts', `export default { key: 'base', run: () => 'base' };\n`);
    ({ loader, registry } = newLoader(folder));
    changes = [];
    loader.on('plugins:changed', (change) => changes.push(change));
    await loader.loadAll();
    await loader.watch();
  });
  afterEach(async () => {
    await loader.stop();
    folder.cleanup();
  });
  after(() => {
    if (process.env.PLUGIN_WATCH_TIMINGS) console.log(`\n    watch timings (default debounce 150 ms):\n      ${timings.join('\n      ')}`);
  });

  it('registers the tasks of a file added while watching within 2 s', async () => {
    const started = performance.now();
    folder.write('added.ts', `export default [{ key: 'added', run: () => 'new' }, { key: 'added-too', run: () => 'new' }];\n`);
    const { ms } = await until(() => registry.get('added-too'), 2000, 'the added file to register');
    timed('add', performance.now() - started);
    expect(ms).to.be.below(2000);
    expect(registry.require('added').source).to.deep.equal({ kind: 'plugin', file: 'plugins/added.ts' });
    expect(changes.at(-1)).to.deep.include({ added: ['added', 'added-too'], updated: [], removed: [] });
  });

  it('reloads a changed file: new code is served, a run already holding the old task finishes on the old code', async () => {
    const v1 = `const code = 'v1';
      export default [
        { key: 'swap', title: 'Old', run: async () => { await new Promise((r) => setTimeout(r, 300)); return code; } },
        { key: 'gone', run: () => code },
      ];\n`;
    const v2 = `const code = 'v2';
      export default [
        { key: 'swap', title: 'New', run: async () => code },
        { key: 'fresh', run: () => code },
      ];\n`;
    folder.write('swap.ts', v1);
    const oldTask = (await until(() => registry.get('swap'), 2000, 'v1 to load')).value;
    const removed: string[] = [];
    registry.on('task:removed', (task) => removed.push(task.key));
    const inFlight = Promise.resolve(oldTask.run(fakeContext()));

    const started = performance.now();
    folder.write('swap.ts', v2);
    const newTask: Task = (await until(() => (registry.get('swap')?.title === 'New' ? registry.get('swap') : undefined), 2000, 'v2 to load')).value;
    timed('change', performance.now() - started);

    expect(newTask).to.not.equal(oldTask);
    expect(newTask.run).to.not.equal(oldTask.run);
    expect(newTask.version).to.not.equal(oldTask.version);
    expect(await newTask.run(fakeContext())).to.equal('v2');
    expect(await inFlight).to.equal('v1');
    expect(registry.has('gone')).to.equal(false);
    expect(registry.has('fresh')).to.equal(true);
    expect(removed).to.deep.equal(['gone']); // swapped in place with replace(), never removed
    expect(changes.at(-1)).to.deep.include({ added: ['fresh'], updated: ['swap'], removed: ['gone'] });
    expect(loader.filesLoaded().find((f) => f.file === 'plugins/swap.ts')).to.deep.include({ tasks: ['swap', 'fresh'], version: newTask.version });
  });

  it('unregisters the tasks of a deleted file', async () => {
    folder.write('doomed.js', `export default [{ key: 'doomed', run: () => 1 }, { key: 'doomed-too', run: () => 2 }];\n`);
    await until(() => registry.get('doomed-too'), 2000, 'the file to load');
    const started = performance.now();
    folder.remove('doomed.js');
    await until(() => !registry.has('doomed') && !registry.has('doomed-too'), 2000, 'the tasks to go');
    timed('delete', performance.now() - started);
    expect(registry.list().map((t) => t.key)).to.deep.equal(['base']);
    expect(loader.filesLoaded().map((f) => f.file)).to.deep.equal(['plugins/base.ts']);
    expect(changes.at(-1)).to.deep.include({ removed: ['doomed', 'doomed-too'] });
  });

  it('loads a file fixed after a syntax error, and its failure disappears', async () => {
    folder.write('fixme.ts', `export default { key: 'fixme', run: () => { ;\n`);
    const failed = await until(() => loader.failures().find((f) => f.file === 'plugins/fixme.ts'), 2000, 'the failure to show');
    expect(failed.value.error).to.match(/^plugins\/fixme\.ts: import failed/);
    expect(registry.has('fixme')).to.equal(false);
    const started = performance.now();
    folder.write('fixme.ts', `export default { key: 'fixme', run: () => 'fixed' };\n`);
    await until(() => registry.get('fixme'), 2000, 'the fixed file to load');
    timed('fix', performance.now() - started);
    expect(loader.failures()).to.deep.equal([]);
    expect(await registry.require('fixme').run(fakeContext())).to.equal('fixed');
  });

  it('hands a key to the next file in name order when the winner is deleted', async () => {
    folder.write('a-first.ts', `export default { key: 'shared', title: 'A', run: () => 'a' };\n`);
    folder.write('b-second.ts', `export default { key: 'shared', title: 'B', run: () => 'b' };\n`);
    await until(() => loader.failures().some((f) => f.file === 'plugins/b-second.ts') && registry.get('shared'), 2000, 'both files to be seen');
    expect(registry.require('shared').title).to.equal('A');
    folder.remove('a-first.ts');
    await until(() => registry.get('shared')?.title === 'B', 2000, 'b-second.ts to take the key');
    expect(registry.require('shared').source).to.deep.equal({ kind: 'plugin', file: 'plugins/b-second.ts' });
    expect(loader.failures()).to.deep.equal([]);
  });

  it('gives the key to the first file in name order even when a later file held it first', async () => {
    folder.write('m-middle.ts', `export default { key: 'contested', title: 'M', run: () => 'm' };\n`);
    await until(() => registry.get('contested'), 2000, 'm-middle.ts to load');
    folder.write('a-early.ts', `export default { key: 'contested', title: 'A', run: () => 'a' };\n`);
    await until(() => registry.get('contested')?.title === 'A', 2000, 'a-early.ts to win');
    expect(loader.failures().map((f) => f.file)).to.deep.equal(['plugins/m-middle.ts']);
  });

  it('stops watching on stop: later files are not loaded', async () => {
    await loader.stop();
    await loader.stop();
    folder.write('after-stop.ts', `export default { key: 'after-stop', run: () => 1 };\n`);
    await sleep(500);
    expect(registry.has('after-stop')).to.equal(false);
  });
});

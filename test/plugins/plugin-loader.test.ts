import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { normalizeTask } from '../../core/tasks/task.js';
import type { PluginsChange } from '../../core/plugins/plugin-loader.js';
import { capturingLogger, fakeContext, newLoader, PluginFolder, sleep, until } from './plugin-fixtures.js';

describe('plugins/plugin-loader: loadAll', () => {
  let folder: PluginFolder;
  const stops: (() => Promise<void>)[] = [];

  beforeEach(() => {
    folder = new PluginFolder();
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    folder.cleanup();
  });

  function loaderFor(options: Parameters<typeof newLoader>[1] = {}): ReturnType<typeof newLoader> {
    const fixture = newLoader(folder, options);
    stops.push(() => fixture.loader.stop());
    return fixture;
  }

  it('with importConcurrency 1, loads files in name order, one at a time, each import awaited', async () => {
    const trace = `__trace_${path.basename(folder.root).replace(/\W/g, '_')}`;
    const slow = (key: string): string =>
      `const t = (globalThis.${trace} ??= []); t.push('${key}:start'); await new Promise((r) => setTimeout(r, 20)); t.push('${key}:end');\n` +
      `export default { key: '${key}', run: () => '${key}' };\n`;
    folder.write('d.mts', slow('d'));
    folder.write('c.mjs', slow('c'));
    folder.write('a.ts', slow('a'));
    folder.write('b.js', slow('b'));
    const { loader, registry } = loaderFor({ importConcurrency: 1 });
    const registered: string[] = [];
    registry.on('task:registered', (task) => registered.push(task.key));
    await loader.loadAll();
    expect((globalThis as Record<string, unknown>)[trace]).to.deep.equal(['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end', 'd:start', 'd:end']);
    expect(registered).to.deep.equal(['a', 'b', 'c', 'd']);
    expect(loader.filesLoaded().map((f) => f.file)).to.deep.equal(['plugins/a.ts', 'plugins/b.js', 'plugins/c.mjs', 'plugins/d.mts']);
    expect(loader.failures()).to.deep.equal([]);
  });

  it('imports files ahead, yet runs each setup and registers the tasks in name order, whichever import ends first', async () => {
    const trace = `__trace_${path.basename(folder.root).replace(/\W/g, '_')}`;
    // `a` waits longest at the top level, `d` not at all: the imports finish in reverse name order.
    const plugin = (key: string, waitMs: number): string =>
      `const t = (globalThis.${trace} ??= []); t.push('${key}:import'); await new Promise((r) => setTimeout(r, ${waitMs})); t.push('${key}:imported');\n` +
      `export default { name: '${key}', tasks: [], setup(kernel) { t.push('${key}:setup'); kernel.registerTask({ key: '${key}', run: () => '${key}' }); } };\n`;
    folder.write('d.mjs', plugin('d', 0));
    folder.write('c.mjs', plugin('c', 20));
    folder.write('b.mjs', plugin('b', 40));
    folder.write('a.mjs', plugin('a', 60));
    const { loader, registry } = loaderFor({ importConcurrency: 4 });
    const registered: string[] = [];
    registry.on('task:registered', (task) => registered.push(task.key));
    await loader.loadAll();
    const events = (globalThis as unknown as Record<string, string[]>)[trace]!;
    expect(events.slice(0, 4)).to.have.members(['a:import', 'b:import', 'c:import', 'd:import']);
    expect(events.filter((e) => e.endsWith(':setup'))).to.deep.equal(['a:setup', 'b:setup', 'c:setup', 'd:setup']);
    expect(registered).to.deep.equal(['a', 'b', 'c', 'd']);
    expect(loader.filesLoaded().map((f) => f.file)).to.deep.equal(['plugins/a.mjs', 'plugins/b.mjs', 'plugins/c.mjs', 'plugins/d.mjs']);
  });

  it('refuses an importConcurrency that is not a positive integer', () => {
    for (const importConcurrency of [0, -1, 1.5, Number.NaN]) {
      expect(() => newLoader(folder, { importConcurrency }), String(importConcurrency)).to.throw(TypeError, /importConcurrency: expected an integer >= 1/);
    }
  });

  it('accepts a task, an array of tasks and a plugin object whose setup registers more', async () => {
    folder.write('one.js', `export default { key: 'single', run: () => 'one' };\n`);
    folder.write('many.mjs', `export default [{ key: 'first', run: () => 1 }, { key: 'second', run: () => 2 }];\n`);
    folder.write(
      'plugin.ts',
      `export default {
        name: 'greetings',
        tasks: [{ key: 'hello', run: () => 'hello' }],
        async setup(kernel: { registerTask(def: unknown): void; logger: { info(msg: string): void } }) {
          await new Promise((r) => setTimeout(r, 5));
          kernel.logger.info('setting up');
          kernel.registerTask({ key: 'from-setup', title: 'From Setup', run: () => 'set up' });
        },
      };\n`,
    );
    const { loader, registry } = loaderFor();
    await loader.loadAll();
    expect(registry.list().map((t) => t.key)).to.deep.equal(['first', 'from-setup', 'hello', 'second', 'single']);
    expect(registry.get('from-setup')?.source).to.deep.equal({ kind: 'plugin', file: 'plugins/plugin.ts' });
    expect(loader.filesLoaded()).to.deep.include({ file: 'plugins/plugin.ts', name: 'greetings', tasks: ['hello', 'from-setup'], version: registry.get('hello')?.version });
    expect(await registry.get('from-setup')?.run(fakeContext())).to.equal('set up');
  });

  it('loads a plain .js object with no imports and a .ts file with type annotations', async () => {
    folder.write(
      'hello.js',
      `export default {
        key: 'hello',
        fields: [{ key: 'name', default: 'world' }],
        run: async ({ args }) => ({ hi: args.name }),
      };\n`,
    );
    folder.write(
      'typed.ts',
      `interface Args { n: number }
      enum Mode { Double = 2 }
      const double = (args: Args): number => args.n * Mode.Double;
      export default { key: 'typed', title: 'Typed', run: ({ args }: { args: Args }): number => double(args) } satisfies { key: string };\n`,
    );
    const { loader, registry } = loaderFor();
    await loader.loadAll();
    expect(loader.failures()).to.deep.equal([]);
    expect(await registry.require('hello').run(fakeContext({ name: 'Ada' }))).to.deep.equal({ hi: 'Ada' });
    expect(registry.require('hello').fields.map((f) => f.key)).to.deep.equal(['name']);
    expect(await registry.require('typed').run(fakeContext({ n: 21 }))).to.equal(42);
  });

  it('normalizes each task with the file as its source and the content hash as its version', async () => {
    folder.write('v.ts', `export default [{ key: 'v1', run: () => 1 }, { key: 'v2', run: () => 2 }];\n`);
    const { loader, registry } = loaderFor();
    await loader.loadAll();
    const [v1, v2] = [registry.require('v1'), registry.require('v2')];
    expect(v1.source).to.deep.equal({ kind: 'plugin', file: 'plugins/v.ts' });
    expect(v1.version).to.match(/^[0-9a-f]{12}$/).and.equal(v2.version);
    expect(v1.title).to.equal('V1');
    expect(Object.isFrozen(v1)).to.equal(true);
  });

  it('ignores helpers, declarations, source maps, hidden and editor temp files', async () => {
    const poison = `throw new Error('this file must never be imported');\n`;
    folder.write('_helper.ts', `export const greet = (name: string): string => 'hi ' + name;\n`);
    folder.write('uses-helper.ts', `import { greet } from './_helper.js';\nexport default { key: 'greet', run: () => greet('you') };\n`);
    for (const name of ['types.d.ts', 'x.d.mts', 'uses-helper.js.map', 'foo.js~', '.#foo.js', '#foo.js#', '.foo.swp', 'foo.js.tmp', '.hidden.ts']) folder.write(name, poison);
    const { loader, registry } = loaderFor();
    await loader.loadAll();
    expect(loader.failures()).to.deep.equal([]);
    expect(registry.list().map((t) => t.key)).to.deep.equal(['greet']);
    expect(await registry.require('greet').run(fakeContext())).to.equal('hi you');
  });

  it('reports a syntax error with the file path and logs it, while the other files load', async () => {
    folder.write('a-good.ts', `export default { key: 'a-good', run: () => 'a' };\n`);
    folder.write('b-broken.ts', `export default { key: 'b-broken', run: () => { ;\n`);
    folder.write('c-broken.js', `export default { key: 'c-broken' run: 1 };\n`);
    folder.write('d-good.js', `export default { key: 'd-good', run: () => 'd' };\n`);
    const { logger, lines } = capturingLogger();
    const { loader, registry } = loaderFor({ logger });
    await loader.loadAll();
    expect(registry.list().map((t) => t.key)).to.deep.equal(['a-good', 'd-good']);
    const failures = loader.failures();
    expect(failures.map((f) => f.file)).to.deep.equal(['plugins/b-broken.ts', 'plugins/c-broken.js']);
    expect(failures[0]?.error).to.match(/^plugins\/b-broken\.ts: import failed: /);
    expect(failures[1]?.error).to.match(/^plugins\/c-broken\.js: import failed: /);
    const errors = lines().filter((l) => l.level >= 50).map((l) => l.msg);
    expect(errors).to.have.length(2);
    expect(errors[0]).to.contain('plugins/b-broken.ts');
    expect(errors[1]).to.contain('plugins/c-broken.js');
  });

  it('reports a file that throws at import', async () => {
    folder.write('boom.ts', `throw new Error('boom at import');\nexport default { key: 'boom', run: () => 1 };\n`);
    folder.write('fine.ts', `export default { key: 'fine', run: () => 1 };\n`);
    const { loader, registry } = loaderFor();
    await loader.loadAll();
    expect(loader.failures()).to.deep.equal([{ file: 'plugins/boom.ts', error: 'plugins/boom.ts: import failed: boom at import' }]);
    expect(registry.has('fine')).to.equal(true);
  });

  it('gives up on a top-level await that never settles after the import timeout', async () => {
    folder.write('hang.ts', `await new Promise(() => {});\nexport default { key: 'hang', run: () => 1 };\n`);
    folder.write('later.mjs', `export default { key: 'later', run: () => 1 };\n`);
    const { loader, registry } = loaderFor({ importTimeoutMs: 200 });
    const started = performance.now();
    await loader.loadAll();
    const took = performance.now() - started;
    expect(took).to.be.within(190, 2000);
    expect(loader.failures()).to.deep.equal([{ file: 'plugins/hang.ts', error: 'plugins/hang.ts: import did not settle within 200 ms (a top-level await that never settles?)' }]);
    expect(registry.has('later')).to.equal(true);
    // Unchanged, the hung file is not imported (and waited for) again on the next sync.
    const again = performance.now();
    await loader.loadAll();
    expect(performance.now() - again).to.be.below(150);
  });

  it('reports a setup that throws or never settles, and registers none of that file', async () => {
    folder.write('bad-setup.ts', `export default { name: 'bad', tasks: [{ key: 'bad-task', run: () => 1 }], setup() { throw new Error('no database'); } };\n`);
    folder.write('slow-setup.ts', `export default { name: 'slow', tasks: [{ key: 'slow-task', run: () => 1 }], setup: () => new Promise(() => {}) };\n`);
    const { loader, registry } = loaderFor({ importTimeoutMs: 150 });
    await loader.loadAll();
    expect(loader.failures()).to.deep.equal([
      { file: 'plugins/bad-setup.ts', error: 'plugins/bad-setup.ts: setup failed: no database' },
      { file: 'plugins/slow-setup.ts', error: 'plugins/slow-setup.ts: setup did not settle within 150 ms' },
    ]);
    expect(registry.list()).to.deep.equal([]);
  });

  it('reports an invalid shape: what was expected and what arrived', async () => {
    folder.write('number.ts', `export default 42;\n`);
    folder.write('function.js', `export default function main() { return 1; }\n`);
    folder.write('named.ts', `export const task = { key: 'named', run: () => 1 };\n`);
    const { loader } = loaderFor();
    await loader.loadAll();
    const expected = 'expected a default export of a task, an array of tasks or { name, tasks, setup }';
    expect(loader.failures()).to.deep.equal([
      { file: 'plugins/function.js', error: `plugins/function.js: ${expected}, got a function (main)` },
      { file: 'plugins/named.ts', error: `plugins/named.ts: ${expected}, got no default export (named exports: task)` },
      { file: 'plugins/number.ts', error: `plugins/number.ts: ${expected}, got a number (42)` },
    ]);
  });

  it('loads a file all or nothing: one invalid task keeps all of its tasks out', async () => {
    folder.write('mixed.ts', `export default [{ key: 'valid-one', run: () => 1 }, { key: 'Bad Key', run: () => 2 }];\n`);
    folder.write('twice.ts', `export default [{ key: 'same', run: () => 1 }, { key: 'same', run: () => 2 }];\n`);
    folder.write('no-run.ts', `export default { key: 'no-run', title: 'No run' };\n`);
    const { loader, registry } = loaderFor();
    await loader.loadAll();
    expect(registry.list()).to.deep.equal([]);
    const [mixed, noRun, twice] = loader.failures();
    expect(mixed?.error).to.match(/^plugins\/mixed\.ts: task "Bad Key": key: expected/);
    expect(noRun?.error).to.match(/^plugins\/no-run\.ts: task "no-run": run: expected a function, got nothing \(undefined\)$/);
    expect(twice?.error).to.equal('plugins/twice.ts: task "same" is defined twice in this file');
  });

  it('refuses a key defined by an earlier file: the first in name order wins and the error names both', async () => {
    folder.write('b.ts', `export default [{ key: 'dup', title: 'From B', run: () => 'b' }, { key: 'b-only', run: () => 'b' }];\n`);
    folder.write('a.ts', `export default { key: 'dup', title: 'From A', run: () => 'a' };\n`);
    const { loader, registry } = loaderFor();
    await loader.loadAll();
    expect(registry.require('dup').title).to.equal('From A');
    expect(registry.has('b-only')).to.equal(false);
    const [failure] = loader.failures();
    expect(failure?.file).to.equal('plugins/b.ts');
    expect(failure?.error).to.contain('task "dup"').and.contain('plugins/a.ts').and.contain('plugins/b.ts');
  });

  it('refuses a key registered dynamically, naming both, and loads the file once that task is removed', async () => {
    const { loader, registry } = loaderFor({ debounceMs: 20 });
    registry.register(normalizeTask({ key: 'taken', run: () => 'dynamic' }, { kind: 'dynamic', by: 'api' }));
    folder.write('taker.ts', `export default { key: 'taken', run: () => 'plugin' };\n`);
    await loader.loadAll();
    expect(registry.require('taken').source.kind).to.equal('dynamic');
    expect(loader.failures()[0]?.error).to.equal(
      'plugins/taker.ts: task "taken" is already registered by dynamic registration by api; refused the one from plugins/taker.ts, so none of this file\'s tasks are registered',
    );
    registry.remove('taken');
    await until(() => registry.get('taken')?.source.kind === 'plugin', 2000, 'the plugin task to take the freed key');
    expect(loader.failures()).to.deep.equal([]);
  });

  it('rejects a symlink that points outside the folder as a load error', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'taskdeck-outside-'));
    try {
      fs.writeFileSync(path.join(outside, 'evil.mjs'), `export default { key: 'evil', run: () => 'pwned' };\n`);
      fs.symlinkSync(path.join(outside, 'evil.mjs'), path.join(folder.dir, 'evil.mjs'));
      folder.write('good.mjs', `export default { key: 'good', run: () => 1 };\n`);
      const { loader, registry } = loaderFor();
      await loader.loadAll();
      expect(registry.list().map((t) => t.key)).to.deep.equal(['good']);
      const [failure] = loader.failures();
      expect(failure?.file).to.equal('plugins/evil.mjs');
      expect(failure?.error).to.contain('plugins/evil.mjs: expected a symlink to a file inside the plugins folder').and.contain('refused');
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('emits plugins:changed when a load changes tasks or failures, and not when nothing changed', async () => {
    folder.write('a.ts', `export default { key: 'a', run: () => 1 };\n`);
    folder.write('z.ts', `export default 'nope';\n`);
    const { loader } = loaderFor();
    const changes: PluginsChange[] = [];
    loader.on('plugins:changed', (change) => changes.push(change));
    await loader.loadAll();
    await loader.loadAll();
    expect(changes).to.have.length(1);
    expect(changes[0]).to.deep.include({ added: ['a'], updated: [], removed: [] });
    expect(changes[0]?.failures.map((f) => f.file)).to.deep.equal(['plugins/z.ts']);
  });

  it('treats a missing plugins folder as empty and keeps going', async () => {
    folder.cleanup();
    const { loader, registry } = loaderFor();
    await loader.loadAll();
    expect(registry.list()).to.deep.equal([]);
    expect(loader.warnings()[0]).to.contain('does not exist');
    fs.mkdirSync(folder.dir, { recursive: true });
  });

  it('tries a failed file again when it is touched, once what it imports is fixed', async () => {
    folder.write('needs-dep.ts', `import { answer } from './_dep.js';\nexport default { key: 'needs-dep', run: () => answer };\n`);
    const { loader, registry } = loaderFor();
    await loader.loadAll();
    expect(loader.failures()[0]?.error).to.match(/^plugins\/needs-dep\.ts: import failed: /);
    folder.write('_dep.ts', `export const answer = 42;\n`);
    await loader.loadAll();
    expect(registry.has('needs-dep')).to.equal(false); // same content, not touched: not imported again
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(path.join(folder.dir, 'needs-dep.ts'), later, later);
    await loader.loadAll();
    expect(loader.failures()).to.deep.equal([]);
    expect(await registry.require('needs-dep').run(fakeContext())).to.equal(42);
  });

  it('logs and ignores registerTask called after setup has finished, instead of throwing', async () => {
    const trace = `__late_${path.basename(folder.root).replace(/\W/g, '_')}`;
    folder.write(
      'late.ts',
      `export default {
        name: 'late',
        setup(kernel: { registerTask(def: unknown): void }) {
          setTimeout(() => { try { kernel.registerTask({ key: 'too-late', run: () => 1 }); (globalThis as Record<string, unknown>).${trace} = 'returned'; } catch { (globalThis as Record<string, unknown>).${trace} = 'threw'; } }, 10);
        },
      };\n`,
    );
    const { logger, lines } = capturingLogger();
    const { loader, registry } = loaderFor({ logger });
    await loader.loadAll();
    await until(() => (globalThis as Record<string, unknown>)[trace], 2000, 'the late call');
    expect((globalThis as Record<string, unknown>)[trace]).to.equal('returned');
    expect(registry.has('too-late')).to.equal(false);
    expect(lines().some((l) => l.level >= 50 && l.msg.includes('plugins/late.ts: registerTask("too-late") was called after setup finished'))).to.equal(true);
  });

  it('ends the wait on a hanging import at once when stopped', async () => {
    folder.write('hang.mjs', `await new Promise(() => {});\nexport default 1;\n`);
    const { loader, registry } = loaderFor({ importTimeoutMs: 10_000 });
    const loading = loader.loadAll();
    await sleep(100);
    const started = performance.now();
    await loader.stop();
    await loading;
    expect(performance.now() - started).to.be.below(500);
    expect(registry.list()).to.deep.equal([]);
  });

  it('stops idempotently and refuses to load after stop', async () => {
    const { loader } = loaderFor();
    await loader.loadAll();
    await Promise.all([loader.stop(), loader.stop()]);
    await loader.stop();
    let thrown: unknown;
    try {
      await loader.loadAll();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(Error).with.property('message').that.contains('after stop()');
  });
});

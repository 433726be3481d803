import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import { configWith } from '../core/config.js';
import { Kernel } from '../core/kernel.js';
import { bootKernel, type TestKernel } from './helpers/boot-kernel.js';
import { makeTempDir, removeDir } from './helpers/temp-dir.js';

const plainTask = (key: string, title = key) => `export default { key: '${key}', title: '${title}', run: () => '${key}' };\n`;

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - started;
}

describe('kernel: plugins folder of a running kernel', () => {
  let t: TestKernel;
  before(async () => {
    t = await bootKernel({ config: { watchPlugins: true }, plugins: { 'a-good.ts': plainTask('good'), 'b-broken.ts': 'export default {{ syntax error' } });
  });
  after(() => t.cleanup());

  it('loads the good files and reports a bad one with its path and error', () => {
    expect(t.kernel.registry.has('good')).to.equal(true);
    const failures = t.kernel.plugins.failures();
    expect(failures).to.have.length(1);
    expect(failures[0]!.file).to.match(/b-broken\.ts$/);
    expect(failures[0]!.error).to.be.a('string').and.not.equal('');
  });

  it('registers a dropped file within 2 s, reloads it on change, unregisters it on delete', async () => {
    const file = path.join(t.pluginsDir, 'c-dropped.ts');
    fs.writeFileSync(file, plainTask('dropped', 'First'));
    expect(await waitUntil(() => t.kernel.registry.has('dropped'), 2000)).to.be.below(2000);
    expect((await t.kernel.service.run('dropped')).data).to.equal('dropped');
    fs.writeFileSync(file, plainTask('dropped', 'Second'));
    await waitUntil(() => t.kernel.registry.get('dropped')?.title === 'Second', 2000);
    fs.rmSync(file);
    await waitUntil(() => !t.kernel.registry.has('dropped'), 2000);
    // Runs of a removed task stay in history.
    expect((await t.kernel.service.listRuns({ task: ['dropped'] })).runs).to.have.length(1);
  });
});

/** A plugin whose import touches `marker`, then never finishes: a start-up caught in the middle. */
const hangingPlugin = (marker: string) =>
  `import fs from 'node:fs';\nfs.writeFileSync(${JSON.stringify(marker)}, '');\nawait new Promise(() => {});\nexport default { key: 'never', run: () => 'never' };\n`;

describe('kernel: stop() during start()', () => {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir();
    fs.mkdirSync(path.join(dir, 'plugins'));
    fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
  });
  afterEach(() => removeDir(dir));

  it('ends the start at once, rejects it with ERR_KERNEL_STOPPED and stops what was built (the database is free again)', async () => {
    const marker = path.join(dir, 'importing');
    fs.writeFileSync(path.join(dir, 'plugins', 'hang.ts'), hangingPlugin(marker));
    const config = configWith({ port: 0, db: path.join(dir, 'taskdeck.db'), plugins: path.join(dir, 'plugins'), watchPlugins: false, logLevel: 'silent' });
    const kernel = new Kernel(config, { logger: pino({ level: 'silent' }), listen: true });
    const starting = kernel.start();
    const outcome = starting.then(
      () => null,
      (error: unknown) => error,
    );
    await waitUntil(() => fs.existsSync(marker), 10_000);
    await kernel.stop();
    const error = (await outcome) as { code?: string } | null;
    expect(error).to.include({ code: 'ERR_KERNEL_STOPPED' });
    expect(() => kernel.url).to.throw(TypeError, /not listening/);
    await kernel.stop(); // idempotent
    // The instance lock and the database were released: another kernel starts on the same file.
    fs.rmSync(path.join(dir, 'plugins', 'hang.ts'));
    const again = await bootKernel({ dir });
    await again.stop();
  });
});

describe('kernel: the process entry (npm start)', () => {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir();
    fs.mkdirSync(path.join(dir, 'plugins'));
    fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
    fs.writeFileSync(
      path.join(dir, 'plugins', 'slow.ts'),
      "export default { key: 'slow', run: ({ signal }: { signal: AbortSignal }) => new Promise((resolve) => signal.addEventListener('abort', resolve)) };\n",
    );
  });
  afterEach(() => removeDir(dir));

  it('on SIGTERM during start-up, stops what was started and exits 0 without serving', async function () {
    this.timeout(30_000);
    const marker = path.join(dir, 'importing');
    fs.writeFileSync(path.join(dir, 'plugins', 'hang.ts'), hangingPlugin(marker));
    const db = path.join(dir, 'taskdeck.db');
    const child = spawn(process.execPath, ['--import', 'tsx', 'core/main.ts', '--port', '0', '--db', db, '--plugins', path.join(dir, 'plugins')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await waitUntil(() => fs.existsSync(marker), 20_000);
    child.kill('SIGTERM');
    expect(await exited).to.equal(0);
    expect(out).to.include('"signal":"SIGTERM"').and.not.include('taskdeck is serving');
    fs.rmSync(path.join(dir, 'plugins', 'hang.ts'));
    const again = await bootKernel({ dir });
    await again.stop();
  });

  it('serves on its port, and on SIGTERM records the runs in flight as cancelled and exits 0', async function () {
    this.timeout(30_000);
    const db = path.join(dir, 'taskdeck.db');
    const child = spawn(process.execPath, ['--import', 'tsx', 'core/main.ts', '--port', '0', '--db', db, '--plugins', path.join(dir, 'plugins')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /taskdeck is serving (http:\/\/[^/\s"]+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
    });
    expect((await fetch(`${url}/admin/task?format=json`)).status).to.equal(200);
    const pending = fetch(`${url}/admin/task/slow/run?format=json`).catch(() => null);
    const poll = async () => (await (await fetch(`${url}/admin/run?format=json&status=running`)).json()) as { runs: { id: string }[] };
    let running: { id: string }[] = [];
    for (let i = 0; i < 100 && running.length === 0; i++) {
      running = (await poll()).runs;
      if (running.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(running).to.have.length(1);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    await pending;
    expect(code).to.equal(0);

    const again = await bootKernel({ dir });
    try {
      expect((await again.kernel.service.getStoredRun(running[0]!.id)).status).to.equal('cancelled');
    } finally {
      await again.stop();
    }
  });
});

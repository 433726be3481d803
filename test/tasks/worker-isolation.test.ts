import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import pino from 'pino';
import { normalizeTask } from '../../core/tasks/task.js';
import type { TaskDefinition } from '../../core/tasks/types.js';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import fixtureTasks, { named } from './fixtures/isolated-tasks.js';
import { LineWatcher, waitGone } from './process-helpers.js';

const FIXTURE = new URL('./fixtures/isolated-tasks.ts', import.meta.url).href;

describe('isolate: "worker": heavy tasks in a worker thread', function () {
  this.timeout(30_000);
  let t: TestKernel;
  const logged: { level: number; msg: string; [k: string]: unknown }[] = [];
  before(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as never) });
    t = await bootKernel({ listen: true, logger });
    for (const def of [...fixtureTasks, named]) t.kernel.registerTask(def);
  });
  after(() => t.cleanup());

  const run = (key: string, args: Record<string, unknown> = {}) => t.kernel.service.run(key, args);
  const start = async (key: string, args: Record<string, unknown> = {}) => {
    const task = t.kernel.registry.require(key);
    const live = await t.kernel.service.start(task, t.kernel.service.prepareArgs(task, { typed: args }));
    return { live, watch: new LineWatcher(live) };
  };
  /** Resolves once the spinning loop's counter stops moving: its worker is gone. */
  const untilStill = async (counter: Int32Array, ms = 5000) => {
    const deadline = performance.now() + ms;
    for (let last = Atomics.load(counter, 0); ; ) {
      await sleep(100);
      const now = Atomics.load(counter, 0);
      if (now === last) return;
      if (performance.now() > deadline) throw new Error(`the worker's loop still turns ${ms} ms later`);
      last = now;
    }
  };
  /** The kernel answers HTTP while a worker computes. */
  const serves = async () => {
    const started = performance.now();
    const response = await fetch(`${t.kernel.url}/admin/task?format=json`);
    return { status: response.status, ms: performance.now() - started };
  };

  describe('registration', () => {
    it('refuses isolate on a task made from a closure, without a module, naming what to do', () => {
      expect(() => t.kernel.registerTask({ key: 'closure', isolate: 'worker', run: () => 1 })).to.throw(
        /task "closure": isolate "worker" needs module: the file that exports this task \(module: import.meta.url\).*cannot be isolated/,
      );
    });

    it('refuses a relative or missing module, and an isolate other than "worker"', () => {
      expect(() => t.kernel.registerTask({ key: 'rel', isolate: 'worker', module: './x.ts', run: () => 1 })).to.throw(/module: expected a file: URL or an absolute path/);
      expect(() => t.kernel.registerTask({ key: 'gone', isolate: 'worker', module: '/nowhere/x.ts', run: () => 1 })).to.throw(/module: \/nowhere\/x.ts does not exist/);
      expect(() => t.kernel.registerTask({ key: 'thread', isolate: 'thread' as never, module: FIXTURE, run: () => 1 })).to.throw(/isolate: expected "worker", got "thread"/);
    });

    it('takes module from where the definition came from when the registering code knows it (a plugin loader)', () => {
      const task = normalizeTask({ key: 'from-plugin', isolate: 'worker', run: () => 1 }, { kind: 'plugin', file: 'plugins/x.ts' }, 'v1', { module: FIXTURE });
      expect(task.isolate?.module).to.equal(FIXTURE);
    });

    it('keeps the isolation on the task: module as a file URL, grace and memory limit', () => {
      expect(t.kernel.registry.require('iso-oom').isolate).to.deep.equal({ kind: 'worker', module: FIXTURE, graceMs: 5000, maxMemoryMb: 64 });
      expect(t.kernel.registry.require('iso-spin').isolate?.graceMs).to.equal(300);
    });
  });

  describe('what crosses the thread boundary', () => {
    it('bridges logs, tags, progress, metadata, the logger and normalised data back to the run', async () => {
      const result = await run('iso-echo', { n: 7, when: new Date(0) });
      expect(result.status).to.equal('ok');
      expect(result.logs.slice(0, 3)).to.deep.equal(["hello from the worker { n: 1 }", 'two', 'lines']);
      expect(result.tags).to.deep.equal(['a', 'b']);
      expect(result.metadata).to.include({ rows: 42 });
      expect(result.data).to.deep.equal({
        args: { n: 7, when: '1970-01-01T00:00:00.000Z' },
        label: 'ad-hoc',
        runId: result.id,
        big: '100000000000000000000',
        when: '1970-01-01T00:00:00.000Z',
        map: { k: 1 },
        completed: false,
      });
      expect((await t.kernel.service.getStoredRun(result.id)).progress).to.deep.equal({ done: 1, total: 2, message: 'half' });
      const line = logged.find((l) => l.msg === 'a pino line from the worker');
      expect(line).to.include({ some: 'field', task: 'iso-echo', run: result.id, isolate: 'worker' });
    });

    it('ends as error when an argument from code cannot cross into a thread', async () => {
      const result = await run('iso-echo', { callback: () => 1 });
      expect(result.status).to.equal('error');
      expect(result.error, result.error).to.match(/^the task could not start in a worker: .* could not be cloned/);
    });

    it('finds a task by a named export too', async () => {
      expect((await run('iso-named')).data).to.equal('found by name');
    });

    it('ends as error naming the module and the keys it exports when the task is not exported', async () => {
      t.kernel.registerTask({ key: 'iso-missing', isolate: 'worker', module: FIXTURE, run: () => 'not exported' });
      const result = await run('iso-missing');
      expect(result.status).to.equal('error');
      expect(result.error).to.match(/isolated-tasks.ts does not export the task "iso-missing" \(it exports "iso-primes", "iso-echo", .*"iso-named"\): an isolated task must be exported by its module$/);
    });

    it('loads a plugin task from its file (import.meta.url carries the content version)', async () => {
      fs.writeFileSync(
        path.join(t.pluginsDir, 'iso-plugin.ts'),
        `export default { key: 'iso-plugin', isolate: 'worker', module: import.meta.url, run: ({ log }) => { log('from the plugin file'); return import.meta.url; } };\n`,
      );
      await t.kernel.plugins.loadAll();
      const result = await run('iso-plugin');
      expect(result.status).to.equal('ok');
      expect(result.logs[0]).to.equal('from the plugin file');
      expect(result.data).to.match(/plugins\/iso-plugin\.ts\?v=[0-9a-f]{12}$/);
    });

    it('runs ctx.exec inside the worker: lines, colours, stderr and the exit code reach the run', async () => {
      const result = await run('iso-exec');
      expect(result.status).to.equal('error');
      expect(result.error).to.equal('command "sh" exited with code 5');
      expect(result.logs).to.include('\u001b[31mred\u001b[0m');
      expect(result.metadata).to.include({ exitCode: 5 });
      const lines = await t.kernel.service.getLogs(result.id);
      expect(lines.find((l) => l.msg === 'err')?.stream).to.equal('stderr');
      expect(lines.find((l) => l.msg === 'command "sh" exited with code 2')?.stream).to.equal('system');
    });
  });

  describe('failures end the run, never the kernel', () => {
    it('a throw in the task: error with its message and the stack from the worker', async () => {
      const result = await run('iso-throws');
      expect(result).to.include({ status: 'error', error: 'boom in the worker' });
      expect((await t.kernel.service.getStoredRun(result.id)).errorStack).to.contain('isolated-tasks.ts');
    });

    it('completeError in the task: error with its message; the return value after it is ignored', async () => {
      expect(await run('iso-complete-error')).to.include({ status: 'error', error: 'said it failed' });
    });

    it('process.exit() in the task: error, with what it logged before', async () => {
      const result = await run('iso-exit');
      expect(result).to.include({ status: 'error', error: 'the worker exited with code 3 before the task finished (process.exit() in the task?)' });
      expect(result.logs[0]).to.equal('about to exit');
      expect((await serves()).status).to.equal(200);
    });

    it('an uncaught exception in the worker: error naming it', async () => {
      expect(await run('iso-late-throw')).to.include({ status: 'error', error: 'the worker crashed: thrown from a timer' });
      expect((await serves()).status).to.equal(200);
    });

    it('out of memory: error, and the kernel goes on', async () => {
      const result = await run('iso-oom');
      expect(result.status).to.equal('error');
      expect(result.error).to.match(/^the worker ran out of memory \(limit 64 MiB\)/);
      expect((await serves()).status).to.equal(200);
    });
  });

  describe('cancel and timeout', () => {
    it('a loop that never yields is cancelled, terminated after workerGraceMs, and the kernel serves meanwhile', async () => {
      const counter = new Int32Array(new SharedArrayBuffer(4));
      const { live, watch } = await start('iso-spin', { counter });
      await watch.next(/^spinning$/);
      const during = await serves();
      expect(during.status).to.equal(200);
      const cancelled = performance.now();
      const result = await t.kernel.service.cancel(live.id);
      expect(result.status).to.equal('cancelled');
      expect(Atomics.load(counter, 0), 'the loop is still turning within the grace period').to.be.above(0);
      await untilStill(counter);
      expect(performance.now() - cancelled, 'terminated after workerGraceMs (300), not before').to.be.at.least(250);
      expect(logged.some((l) => /did not stop within 300 ms of "cancelled": terminated/.test(l.msg))).to.equal(true);
    });

    it('a task that honours its signal stops by itself on cancel', async () => {
      const { live, watch } = await start('iso-cooperative');
      await watch.next(/^waiting for the signal$/);
      const result = await t.kernel.service.cancel(live.id);
      expect(result.status).to.equal('cancelled');
      expect(result.logs).not.to.include('never shown: the run is already cancelled');
    });

    it('a timeout reaches the worker as its signal', async () => {
      const result = await run('iso-timeout');
      expect(result).to.include({ status: 'timeout', error: 'timed out after 300ms' });
    });

    it('cancel kills the process tree a worker started with ctx.exec', async () => {
      const { live, watch } = await start('iso-exec-tree');
      await watch.next(/^self \d+/);
      const pids = [...watch.pids('self'), ...watch.pids('child')];
      expect(pids).to.have.length(2);
      await t.kernel.service.cancel(live.id);
      await waitGone(pids, 3000);
    });
  });

  describe('the event loop', () => {
    // Not a timing threshold: the kernel thread's own timers keep firing while the worker computes, and
    // each one sees the worker's shared counter moved on. A task spinning in the kernel thread would
    // hold every timer until it ended. (The delay figures are in the closing note.)
    it('keeps turning while an isolated task spins without ever yielding', async () => {
      const counter = new Int32Array(new SharedArrayBuffer(4));
      const task = t.kernel.registry.require('iso-spin');
      const live = await t.kernel.service.start(task, t.kernel.service.prepareArgs(task, { typed: { counter } }));
      await new LineWatcher(live).next(/^spinning$/);
      let last = Atomics.load(counter, 0);
      for (let turn = 0; turn < 20; turn++) {
        await sleep(5);
        const now = Atomics.load(counter, 0);
        expect(now, `turn ${turn}`).to.be.above(last);
        last = now;
      }
      expect(live.status).to.equal('running');
      await t.kernel.service.cancel(live.id);
    });
  });

  describe('shutdown', () => {
    it('stopping the kernel ends an isolated run in flight and its worker', async () => {
      const other = await bootKernel();
      try {
        other.kernel.registerTask(fixtureTasks.find((d) => d.key === 'iso-spin')!);
        const counter = new Int32Array(new SharedArrayBuffer(4));
        const task = other.kernel.registry.require('iso-spin');
        const live = await other.kernel.service.start(task, other.kernel.service.prepareArgs(task, { typed: { counter } }));
        await new LineWatcher(live).next(/^spinning$/);
        await other.stop();
        expect((await live.done).status).to.equal('cancelled');
        const a = Atomics.load(counter, 0);
        await sleep(100);
        expect(Atomics.load(counter, 0)).to.equal(a);
      } finally {
        await other.cleanup();
      }
    });
  });
});

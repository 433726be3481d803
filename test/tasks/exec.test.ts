import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ansiToHtml } from '../../core/http/ansi-html.js';
import type { ExecOptions, TaskContext } from '../../core/tasks/types.js';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { LineWatcher, alive, waitGone } from './process-helpers.js';

type Ctx = TaskContext;

describe('ctx.exec: tasks that run commands', function () {
  this.timeout(30_000);
  let t: TestKernel;
  let tmp: string;
  before(async () => {
    t = await bootKernel();
    tmp = makeTempDir('taskdeck-exec-');
  });
  after(async () => {
    await t.cleanup();
    removeDir(tmp);
  });

  let n = 0;
  /** Registers a task (a fresh key each time) and returns its key. */
  const task = (run: (ctx: Ctx) => unknown, extra: Record<string, unknown> = {}) => {
    const key = `exec-${++n}`;
    t.kernel.registerTask({ key, run, ...extra } as never);
    return key;
  };
  const execTask = (command: string, args: string[] = [], options: ExecOptions = {}) => task((ctx) => ctx.exec(command, args, options));
  const run = (key: string, args: Record<string, unknown> = {}) => t.kernel.service.run(key, args);
  const start = async (key: string) => {
    const live = await t.kernel.service.start(t.kernel.registry.require(key), {});
    return { live, watch: new LineWatcher(live) };
  };
  const storedLines = async (id: string) => t.kernel.service.getLogs(id);

  describe('output', () => {
    it('streams stdout lines in order, each one before the process ends', async () => {
      const key = execTask('bash', ['-c', 'echo "first $$"; for i in $(seq 1 50); do echo "line $i"; done; echo second; sleep 30']);
      const { live, watch } = await start(key);
      await watch.next(/^second$/);
      const [pid] = watch.pids('first');
      expect(alive(pid!), 'the command is still running').to.equal(true);
      const msgs = watch.lines.map((l) => l.msg);
      expect(msgs.slice(msgs.indexOf(`first ${pid}`) + 1, msgs.indexOf('second'))).to.deep.equal(Array.from({ length: 50 }, (_, i) => `line ${i + 1}`));
      const seqs = watch.lines.map((l) => l.seq);
      expect(seqs).to.deep.equal([...seqs].sort((a, b) => a - b));
      await t.kernel.service.cancel(live.id);
      await waitGone([pid!]);
    });

    it('marks stderr lines with the stream "stderr" and stdout lines with "log", the command line with "system"', async () => {
      const result = await run(execTask('sh', ['-c', 'echo out; echo err >&2']));
      const lines = await storedLines(result.id);
      expect(lines.find((l) => l.msg === 'out')?.stream).to.equal('log');
      expect(lines.find((l) => l.msg === 'err')?.stream).to.equal('stderr');
      expect(lines[0]).to.include({ stream: 'system', msg: "$ sh -c 'echo out; echo err >&2'" });
      expect(lines.find((l) => l.msg === 'command "sh" exited with code 0')?.stream).to.equal('system');
    });

    it('keeps ANSI colours raw in the log; rendering escapes the text and turns them into class spans', async () => {
      const result = await run(execTask('printf', ['\\033[31mred\\033[0m <b>&amp;\\n\\033[1;32mbold green\\033[0m\\n']));
      expect(result.logs).to.include('\u001b[31mred\u001b[0m <b>&amp;');
      const html = ansiToHtml('\u001b[31mred\u001b[0m <b>&amp;');
      expect(html).to.contain('<span class="ansi-red-fg">red</span>');
      expect(html).to.contain('&lt;b&gt;&amp;amp;');
      expect(html).not.to.contain('<b>');
      const bold = result.logs.find((l) => l.startsWith('\u001b[1;32m'))!;
      expect(ansiToHtml(bold)).to.equal('<span class="ansi-bold ansi-green-fg">bold green</span>');
    });

    it('logs only the last state of a \\r-rewritten line, and lets onLine see every state', async () => {
      const seen: string[] = [];
      const key = task((ctx) =>
        ctx.exec('printf', ['copy  10%%\\rcopy  55%%\\rcopy 100%%\\nnext\\n'], { onLine: (line, { rewrite }) => seen.push(`${rewrite ? 'rewrite' : 'line'}:${line}`) }),
      );
      const result = await run(key);
      expect(result.logs.filter((l) => !l.startsWith('$ ') && !l.startsWith('command ') && !l.startsWith('task ['))).to.deep.equal(['copy 100%', 'next']);
      expect(seen).to.deep.equal(['rewrite:copy  10%', 'rewrite:copy  55%', 'line:copy 100%', 'line:next']);
    });

    it('decodes binary garbage as UTF-8 with U+FFFD, and cuts a very long line at limits.maxLineLength', async () => {
      const script = 'process.stdout.write(Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a])); process.stdout.write("x".repeat(100000) + "\\n")';
      const result = await run(execTask(process.execPath, ['-e', script]));
      expect(result.status).to.equal('ok');
      expect(result.logs).to.include('\uFFFD\uFFFD\uFFFDA');
      const long = result.logs.find((l) => l.startsWith('xxx'))!;
      const [, kept, cut] = /^(x+) … \[(\d+) characters truncated\]$/.exec(long)!;
      expect(long.length).to.be.at.most(16384);
      expect(kept!.length + Number(cut)).to.equal(100000);
    });

    it('writes `input` to standard input; without it the command reads nothing (and does not hang)', async () => {
      const withInput = await run(execTask('cat', [], { input: 'hello\nworld\n' }));
      expect(withInput.logs.slice(1, 3)).to.deep.equal(['hello', 'world']);
      const without = await run(execTask('cat'));
      expect(without.status).to.equal('ok');
    });
  });

  describe('how a command ends', () => {
    it('resolves with { code, signal, pid, elapsedMs } and records the exit in the metadata and the log', async () => {
      const key = task(async (ctx) => {
        const result = await ctx.exec('true');
        return result;
      });
      const result = await run(key);
      expect(result.status).to.equal('ok');
      expect(result.data).to.include({ command: 'true', code: 0, signal: null });
      expect((result.data as { pid: number }).pid).to.be.a('number');
      expect(result.metadata).to.include({ exitCode: 0, exitSignal: null });
      expect(result.logs).to.include('command "true" exited with code 0');
      const stored = await t.kernel.service.getStoredRun(result.id);
      expect(stored.metadata).to.include({ exitCode: 0 });
      expect(stored.metadata.commands).to.deep.equal([{ command: 'true', code: 0, signal: null, ms: (stored.metadata.commands as { ms: number }[])[0]!.ms }]);
    });

    it('ends the run as error naming the command and the exit code when it exits non-zero', async () => {
      const result = await run(execTask('sh', ['-c', 'echo "pg_dump: connection refused" >&2; exit 2']));
      expect(result.status).to.equal('error');
      expect(result.error).to.equal('command "sh" exited with code 2');
      expect(result.metadata).to.include({ exitCode: 2 });
      const stored = await t.kernel.service.getStoredRun(result.id);
      expect(stored.metadata).to.include({ exitCode: 2 });
      expect(stored.error).to.equal('command "sh" exited with code 2');
    });

    it('resolves a non-zero exit with allowNonZero, so the task decides', async () => {
      const key = task(async (ctx) => {
        const { code } = await ctx.exec('sh', ['-c', 'exit 3'], { allowNonZero: true });
        return { code };
      });
      const result = await run(key);
      expect(result.status).to.equal('ok');
      expect(result.data).to.deep.equal({ code: 3 });
      expect(result.metadata).to.include({ exitCode: 3 });
    });

    it('rejects with an ExecError a task can catch, carrying exitCode', async () => {
      const key = task(async (ctx) => {
        try {
          await ctx.exec('sh', ['-c', 'exit 4']);
        } catch (error) {
          const e = error as { name: string; exitCode: number; command: string };
          return { name: e.name, exitCode: e.exitCode, command: e.command };
        }
      });
      expect((await run(key)).data).to.deep.equal({ name: 'ExecError', exitCode: 4, command: 'sh' });
    });

    it('names a command killed by a signal', async () => {
      const result = await run(execTask('sh', ['-c', 'kill -KILL $$']));
      expect(result.status).to.equal('error');
      expect(result.error).to.equal('command "sh" was killed by SIGKILL');
      expect(result.metadata).to.include({ exitCode: null, exitSignal: 'SIGKILL' });
    });

    it('gives a clear error for a command that does not exist', async () => {
      const result = await run(execTask('nope-no-such-command'));
      expect(result.status).to.equal('error');
      expect(result.error).to.equal('command "nope-no-such-command" not found (ENOENT)');
      expect(result.logs).to.include('command "nope-no-such-command" not found (ENOENT)');
    });

    it('tells a missing working directory apart from a missing command', async () => {
      const missing = path.join(tmp, 'no-such-dir');
      const result = await run(execTask('ls', [], { cwd: missing }));
      expect(result.error).to.equal(`working directory ${JSON.stringify(missing)} of command "ls" does not exist (ENOENT)`);
    });

    it('refuses bad arguments with a TypeError naming the command', async () => {
      const result = await run(task((ctx) => ctx.exec('echo', [{} as never])));
      expect(result.error).to.equal('exec "echo": argument 0: expected a string or a finite number, got object');
      const nul = await run(task((ctx) => ctx.exec('echo', ['a\0b'])));
      expect(nul.error).to.match(/^command "echo" could not be started: .*null bytes/);
    });

    it('stops the command and rejects when onLine throws', async () => {
      const result = await run(task((ctx) => ctx.exec('sh', ['-c', 'echo bad; sleep 30'], { onLine: () => { throw new Error('cannot parse'); } })));
      expect(result.status).to.equal('error');
      expect(result.error).to.equal('command "sh" was stopped: its onLine callback threw: cannot parse');
    });

    it('stops what a command left running in its group when it exits, instead of waiting for it', async () => {
      const before = Date.now();
      const result = await run(execTask('bash', ['-c', 'sleep 30 & echo "bg $!"; echo leaving']));
      expect(Date.now() - before).to.be.below(5000);
      expect(result.status).to.equal('ok');
      const bg = Number(/bg (\d+)/.exec(result.logs.join('\n'))![1]);
      await waitGone([bg]);
      expect(result.logs.some((l) => /^stopping command "bash" \(process group \d+\) \(still running after the command exited\): SIGTERM/.test(l))).to.equal(true);
    });
  });

  describe('no shell unless asked for', () => {
    it('passes an argument like $(touch …) literally', async () => {
      const marker = path.join(tmp, 'pwned-1');
      const result = await run(execTask('echo', [`$(touch ${marker})`, '; touch', marker, '`id`']));
      expect(result.logs[1]).to.equal(`$(touch ${marker}) ; touch ${marker} \`id\``);
      expect(fs.existsSync(marker)).to.equal(false);
    });

    it('passes a query-string value as one argument, never as shell text', async () => {
      const marker = path.join(tmp, 'pwned-2');
      t.kernel.registerTask({ key: 'echo-name', fields: [{ key: 'name', required: true }], run: (ctx) => ctx.exec('echo', ['hello', String(ctx.args.name)]) });
      const taskDef = t.kernel.registry.require('echo-name');
      const args = t.kernel.service.prepareArgs(taskDef, { raw: { name: `x; touch ${marker} && $(touch ${marker})` } });
      const result = await (await t.kernel.service.start(taskDef, args, { origin: 'http' })).done;
      expect(result.status).to.equal('ok');
      expect(result.logs[1]).to.equal(`hello x; touch ${marker} && $(touch ${marker})`);
      expect(fs.existsSync(marker)).to.equal(false);
    });

    it('runs a script with shell: true, with the arguments as "$1"… rather than shell text', async () => {
      const marker = path.join(tmp, 'pwned-3');
      const result = await run(execTask('printf "%s|" "$1" "$2" | tr a-z A-Z; echo', ['abc', `$(touch ${marker})`], { shell: true }));
      expect(result.status).to.equal('ok');
      expect(result.logs[0]).to.equal(`$ /bin/sh -c 'printf "%s|" "$1" "$2" | tr a-z A-Z; echo' sh abc '$(touch ${marker})'`);
      expect(result.logs[1]).to.equal(`ABC|$(TOUCH ${marker.toUpperCase()})|`);
      expect(fs.existsSync(marker)).to.equal(false);
    });
  });

  describe('environment and working directory', () => {
    const saved = { ...process.env };
    afterEach(() => {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    });

    it('inherits the environment minus TASKDECK_*, adds env, and removes a key set to undefined', async () => {
      process.env.TASKDECK_TOKEN = 'secret-token';
      process.env.EXEC_TEST_KEEP = 'kept';
      process.env.EXEC_TEST_DROP = 'dropped';
      const result = await run(execTask('env', [], { env: { EXEC_TEST_ADDED: 'added', EXEC_TEST_DROP: undefined } }));
      const vars = result.logs.filter((l) => /^[A-Z_]+=/.test(l));
      expect(vars).to.include.members(['EXEC_TEST_KEEP=kept', 'EXEC_TEST_ADDED=added']);
      expect(vars.some((v) => v.startsWith('PATH='))).to.equal(true);
      expect(vars.some((v) => v.startsWith('EXEC_TEST_DROP='))).to.equal(false);
      expect(vars.some((v) => v.startsWith('TASKDECK_'))).to.equal(false);
    });

    it('uses env as the whole environment with inheritEnv: false', async () => {
      process.env.EXEC_TEST_KEEP = 'kept';
      const result = await run(execTask('/usr/bin/env', [], { env: { ONLY: 'this' }, inheritEnv: false }));
      expect(result.logs.filter((l) => l.includes('='))).to.deep.equal(['ONLY=this']);
    });

    it('runs in cwd', async () => {
      const result = await run(execTask('pwd', [], { cwd: tmp }));
      expect(result.logs[1]).to.equal(fs.realpathSync(tmp));
    });
  });

  describe('cancel and timeout', () => {
    const tree = 'sleep 1000 & echo "child $!"; (sleep 1000 & echo "grandchild $!"; wait) & echo "child $!"; echo "self $$"; wait';

    it('cancel kills the whole process tree (children and grandchildren) and records what it stopped', async () => {
      const key = execTask('bash', ['-c', tree]);
      const { live, watch } = await start(key);
      await watch.next(/^self \d+/);
      await watch.next(/^grandchild \d+/);
      const pids = [...watch.pids('self'), ...watch.pids('child'), ...watch.pids('grandchild')];
      expect(pids).to.have.length(4);
      expect(pids.every(alive)).to.equal(true);
      const result = await t.kernel.service.cancel(live.id);
      expect(result.status).to.equal('cancelled');
      await waitGone(pids, 3000);
      expect(result.logs.some((l) => /^stopping command "bash" \(process group \d+\) \(cancelled\): SIGTERM, then SIGKILL after 5000 ms$/.test(l))).to.equal(true);
    });

    it('a timeout kills the process group too', async () => {
      const key = task((ctx) => ctx.exec('bash', ['-c', tree]), { timeout: 500 });
      const { live, watch } = await start(key);
      const result = await live.done;
      expect(result.status).to.equal('timeout');
      const pids = [...watch.pids('self'), ...watch.pids('child'), ...watch.pids('grandchild')];
      expect(pids.length).to.be.at.least(1);
      await waitGone(pids, 3000);
    });

    it('SIGKILLs a group that ignores SIGTERM once killGraceMs has passed, not before', async () => {
      const key = execTask('bash', ['-c', 'trap "" TERM; sleep 1000 & echo "child $!"; echo "self $$"; wait'], { killGraceMs: 600 });
      const { live, watch } = await start(key);
      await watch.next(/^self \d+/);
      const pids = [...watch.pids('self'), ...watch.pids('child')];
      const cancelled = Date.now();
      await t.kernel.service.cancel(live.id);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(pids.every(alive), 'SIGTERM is ignored: still alive within the grace period').to.equal(true);
      await waitGone(pids, 3000);
      expect(Date.now() - cancelled).to.be.at.least(550);
    });

    it('stops a command the task left running when its run ends', async () => {
      const pidFile = path.join(tmp, 'left-running.pid');
      const key = task(async (ctx) => {
        void ctx.exec('bash', ['-c', `echo $$ > ${pidFile}; exec sleep 1000`]).catch(() => undefined);
        while (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, 'utf8') === '') await new Promise((resolve) => setTimeout(resolve, 10));
        return 'returned without waiting';
      });
      const result = await run(key);
      expect(result.status).to.equal('ok');
      await waitGone([Number(fs.readFileSync(pidFile, 'utf8'))], 3000);
    });

    it('stopping the kernel stops the commands of runs in flight', async () => {
      const other = await bootKernel();
      try {
        other.kernel.registerTask({ key: 'tree', run: (ctx) => ctx.exec('bash', ['-c', tree]) });
        const live = await other.kernel.service.start(other.kernel.registry.require('tree'), {});
        const watch = new LineWatcher(live);
        await watch.next(/^grandchild \d+/);
        await watch.next(/^self \d+/);
        const pids = [...watch.pids('self'), ...watch.pids('child'), ...watch.pids('grandchild')];
        await other.stop();
        expect(pids.filter(alive)).to.deep.equal([]);
      } finally {
        await other.cleanup();
      }
    });
  });

  describe('metadata', () => {
    it('keeps what a task sets with ctx.result.setMetadata, with taskVersion', async () => {
      const result = await run(task((ctx) => ctx.result.setMetadata('rows', 3)));
      expect(result.metadata).to.include({ rows: 3 });
      expect(result.metadata.taskVersion).to.be.a('string');
      expect((await t.kernel.service.getStoredRun(result.id)).metadata).to.include({ rows: 3 });
    });

    it('refuses the key taskVersion with a TypeError', async () => {
      const result = await run(task((ctx) => ctx.result.setMetadata('taskVersion', 'x')));
      expect(result.status).to.equal('error');
      expect(result.error).to.match(/^setMetadata: expected a key/);
    });
  });
});

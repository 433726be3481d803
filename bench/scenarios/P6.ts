/**
 * P6: start-up of `npm start` (`node --import tsx core/main.ts`) with 200 generated plugin files, from
 * spawn to the "taskdeck is serving" log line, and the idle RSS afterwards; the baseline is a bare
 * `node -e ''` start (spawn to exit).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchContext } from '../lib/bench-context.js';
import { processMemory, stopChild, waitForLine } from '../lib/child-process.js';
import { REPO_ROOT } from '../lib/spawn-server.js';
import { below, result, type ScenarioResult } from '../lib/scenario-result.js';

const PLUGINS = 200;
/** How long the server idles before its RSS is read (shorter at size tiny, which only checks the code runs). */
const IDLE_MS = 2000;
const TINY_IDLE_MS = 300;

/** Half of the files import `defineTask` from the kernel (as the README shows), half are plain objects. */
export function writePlugins(folder: string): void {
  fs.mkdirSync(folder, { recursive: true });
  const core = pathToFileURL(path.join(REPO_ROOT, 'core/index.js')).href;
  for (let i = 0; i < PLUGINS; i++) {
    const key = `generated-${String(i).padStart(3, '0')}`;
    const body = `{
  key: '${key}',
  title: 'Generated task ${i}',
  category: 'generated-${i % 10}',
  description: 'A generated task for the start-up benchmark',
  tags: ['generated', 'group-${i % 7}'],
  fields: [
    { key: 'format', type: 'string', default: 'sql', choices: ['sql', 'tar'] },
    { key: 'count', type: 'int', default: ${i} },
    { key: 'dryRun', type: 'bool' },
  ],
  async run({ args, log }) {
    log('running ${key}', args.format);
    return { key: '${key}', count: args.count };
  },
}`;
    const source = i % 2 ? `import { defineTask } from '${core}';\n\nexport default defineTask(${body});\n` : `export default ${body};\n`;
    fs.writeFileSync(path.join(folder, `${key}.ts`), source);
  }
}

async function startServer(dir: string, execArgv: readonly string[], idleMs: number): Promise<{ ms: number; rssMB: number }> {
  const start = performance.now();
  const child = spawn(process.execPath, [...execArgv, '--import', 'tsx', 'core/main.ts', '--db', path.join(dir, 'taskdeck.db'), '--plugins', path.join(dir, 'plugins'), '--port', '0'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TASKDECK_LOG_LEVEL: 'info' },
  });
  child.stderr!.resume();
  try {
    const serving = await waitForLine(child, child.stdout!, /taskdeck is serving (http:\/\/[^/"\s]+)/, 60_000);
    const ms = performance.now() - start;
    // Every generated task must be registered (asked over HTTP after the clock stopped).
    const tasks = (await (await fetch(`${serving[1]}/admin/task?format=json`)).json()) as { key: string }[];
    const loaded = tasks.filter((t) => t.key.startsWith('generated-')).length;
    if (loaded !== PLUGINS) throw new Error(`expected ${PLUGINS} generated tasks registered, the server lists ${loaded}`);
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    return { ms, rssMB: processMemory(child.pid!).rss / 1e6 };
  } finally {
    await stopChild(child);
  }
}

/** Each start begins with a fresh database. */
function removeDatabase(dir: string): void {
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(path.join(dir, `taskdeck.db${suffix}`), { force: true });
}

async function bareNode(): Promise<number> {
  const start = performance.now();
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve, reject) => {
    child.once('exit', resolve);
    child.once('error', reject);
  });
  return performance.now() - start;
}

export default async function p6(ctx: BenchContext): Promise<ScenarioResult[]> {
  const dir = ctx.tempDir('plugins');
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
  writePlugins(path.join(dir, 'plugins'));
  // The first start compiles the new plugin files (tsx caches the output on disk); later ones are restarts.
  const idleMs = ctx.size === 'tiny' ? TINY_IDLE_MS : IDLE_MS;
  const cold = await startServer(dir, ctx.childExecArgv, idleMs);
  fs.rmSync(path.join(dir, 'taskdeck.db'), { force: true });
  ctx.record('coldStart', cold);
  const m = await ctx.measure(
    'start-up',
    async () => {
      const server = await startServer(dir, ctx.childExecArgv, idleMs);
      removeDatabase(dir);
      return { ms: server.ms, rssMB: server.rssMB, bareMs: await bareNode() };
    },
  );
  return [
    result({
      id: 'P6',
      scenario: `restart with ${PLUGINS} plugin files (spawn to "serving")`,
      taskdeck: m.ms,
      baseline: m.bareMs,
      baselineLabel: "bare `node -e ''`",
      unit: 'ms',
      goal: below(1500, 'ms'),
      notes: '`node --import tsx core/main.ts`, fresh database, folder watch on; the plugins already compiled once (tsx cache)',
    }),
    result({
      id: 'P6-cold',
      scenario: `first start with ${PLUGINS} new plugin files (spawn to "serving")`,
      taskdeck: cold.ms,
      unit: 'ms',
      goal: below(1500, 'ms'),
      notes: 'one start (not a median): tsx compiles every plugin file for the first time',
    }),
    result({
      id: 'P6-rss',
      scenario: `idle RSS after start-up with ${PLUGINS} plugin files`,
      taskdeck: m.rssMB,
      unit: 'MB',
      goal: below(100, 'MB'),
      notes: `VmRSS ${idleMs / 1000} s after "serving"`,
    }),
  ];
}

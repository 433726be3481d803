/**
 * `npm run bench`: runs each scenario (bench/scenarios/<id>.ts), taskdeck and its baseline in the same
 * process run, the median of N rounds, and writes BENCHMARKS.md and bench/results.json.
 *
 *   npm run bench -- [--size tiny|small|full] [--rounds N] [--only P1,P4] [--out DIR] [--no-install] [--profile DIR]
 *
 * Benchmarks are not tests: a missed goal is reported, not failed. The exit code is non-zero only when
 * a scenario could not run at all (a broken benchmark), so that CI can keep this code from rotting.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BenchRun, type BenchContext } from './lib/bench-context.js';
import { machineNotes } from './lib/machine-notes.js';
import { startProfile } from './lib/profiler.js';
import { formatValue, writeReport, type Report } from './lib/report.js';
import { failed, SIZES, type ScenarioResult, type Size } from './lib/scenario-result.js';

type Scenario = (ctx: BenchContext) => Promise<ScenarioResult[]>;

/** In run order; each loaded only when selected (P1-peer pulls in BullMQ). */
const SCENARIOS: Record<string, () => Promise<{ default: Scenario }>> = {
  P1: () => import('./scenarios/P1.js'),
  'P1-peer': () => import('./scenarios/P1-peer.js'),
  P2: () => import('./scenarios/P2.js'),
  P3: () => import('./scenarios/P3.js'),
  'P3-export': () => import('./scenarios/P3-export.js'),
  P4: () => import('./scenarios/P4.js'),
  P5: () => import('./scenarios/P5.js'),
  P6: () => import('./scenarios/P6.js'),
};

const ROOT = fileURLToPath(new URL('../', import.meta.url));

const USAGE = `usage: npm run bench -- [options]
  --size tiny|small|full   data sizes (default small; tiny is for CI, full is the issue's sizes)
  --rounds N               rounds per scenario, the median is reported (default 5; tiny: 1)
  --only P1,P4             run only these scenarios (${Object.keys(SCENARIOS).join(', ')})
  --out DIR                write BENCHMARKS.md and results.json into DIR (default: the repository)
  --no-install             do not apt-get install redis-server when missing (P1-peer is skipped)
  --profile DIR            write a CPU profile per scenario (and per spawned server) into DIR`;

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      size: { type: 'string', default: 'small' },
      rounds: { type: 'string' },
      only: { type: 'string' },
      out: { type: 'string' },
      'no-install': { type: 'boolean', default: false },
      profile: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const size = values.size as Size;
  if (!SIZES.includes(size)) throw new TypeError(`--size: expected one of ${SIZES.join(', ')}, got "${values.size}"`);
  const rounds = values.rounds === undefined ? (size === 'tiny' ? 1 : 5) : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 100) throw new TypeError(`--rounds: expected an integer from 1 to 100, got "${values.rounds}"`);
  const only = values.only ? values.only.split(',').map((id) => id.trim()).filter(Boolean) : Object.keys(SCENARIOS);
  for (const id of only) {
    if (!(id in SCENARIOS)) throw new TypeError(`--only: unknown scenario "${id}"; expected some of ${Object.keys(SCENARIOS).join(', ')}`);
  }
  const out = values.out ? path.resolve(values.out) : null;
  return {
    size,
    rounds,
    only: Object.keys(SCENARIOS).filter((id) => only.includes(id)),
    markdownFile: out ? path.join(out, 'BENCHMARKS.md') : path.join(ROOT, 'BENCHMARKS.md'),
    jsonFile: out ? path.join(out, 'results.json') : path.join(ROOT, 'bench/results.json'),
    install: !values['no-install'],
    profile: values.profile ? path.resolve(values.profile) : null,
  };
}

function summaryLine(r: ScenarioResult): string {
  if (r.status !== 'ok') return `${r.id}: ${r.notes}`;
  const ratio = r.ratio === null ? '' : ` (${r.ratio.toFixed(2)}x ${formatValue(r.baseline, r.unit)})`;
  const verdict = r.met === null ? '' : r.met ? ' - goal met' : ` - goal missed (${r.goal})`;
  return `${r.id}: ${formatValue(r.taskdeck, r.unit)}${ratio}${verdict}`;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const machine = machineNotes();
  const log = (message: string) => process.stderr.write(`${message}\n`);
  const run = new BenchRun({
    size: options.size,
    rounds: options.rounds,
    log,
    install: options.install,
    childExecArgv: options.profile ? ['--cpu-prof', `--cpu-prof-dir=${options.profile}`] : [],
  });
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    log('interrupted: cleaning up');
    void run.close().finally(() => process.exit(130));
  });
  const results: ScenarioResult[] = [];
  try {
    for (const id of options.only) {
      if (interrupted) break;
      const scenarioStart = performance.now();
      log(`${id}: running (size ${options.size}, ${options.rounds} round${options.rounds === 1 ? '' : 's'})`);
      const profiling = options.profile ? await startProfile(options.profile, id) : null;
      try {
        const scenario = (await SCENARIOS[id]!()).default;
        results.push(...(await scenario(run.contextFor(id))));
      } catch (error) {
        log(`${id}: failed: ${(error as Error)?.stack ?? String(error)}`);
        results.push(failed(id, error));
      } finally {
        if (profiling) log(`${id}: profile ${await profiling.stop()}`);
      }
      for (const r of results.filter((r) => r.id === id || r.id.startsWith(`${id}-`) || r.id.startsWith(`${id} `))) log(`  ${summaryLine(r)}`);
      log(`${id}: ${((performance.now() - scenarioStart) / 1000).toFixed(1)} s`);
    }
  } finally {
    await run.close();
  }
  machine.loadAverageEnd = os.loadavg().map((n) => Math.round(n * 100) / 100);
  const argv = process.argv.slice(2);
  const report: Report = {
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    jsonFile: path.relative(ROOT, options.jsonFile).startsWith('..') ? options.jsonFile : path.relative(ROOT, options.jsonFile),
    size: options.size,
    rounds: options.rounds,
    durationSeconds: (performance.now() - started) / 1000,
    machine,
    results,
    records: Object.fromEntries(run.records),
  };
  writeReport(report, options.markdownFile, options.jsonFile);
  const errors = results.filter((r) => r.status === 'error');
  const measured = results.filter((r) => r.met !== null);
  log(`wrote ${options.markdownFile} and ${options.jsonFile} in ${report.durationSeconds.toFixed(1)} s`);
  log(`goals met: ${measured.filter((r) => r.met).length} of ${measured.length}; skipped: ${results.filter((r) => r.status === 'skipped').length}; broken scenarios: ${errors.length}`);
  return errors.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${(error as Error)?.message ?? String(error)}\n`);
    process.exit(2);
  },
);

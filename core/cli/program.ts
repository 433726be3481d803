/** The `taskdeck` command line: serve, tasks, run, runs, show, prune, migrate. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { TaskdeckError } from '../errors.js';
import { loadConfig } from '../config.js';
import type { DataFormat } from '../http/formats/serialize.js';
import type { Kernel } from '../kernel.js';
import type { RunsOptions } from './history-commands.js';

// Commands import the kernel lazily, so `--help` and usage errors answer without loading it.
const DATA_FORMATS = ['json', 'csv', 'xml', 'yaml'];

interface GlobalOptions {
  db?: string;
  plugins?: string;
  verbose?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];
const formatOption = () => new Option('--format <format>', 'output format').choices(DATA_FORMATS);

export function buildProgram(): Command {
  const program = new Command('taskdeck')
    .description('A task kernel with an admin UI: run tasks, browse and export their history.')
    .option('--db <file>', 'SQLite database file (default from config/default.json)')
    .option('--plugins <folder>', 'plugins folder')
    .option('-v, --verbose', 'log plugin loading to stderr')
    .showHelpAfterError()
    .exitOverride();

  const globals = (): GlobalOptions => program.opts<GlobalOptions>();

  program
    .command('serve')
    .description('start the server (the admin UI on http://127.0.0.1:8470/admin/task by default)')
    .option('--port <port>', 'port to listen on')
    .option('--host <host>', 'address to listen on (non-loopback needs a token)')
    .option('--no-watch', 'do not watch the plugins folder')
    .action(async (options: { port?: string; host?: string; watch?: boolean }) => {
      const { serve } = await import('./serve.js');
      const { configArgv } = await import('./open-kernel.js');
      await serve(loadConfig({ argv: configArgv({ ...globals(), ...options }) }));
      return new Promise<never>(() => undefined);
    });

  program
    .command('tasks')
    .description('list the registered tasks')
    .option('--json', 'print the tasks as JSON')
    .action(async (options: { json?: boolean }) => {
      const { taskToJson } = await import('../tasks/task.js');
      await withKernel(async (kernel) => {
        if (options.json) return void process.stdout.write(`${JSON.stringify(kernel.registry.list().map(taskToJson), null, 2)}\n`);
        for (const { category, tasks } of kernel.registry.byCategory()) {
          process.stdout.write(`${category || '(no category)'}\n`);
          for (const task of tasks) {
            const marks = [task.dangerous && 'dangerous', task.expensive && 'expensive'].filter(Boolean).join(', ');
            process.stdout.write(`  ${task.key.padEnd(24)} ${task.title}${marks ? `  [${marks}]` : ''}\n`);
          }
        }
        const failures = kernel.plugins.failures();
        for (const f of failures) process.stderr.write(`plugin failed to load: ${f.file}: ${f.error}\n`);
      });
    });

  program
    .command('run')
    .description('run a task and stream its log; the exit code is 0 only when the run ends ok')
    .argument('<key>', 'task key')
    .argument('[args...]', 'arguments as key=value (repeat a key for a list)')
    .option('--label <label>', 'run label (default ad-hoc)')
    .option('--json', 'print the Result as JSON instead of the log')
    .action(async (key: string, pairs: string[], options: { label?: string; json?: boolean }) => {
      const { runCommand } = await import('./run-command.js');
      process.exitCode = await withKernel((kernel) => runCommand(kernel, key, pairs, options));
    });

  program
    .command('runs')
    .description('list past runs, newest first (with --format: export every matching run)')
    .option('--task <key>', 'only this task (repeatable)', collect)
    .option('--status <status>', 'only this status (repeatable)', collect)
    .option('--run <label>', 'only this run label (repeatable)', collect)
    .option('--tag <tag>', 'only runs with this tag (repeatable)', collect)
    .option('--arg <name=value>', 'only runs with this argument value (repeatable)', collect)
    .option('--since <time>', 'started at or after (ISO 8601 or unix ms)')
    .option('--until <time>', 'started before (ISO 8601 or unix ms)')
    .option('--limit <n>', 'at most n runs (1-500)')
    .addOption(formatOption())
    .action(async (options: RunsOptions) => {
      const { runsCommand } = await import('./history-commands.js');
      process.exitCode = await withKernel((kernel) => runsCommand(kernel, options));
    });

  program
    .command('show')
    .description('show one run: args, log, data')
    .argument('<id>', 'run id')
    .addOption(formatOption())
    .action(async (id: string, options: { format?: DataFormat }) => {
      const { showCommand } = await import('./history-commands.js');
      process.exitCode = await withKernel((kernel) => showCommand(kernel, id, options.format));
    });

  program
    .command('prune')
    .description('apply the retention policy now (config "retention"): delete old runs, keep each task\'s latest')
    .option('--dry-run', 'only say what would go')
    .action(async (options: { dryRun?: boolean }) => {
      await withKernel(async (kernel) => {
        const { policy } = kernel.retention;
        process.stdout.write(`policy: older than ${policy.maxAgeDays || '∞'} days, keeping each task's latest ${policy.keepPerTask}, budget ${policy.maxBytes ? `${policy.maxBytes} bytes` : 'none'}\n`);
        if (options.dryRun) {
          const preview = await kernel.retention.preview();
          const before = preview.cutoff === null ? '' : ` (started before ${new Date(preview.cutoff).toISOString()})`;
          process.stdout.write(`would remove ${preview.byAge} run(s) by age${before}; database ${preview.bytes} bytes${preview.overBudget ? ', over budget: more would go by size' : ''}\n`);
          for (const t of preview.perTask) process.stdout.write(`  ${t.count}  ${t.taskKey}\n`);
          if (preview.oldest.length) process.stdout.write(`the first ${preview.oldest.length} to go:\n`);
          for (const c of preview.oldest) process.stdout.write(`  ${c.id}  ${new Date(c.startedAt).toISOString()}  ${c.taskKey}  ${c.status}\n`);
          return;
        }
        const report = await kernel.retention.prune();
        process.stdout.write(`removed ${report.byAge} run(s) by age and ${report.bySize} by size; ${report.bytesBefore} -> ${report.bytesAfter} bytes in use\n`);
      });
    });

  program
    .command('migrate')
    .description('create or update the database schema, then exit')
    .action(async () => {
      const { configArgv } = await import('./open-kernel.js');
      const { openDatabase } = await import('../store/open-database.js');
      const { migrateToLatest } = await import('../store/migrate.js');
      const config = loadConfig({ argv: configArgv(globals()) });
      const db = await openDatabase(config.db);
      try {
        const outcome = await migrateToLatest(db.writer);
        const applied = outcome.results?.filter((r) => r.status === 'Success').map((r) => r.migrationName) ?? [];
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : `${db.file} is up to date\n`);
      } finally {
        await db.close();
      }
    });

  async function withKernel<T>(work: (kernel: Kernel) => Promise<T>): Promise<T> {
    const { openKernel } = await import('./open-kernel.js');
    const kernel = await openKernel(globals());
    try {
      return await work(kernel);
    } finally {
      await kernel.stop();
    }
  }

  return program;
}

/** Runs the program; errors print one clear line and set the exit code (2: usage or bad input). */
export async function runProgram(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      process.exitCode = code === 'commander.helpDisplayed' || code === 'commander.version' ? 0 : 2;
      return;
    }
    if (error instanceof InvalidArgumentError) {
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`taskdeck: ${(error as Error).message}\n`);
    process.exitCode = error instanceof TaskdeckError && error.status < 500 ? 2 : 1;
  }
}

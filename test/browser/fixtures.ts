/** Tasks the browser tests run: the seed's backup task as a plugin file, and a slow task that counts its calls. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestKernel } from '../helpers/boot-kernel.js';

/** The seed's backup task, as a plain-object plugin file (no import at all). */
export const BACKUP_PLUGIN = `
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export default {
  key: 'backup',
  title: 'Database Backup',
  category: 'maintenance',
  icon: 'database',
  description: 'Creates a database backup',
  tags: ['db', 'maintenance'],
  expensive: true,
  dangerous: 'May lock tables during backup',
  fields: [{ key: 'format', choices: ['sql', 'tar'], default: 'sql' }],
  async run({ args, log }) {
    log('starting backup');
    log('locking tables');
    await sleep(20);
    log('writing backup.' + args.format);
    log('unlocking tables');
    return { file: 'backup.' + args.format };
  },
};
`;

/** How many times the slow task's function ran, per run id. */
export type Invocations = Map<string, number>;

/**
 * Registers `slow` (dynamic): logs `lines` lines (default 20), `delay` ms apart (default 50), reporting
 * progress after each, and honouring cancel through its signal.
 */
export function registerSlowTask(t: TestKernel): Invocations {
  const invocations: Invocations = new Map();
  t.kernel.registerTask({
    key: 'slow',
    title: 'Slow Lines',
    category: 'examples',
    icon: 'loader',
    description: 'Logs a line every few milliseconds and reports progress.',
    fields: [
      { key: 'lines', type: 'int', default: 20, description: 'How many lines' },
      { key: 'delay', type: 'int', default: 50, description: 'Milliseconds between lines' },
    ],
    async run({ args, log, result, signal, runId }) {
      invocations.set(runId, (invocations.get(runId) ?? 0) + 1);
      const lines = Number(args.lines);
      for (let i = 1; i <= lines; i++) {
        await sleep(Number(args.delay), undefined, { signal });
        log(`line ${i} of ${lines}`);
        result.progress(i, lines, `line ${i}`);
      }
      return { lines };
    },
  });
  return invocations;
}

export const RUN_URL = /\/admin\/run\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

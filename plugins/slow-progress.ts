// A slow task that reports progress: watch it live with Start, cancel it half-way.
import { setTimeout as sleep } from 'node:timers/promises';
import { defineTask } from '../core/index.js';

export default defineTask({
  key: 'slow-progress',
  title: 'Slow Task With Progress',
  category: 'examples',
  icon: 'loader',
  description: 'Counts to a number, one step at a time, reporting progress.',
  fields: [
    { key: 'steps', type: 'int', default: 20, description: 'How many steps' },
    { key: 'delay', type: 'int', default: 250, description: 'Milliseconds per step' },
  ],
  async run({ args, log, result, signal }) {
    const steps = Number(args.steps);
    for (let i = 1; i <= steps; i++) {
      await sleep(Number(args.delay), undefined, { signal });
      log(`step ${i} of ${steps}`);
      result.progress(i, steps, `step ${i}`);
    }
    return { steps };
  },
});

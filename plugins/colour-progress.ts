// A long command with colour and progress: a small Node script prints ANSI-coloured lines and a
// percentage redrawn with "\r". The log keeps the colours and only the last state of each redrawn
// line; the intermediate states drive the run's progress bar.
import { fileURLToPath } from 'node:url';
import { defineTask } from '../core/index.js';

const SCRIPT = fileURLToPath(new URL('./_progress-script.mjs', import.meta.url));

export default defineTask({
  key: 'colour-progress',
  title: 'Long Command With Colour',
  category: 'examples',
  icon: 'terminal',
  description: 'Runs a script that prints coloured output and a \\r progress percentage; cancel it half-way.',
  tags: ['command'],
  fields: [
    { key: 'steps', type: 'int', default: 40, description: 'How many steps' },
    { key: 'delay', type: 'int', default: 100, description: 'Milliseconds per step' },
  ],
  async run({ args, exec, result }) {
    const steps = Math.max(1, Math.min(10_000, Number(args.steps)));
    const delay = Math.max(0, Math.min(60_000, Number(args.delay)));
    const { code, elapsedMs } = await exec(process.execPath, [SCRIPT, steps, delay], {
      onLine: (line) => {
        const percent = /(\d{1,3})%/.exec(line);
        if (percent) result.progress(Number(percent[1]), 100, line.trim());
      },
    });
    return { steps, code, elapsedMs };
  },
});

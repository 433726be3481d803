// Run by the "colour-progress" task (a helper, not a plugin): prints coloured lines and a percentage
// that rewrites itself with "\r", the way many command-line tools draw progress.
import { setTimeout as sleep } from 'node:timers/promises';

const steps = Number(process.argv[2] ?? 20);
const delay = Number(process.argv[3] ?? 100);
const colour = (code, text) => `\u001b[${code}m${text}\u001b[0m`;

process.stdout.write(`${colour('1;36', 'build')} starting ${steps} steps\n`);
for (let i = 1; i <= steps; i++) {
  await sleep(delay);
  process.stdout.write(`\rprogress ${String(Math.round((i * 100) / steps)).padStart(3)}%`);
  if (i % 5 === 0) {
    process.stdout.write('\n');
    process.stdout.write(`${colour(32, 'ok')} step ${i} done\n`);
  }
  if (i === Math.ceil(steps / 2)) process.stderr.write(`${colour(33, 'warning')} half-way there\n`);
}
process.stdout.write(`\n${colour('1;32', 'done')}\n`);

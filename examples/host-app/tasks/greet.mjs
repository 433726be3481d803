// A task of the host app: plain JavaScript, no import needed (taskdeck validates the shape).
import { setTimeout as sleep } from 'node:timers/promises';

export default {
  key: 'greet',
  title: 'Greet',
  category: 'examples',
  icon: 'hand',
  description: 'Logs a greeting, one line every 100 ms',
  fields: [
    { key: 'name', default: 'world' },
    { key: 'times', type: 'int', default: 3 },
  ],
  async run({ args, log, signal }) {
    for (let i = 1; i <= args.times; i++) {
      log(`hello ${args.name} (${i}/${args.times})`);
      await sleep(100, undefined, { signal });
    }
    return { greeted: args.name, times: args.times };
  },
};

// A task meant for batches: hash one item; run many with kernel.service.runAll('batch-hash', [...]).
import { createHash } from 'node:crypto';
import { defineTask } from '../core/index.js';

export default defineTask({
  key: 'batch-hash',
  title: 'Hash an Item',
  category: 'examples',
  icon: 'hash',
  description: 'Hashes one value; meant to be run in batches with runAll (4 at a time).',
  maxConcurrent: 4,
  fields: [
    { key: 'value', type: 'string', required: true, description: 'The text to hash' },
    { key: 'algorithm', type: 'string', choices: ['sha256', 'sha1', 'md5'], default: 'sha256' },
  ],
  run({ args }) {
    const digest = createHash(String(args.algorithm)).update(String(args.value)).digest('hex');
    return { value: args.value, algorithm: args.algorithm, digest };
  },
});

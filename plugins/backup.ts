// The seed's example task: a database backup with a format choice. Expensive and dangerous.
import { setTimeout as sleep } from 'node:timers/promises';
import { defineTask } from '../core/index.js';

export default defineTask({
  key: 'backup',
  title: 'Database Backup',
  category: 'maintenance',
  icon: 'database',
  description: 'Creates a database backup',
  tags: ['db', 'maintenance'],
  expensive: true,
  dangerous: 'May lock tables during backup',
  fields: [{ key: 'format', title: 'Format', type: 'string', default: 'sql', choices: ['sql', 'tar'], description: 'Dump as SQL statements or a tar archive' }],
  async run({ args, log, signal }) {
    log('starting backup');
    const format = String(args.format);
    for (const table of ['users', 'orders', 'invoices']) {
      await sleep(50, undefined, { signal });
      log(`dumped table ${table}`);
    }
    return { file: `backup.${format}` };
  },
});

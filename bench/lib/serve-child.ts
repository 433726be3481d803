/**
 * A taskdeck server in a process of its own, for figures that need one (peak RSS): the kernel with the
 * config overrides given as JSON in argv[2], silent logs, and `serving <url>` on stdout once it listens.
 * SIGTERM stops the kernel and exits.
 *
 *   node --import tsx bench/lib/serve-child.ts '{"db":"/tmp/x/history.db","plugins":"/tmp/x/plugins"}'
 */
import pino from 'pino';
import { configWith } from '../../core/config.js';
import { Kernel } from '../../core/kernel.js';

const overrides = JSON.parse(process.argv[2] ?? '{}') as NonNullable<Parameters<typeof configWith>[0]>;
const config = configWith({ port: 0, watchPlugins: false, logLevel: 'silent', ...overrides, retention: { intervalMinutes: 0, ...overrides.retention } });
const kernel = new Kernel(config, { logger: pino({ level: 'silent' }) });
await kernel.start();
process.stdout.write(`serving ${kernel.url}\n`);
process.once('SIGTERM', () => void kernel.stop().then(() => process.exit(0)));

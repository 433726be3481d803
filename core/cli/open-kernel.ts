/** A kernel for one CLI command: same config, database and plugins as the server, without serving. */
import pino from 'pino';
import { loadConfig } from '../config.js';
import { Kernel } from '../kernel.js';

export interface GlobalOptions {
  db?: string;
  plugins?: string;
  verbose?: boolean;
}

export function configArgv(options: GlobalOptions & { port?: string; host?: string; watch?: boolean }): string[] {
  const argv: string[] = [];
  for (const key of ['db', 'plugins', 'port', 'host'] as const) {
    const value = options[key];
    if (typeof value === 'string') argv.push(`--${key}`, value);
  }
  if (options.watch === false) argv.push('--no-watch');
  return argv;
}

export async function openKernel(options: GlobalOptions): Promise<Kernel> {
  const config = loadConfig({ argv: configArgv(options) });
  // Plugin load messages go to stderr only when asked: stdout carries the command's output.
  const logger = pino({ level: options.verbose ? 'info' : 'warn' }, pino.destination(2));
  return new Kernel(config, { logger, listen: false, role: 'client' }).start();
}

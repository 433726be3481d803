/** Process entry: config -> kernel.start(); SIGINT/SIGTERM -> kernel.stop(). */
import { loadConfig } from './config.js';
import { Kernel } from './kernel.js';

async function main(): Promise<void> {
  let kernel: Kernel;
  try {
    kernel = new Kernel(loadConfig({ argv: process.argv.slice(2) }));
    await kernel.start();
  } catch (error) {
    process.stderr.write(`taskdeck: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    kernel.logger.info({ signal }, 'stopping');
    void kernel.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // A task must never take the process down: log what escaped and keep serving.
  process.on('unhandledRejection', (reason) => kernel.logger.error({ err: reason }, 'unhandled rejection'));
  process.on('uncaughtException', (error) => kernel.logger.error({ err: error }, 'uncaught exception'));
}

void main();

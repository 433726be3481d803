/** Runs the server until SIGINT/SIGTERM, then stops the kernel cleanly. Used by `npm start` and `taskdeck serve`. */
import type { Config } from '../config.js';
import { Kernel } from '../kernel.js';

export async function serve(config: Config): Promise<Kernel> {
  const kernel = new Kernel(config);
  await kernel.start();
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
  return kernel;
}

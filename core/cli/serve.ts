/**
 * Runs the server until SIGINT/SIGTERM, then stops the kernel cleanly. Used by `npm start` and
 * `taskdeck serve`. The signal handlers are installed before the kernel starts: a SIGTERM during
 * start-up (a supervisor giving up on a slow start) stops what was built so far and exits 0.
 */
import type { Config } from '../config.js';
import { Kernel, KernelStoppedError } from '../kernel.js';

export async function serve(config: Config): Promise<Kernel> {
  const kernel = new Kernel(config);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    kernel.logger.info({ signal }, 'stopping');
    void kernel.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  try {
    await kernel.start();
  } catch (error) {
    // Stopped by a signal during start-up: shutdown() exits once the stop has finished.
    if (error instanceof KernelStoppedError) return kernel;
    throw error;
  }
  // A task must never take the process down: log what escaped and keep serving.
  process.on('unhandledRejection', (reason) => kernel.logger.error({ err: reason }, 'unhandled rejection'));
  process.on('uncaughtException', (error) => kernel.logger.error({ err: error }, 'uncaught exception'));
  return kernel;
}

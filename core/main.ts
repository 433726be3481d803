/** Process entry of `npm start`: config -> kernel.start(); SIGINT/SIGTERM -> kernel.stop(). */
import { serve } from './cli/serve.js';
import { loadConfig } from './config.js';

try {
  await serve(loadConfig({ argv: process.argv.slice(2) }));
} catch (error) {
  process.stderr.write(`taskdeck: ${(error as Error).message}\n`);
  process.exitCode = 1;
}

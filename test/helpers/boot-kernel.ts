/** Boots a real kernel for a test: a temp SQLite file, a temp plugins folder, HTTP on port 0. */
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { configWith, type ConfigOverrides } from '../../core/config.js';
import { Kernel, type KernelOptions } from '../../core/kernel.js';
import { makeTempDir, removeDir } from './temp-dir.js';

export interface TestKernel {
  kernel: Kernel;
  dir: string;
  pluginsDir: string;
  dbFile: string;
  /** Stops the kernel (idempotent); the temp folder stays until `cleanup`. */
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

export interface BootOptions extends KernelOptions {
  config?: ConfigOverrides;
  /** Plugin files to write before start: name -> source. */
  plugins?: Record<string, string>;
  /** Reuse a folder (to restart a kernel on the same database). */
  dir?: string;
}

export async function bootKernel(options: BootOptions = {}): Promise<TestKernel> {
  const dir = options.dir ?? makeTempDir();
  const pluginsDir = path.join(dir, 'plugins');
  fs.mkdirSync(pluginsDir, { recursive: true });
  // Without it, tsx compiles .ts plugins in a temp folder as CommonJS (no top-level await).
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
  for (const [name, source] of Object.entries(options.plugins ?? {})) fs.writeFileSync(path.join(pluginsDir, name), source);
  const dbFile = path.join(dir, 'taskdeck.db');
  const config = configWith({ port: 0, db: dbFile, plugins: pluginsDir, watchPlugins: false, logLevel: 'silent', ...options.config });
  const kernel = new Kernel(config, { logger: options.logger ?? pino({ level: process.env.TASKDECK_TEST_LOG ?? 'silent' }), listen: options.listen ?? false, now: options.now });
  await kernel.start();
  return {
    kernel,
    dir,
    pluginsDir,
    dbFile,
    stop: () => kernel.stop(),
    async cleanup() {
      await kernel.stop();
      removeDir(dir);
    },
  };
}

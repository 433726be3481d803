/**
 * A kernel for a benchmark, booted in this process the way an application would: a SQLite file in a
 * temp folder, no plugin files (tasks are registered from code), silent logs, HTTP on port 0 if asked,
 * and no periodic retention (a prune in the middle of a measurement would measure the prune).
 */
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { configWith, type Config } from '../../core/config.js';
import { Kernel } from '../../core/kernel.js';
import { migrateToLatest } from '../../core/store/migrate.js';
import { openDatabase } from '../../core/store/open-database.js';

export type ConfigOverrides = NonNullable<Parameters<typeof configWith>[0]>;

export interface BenchKernelOptions {
  /** Folder for the database (and an empty plugins folder). */
  dir: string;
  /** Database file; default `<dir>/taskdeck.db`. */
  db?: string;
  listen?: boolean;
  config?: ConfigOverrides;
}

/** The config a benchmark kernel runs with: port 0, silent, no watcher, no periodic prune. */
export function benchConfig(dir: string, overrides: ConfigOverrides = {}): Config {
  const plugins = path.join(dir, 'plugins');
  fs.mkdirSync(plugins, { recursive: true });
  return configWith({
    port: 0,
    db: path.join(dir, 'taskdeck.db'),
    plugins,
    watchPlugins: false,
    logLevel: 'silent',
    ...overrides,
    retention: { intervalMinutes: 0, ...overrides.retention },
  });
}

export async function bootBenchKernel(options: BenchKernelOptions): Promise<Kernel> {
  const config = benchConfig(options.dir, { ...(options.db ? { db: options.db } : {}), ...options.config });
  const kernel = new Kernel(config, { logger: pino({ level: 'silent' }), listen: options.listen ?? false });
  return kernel.start();
}

/** Creates a database file with the kernel's schema (its own migrations), then closes it. */
export async function createMigratedDatabase(file: string): Promise<void> {
  const db = await openDatabase(file);
  try {
    await migrateToLatest(db.writer);
  } finally {
    await db.close();
  }
}

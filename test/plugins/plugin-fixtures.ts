/** Real plugin folders in temp dirs, a real registry and loader, and a poller for the watch tests. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { PluginLoader, type PluginLoaderOptions } from '../../core/plugins/plugin-loader.js';
import { TaskRegistry } from '../../core/tasks/registry.js';
import type { TaskContext } from '../../core/tasks/types.js';

export class PluginFolder {
  readonly root: string;
  /** The plugins folder itself: `<root>/plugins`, so that display paths read `plugins/x.ts`. */
  readonly dir: string;

  constructor() {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'taskdeck-plugins-'));
    this.dir = path.join(this.root, 'plugins');
    fs.mkdirSync(this.dir, { mode: 0o755 });
    // The repo's plugins/ sits under a `"type": "module"` package.json; so does this folder.
    fs.writeFileSync(path.join(this.root, 'package.json'), '{ "type": "module" }\n');
  }

  write(name: string, source: string): string {
    const file = path.join(this.dir, name);
    fs.writeFileSync(file, source);
    return file;
  }

  remove(name: string): void {
    fs.rmSync(path.join(this.dir, name), { force: true });
  }

  cleanup(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** A logger that keeps what it writes, for asserting what was logged. */
export function capturingLogger(): { logger: Logger; lines: () => { level: number; msg: string }[] } {
  const written: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void written.push(line) });
  return { logger, lines: () => written.map((line) => JSON.parse(line) as { level: number; msg: string }) };
}

export interface LoaderFixture {
  loader: PluginLoader;
  registry: TaskRegistry;
}

export function newLoader(folder: PluginFolder, options: Partial<PluginLoaderOptions> = {}): LoaderFixture {
  const registry = options.registry ?? new TaskRegistry();
  const logger = options.logger ?? pino({ level: 'silent' });
  const host = options.host ?? { registerTask: () => undefined, logger };
  const loader = new PluginLoader({ folder: folder.dir, registry, logger, host, ...options });
  return { loader, registry };
}

/** A context good enough to call a task's run function directly. */
export function fakeContext(args: Record<string, unknown> = {}): TaskContext {
  return { args } as unknown as TaskContext;
}

/** Polls until `probe` returns something truthy; rejects after `timeoutMs`. Resolves with the value and the wait. */
export async function until<T>(probe: () => T | undefined | null | false, timeoutMs = 2000, what = 'condition'): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  for (;;) {
    const value = probe();
    const ms = performance.now() - started;
    if (value) return { value, ms };
    if (ms > timeoutMs) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

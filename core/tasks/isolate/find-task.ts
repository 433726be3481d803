/**
 * Finds a task definition by key in a module's exports, the way the worker looks for an isolated task:
 * the default export (a task, an array of tasks, or a plugin `{ tasks, setup }` whose setup is run
 * against a host that only collects what it registers), then any named export that is a task.
 */
import type { Logger } from 'pino';
import { looksLikeTask } from '../task.js';
import type { TaskFunction } from '../types.js';

export interface FoundTask {
  key: string;
  run: TaskFunction;
}

export async function findTaskInModule(namespace: unknown, key: string, logger: Logger): Promise<{ task: FoundTask | null; keys: string[] }> {
  const candidates: unknown[] = [];
  const exports = typeof namespace === 'object' && namespace !== null ? (namespace as Record<string, unknown>) : {};
  const main = exports.default;
  if (Array.isArray(main)) candidates.push(...(main as unknown[]));
  else if (looksLikeTask(main)) candidates.push(main);
  else if (typeof main === 'object' && main !== null) {
    const plugin = main as { tasks?: unknown; setup?: unknown };
    if (Array.isArray(plugin.tasks)) candidates.push(...(plugin.tasks as unknown[]));
    if (typeof plugin.setup === 'function') {
      const registered: unknown[] = [];
      await (plugin.setup as (host: unknown) => unknown)({ registerTask: (definition: unknown) => void registered.push(definition), logger });
      candidates.push(...registered);
    }
  }
  for (const [name, value] of Object.entries(exports)) if (name !== 'default' && looksLikeTask(value)) candidates.push(value);
  const tasks = candidates.filter(looksLikeTask);
  const found = tasks.find((t) => t.key === key);
  return { task: found ? { key, run: found.run as TaskFunction } : null, keys: [...new Set(tasks.map((t) => String(t.key)))] };
}

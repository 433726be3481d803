/**
 * Which prepared plugin files win their keys. The answer depends only on the folder's content and on
 * tasks registered by others, never on the order files happened to change in: files claim their keys
 * in name order, the first claim wins, and a file that loses any key loads none (all or nothing).
 */
import { describeSource } from '../tasks/task.js';
import type { Task } from '../tasks/types.js';
import { PluginLoadError } from './plugin-load-error.js';
import type { PreparedPlugin } from './prepare-plugin.js';

export interface PluginPlan {
  /** Files whose tasks should be registered, in name order. */
  winners: PreparedPlugin[];
  /** Files refused because a key was taken. */
  conflicts: PluginLoadError[];
}

/**
 * @param prepared files that loaded, in name order
 * @param externalTask a task with this key registered by someone other than this loader, if any
 */
export function planPlugins(prepared: readonly PreparedPlugin[], externalTask: (key: string) => Task | undefined): PluginPlan {
  const owners = new Map<string, PreparedPlugin>();
  const plan: PluginPlan = { winners: [], conflicts: [] };
  for (const plugin of prepared) {
    const conflict = firstConflict(plugin, owners, externalTask);
    if (conflict) {
      plan.conflicts.push(conflict);
      continue;
    }
    for (const task of plugin.tasks) owners.set(task.key, plugin);
    plan.winners.push(plugin);
  }
  return plan;
}

function firstConflict(
  plugin: PreparedPlugin,
  owners: ReadonlyMap<string, PreparedPlugin>,
  externalTask: (key: string) => Task | undefined,
): PluginLoadError | undefined {
  for (const task of plugin.tasks) {
    const owner = owners.get(task.key);
    if (owner) {
      return new PluginLoadError(
        plugin.display,
        `task "${task.key}" is already defined by ${owner.display} (the first file in name order wins); refused the one from ${plugin.display}, so none of this file's tasks are registered`,
      );
    }
    const external = externalTask(task.key);
    if (external) {
      return new PluginLoadError(
        plugin.display,
        `task "${task.key}" is already registered by ${describeSource(external.source)}; refused the one from ${plugin.display}, so none of this file's tasks are registered`,
      );
    }
  }
  return undefined;
}

/**
 * What a plugin file may default-export, and the guard that turns the untrusted export into a list of
 * task definitions (still unvalidated: `normalizeTask` checks each one) plus an optional `setup`.
 */
import type { Logger } from 'pino';
import { looksLikeTask } from '../tasks/task.js';
import type { TaskContext, TaskDefinition } from '../tasks/types.js';
import { PluginLoadError } from './plugin-load-error.js';

/**
 * A task definition as a plugin hands it over, with any argument type. `run` is declared as a method
 * so that its parameter is compared bivariantly: a definition typed for `{ name: string }` args fits,
 * while an inline `run: ({ args }) => ...` still gets `TaskArgs` for its context. Declare typed args
 * with a `type` alias, not an `interface`: an interface has no index signature, so it is not a `TaskArgs`.
 */
export type PluginTaskDefinition = Omit<TaskDefinition, 'run'> & {
  run(ctx: TaskContext): unknown;
};

/** What a plugin's `setup` receives: a narrow view of the kernel, scoped to that plugin file. */
export interface PluginHost {
  /**
   * Adds a task owned by the plugin file: it is reloaded when the file changes and removed when the
   * file is deleted. Call it while `setup` runs; the file's tasks register together once setup ends.
   */
  registerTask(def: PluginTaskDefinition): void;
  /** A logger for the plugin (a child carrying the plugin's name when given by the loader). */
  readonly logger: Logger;
}

/** A plugin object: a name, tasks, and a setup function that may register more tasks. */
export interface PluginDefinition {
  /** Shown in logs; defaults to the file name without its extension. */
  name?: string;
  tasks?: readonly PluginTaskDefinition[];
  /** Runs once per load of the file (again after each change). It may be async; it has the import timeout. */
  setup?: (kernel: PluginHost) => void | Promise<void>;
}

/**
 * Types a plugin object; it returns its argument unchanged. Not generic on purpose: inferring a type
 * parameter from the argument would make an inline task's `args` take the type of a typed task next to
 * it in the same `tasks` array.
 *
 * @example
 * export default definePlugin({
 *   name: 'greetings',
 *   tasks: [{ key: 'hello', run: () => 'hi' }],
 *   async setup(kernel) {
 *     kernel.registerTask({ key: 'bye', run: () => 'bye' });
 *   },
 * });
 */
export function definePlugin(plugin: PluginDefinition): PluginDefinition {
  return plugin;
}

/** A default export understood: its task definitions (unchecked) and setup. */
export interface PluginShape {
  name: string;
  tasks: unknown[];
  setup?: (kernel: PluginHost) => unknown;
}

export const EXPECTED_EXPORT = 'expected a default export of a task, an array of tasks or { name, tasks, setup }';

/**
 * Reads a module's default export. `file` is the display path errors start with; `fallbackName` names
 * a plugin that does not name itself.
 */
export function pluginShapeOf(exported: unknown, file: string, fallbackName: string): PluginShape {
  if (Array.isArray(exported)) {
    exported.forEach((item, index) => {
      if (!isRecord(item)) throw new PluginLoadError(file, `element ${index} of the default export: expected a task (an object with key and run), got ${describeValue(item)}`);
    });
    return { name: fallbackName, tasks: [...exported] };
  }
  if (isRecord(exported)) {
    // An object with a key is meant as a task even when its run is missing: normalizeTask says what is wrong.
    if (looksLikeTask(exported) || 'key' in exported) return { name: fallbackName, tasks: [exported] };
    if (looksLikePluginObject(exported)) return pluginObjectShape(exported, file, fallbackName);
  }
  throw new PluginLoadError(file, `${EXPECTED_EXPORT}, got ${describeValue(exported)}`);
}

/** The default export of an imported module namespace; a module without one is an error naming its exports. */
export function defaultExportOf(namespace: unknown, file: string): unknown {
  if (typeof namespace === 'object' && namespace !== null && 'default' in namespace) return namespace.default;
  const names = typeof namespace === 'object' && namespace !== null ? Object.keys(namespace) : [];
  const named = names.length === 0 ? '' : ` (named exports: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''})`;
  throw new PluginLoadError(file, `${EXPECTED_EXPORT}, got no default export${named}`);
}

function pluginObjectShape(plugin: Record<string, unknown>, file: string, fallbackName: string): PluginShape {
  const { name, tasks, setup } = plugin;
  if (name !== undefined && (typeof name !== 'string' || name.trim() === '')) {
    throw new PluginLoadError(file, `plugin name: expected a non-empty string, got ${describeValue(name)}`);
  }
  if (tasks !== undefined && !Array.isArray(tasks)) {
    throw new PluginLoadError(file, `plugin tasks: expected an array of tasks, got ${describeValue(tasks)}`);
  }
  if (setup !== undefined && typeof setup !== 'function') {
    throw new PluginLoadError(file, `plugin setup: expected a function, got ${describeValue(setup)}`);
  }
  const list: unknown[] = Array.isArray(tasks) ? tasks : [];
  list.forEach((item, index) => {
    if (!isRecord(item)) throw new PluginLoadError(file, `plugin tasks[${index}]: expected a task (an object with key and run), got ${describeValue(item)}`);
  });
  const shape: PluginShape = { name: typeof name === 'string' ? name : fallbackName, tasks: [...list] };
  if (isSetup(setup)) shape.setup = setup;
  return shape;
}

function looksLikePluginObject(value: Record<string, unknown>): boolean {
  return 'name' in value || 'tasks' in value || 'setup' in value;
}

function isSetup(value: unknown): value is (kernel: PluginHost) => unknown {
  return typeof value === 'function';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What arrived, for an error message: the kind first, then a short look at the value. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  switch (typeof value) {
    case 'string':
      return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return `a ${typeof value} (${String(value)})`;
    case 'symbol':
      return 'a symbol';
    case 'function':
      return value.name ? `a function (${value.name})` : 'a function';
    default: {
      const keys = Object.keys(value as object);
      return keys.length === 0 ? 'an empty object' : `an object with keys ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', …' : ''}`;
    }
  }
}

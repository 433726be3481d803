/**
 * Loads one plugin file into normalised tasks without touching the registry: import under a URL that
 * names the content's version, read the default export, run `setup`, normalise every task. Any problem
 * is a PluginLoadError naming the file, so a file's load is all or nothing. The import and the rest are
 * two steps (`importPlugin`, `finishPlugin`), so that a loader can import files ahead while it checks
 * them and runs their `setup` one at a time, in name order.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { describeThrown } from '../errors.js';
import { normalizeTask } from '../tasks/task.js';
import type { Task } from '../tasks/types.js';
import { PluginLoadError } from './plugin-load-error.js';
import { defaultExportOf, pluginShapeOf, type PluginTaskDefinition, type PluginHost, type PluginShape } from './plugin-shape.js';
import { settleWithin } from './settle-within.js';

/** A plugin file read and checked, ready to register. */
export interface PreparedPlugin {
  /** Absolute path. */
  readonly file: string;
  /** Path shown to people and kept as the tasks' source (`plugins/x.ts`). */
  readonly display: string;
  readonly name: string;
  /** Hash of the file's content: the `?v=` of the import URL and every task's `version`. */
  readonly version: string;
  readonly tasks: readonly Task[];
}

export interface PrepareOptions {
  /** Absolute path. */
  file: string;
  display: string;
  version: string;
  /** 0 on the first import of this content; n for the n-th retry after a failure (a fresh URL). */
  attempt?: number;
  timeoutMs: number;
  /** The base logger handed (as a child) to the plugin's setup. */
  logger: Logger;
  /** Aborts the waits when the loader stops. */
  signal: AbortSignal;
}

/** A plugin file's module, imported and not yet checked. */
export interface ImportedPlugin {
  readonly url: string;
  readonly namespace: unknown;
}

export async function preparePlugin(options: PrepareOptions): Promise<PreparedPlugin> {
  return finishPlugin(await importPlugin(options), options);
}

/** Imports the file under a URL naming its content's version (within `timeoutMs`). */
export async function importPlugin(options: PrepareOptions): Promise<ImportedPlugin> {
  const { file, display, version } = options;
  // Every import, the first included, carries the version: a changed file is a new URL, so fresh code.
  const retry = options.attempt ? `-${options.attempt}` : '';
  const url = `${pathToFileURL(file).href}?v=${version}${retry}`;
  try {
    return { url, namespace: await settleWithin(import(url), options.timeoutMs, options.signal, () => timedOut(display, 'import', options.timeoutMs)) };
  } catch (error) {
    if (error instanceof PluginLoadError || options.signal.aborted) throw error;
    throw new PluginLoadError(display, `import failed: ${describeThrown(error)}`, { cause: error });
  }
}

/** Reads the imported module's default export, runs `setup`, normalises every task. */
export async function finishPlugin({ url, namespace }: ImportedPlugin, options: PrepareOptions): Promise<PreparedPlugin> {
  const { file, display, version } = options;
  const fallbackName = path.basename(file, path.extname(file));
  const shape = pluginShapeOf(defaultExportOf(namespace, display), display, fallbackName);
  const definitions = [...shape.tasks];
  if (shape.setup) definitions.push(...(await runSetup(shape, options)));
  const tasks = definitions.map((definition) => {
    try {
      return normalizeTask(definition, { kind: 'plugin', file: display }, version, { module: url });
    } catch (error) {
      throw new PluginLoadError(display, describeThrown(error), { cause: error });
    }
  });
  const seen = new Set<string>();
  for (const task of tasks) {
    if (seen.has(task.key)) throw new PluginLoadError(display, `task "${task.key}" is defined twice in this file`);
    seen.add(task.key);
  }
  return { file, display, name: shape.name, version, tasks: Object.freeze(tasks) };
}

/**
 * Runs `setup` with a host scoped to this file: tasks it registers belong to the file. A call after
 * setup has settled (from a timer, say) cannot join the file's all-or-nothing load: it is logged and
 * ignored rather than thrown, since a throw there would be an uncaught exception in the kernel.
 */
async function runSetup(shape: PluginShape, options: PrepareOptions): Promise<unknown[]> {
  const { display } = options;
  const logger = options.logger.child({ plugin: shape.name, file: display });
  const registered: unknown[] = [];
  let open = true;
  const host: PluginHost = {
    registerTask(definition: PluginTaskDefinition): void {
      if (open) {
        registered.push(definition);
        return;
      }
      const key = typeof definition === 'object' && definition !== null ? String((definition as { key?: unknown }).key) : String(definition);
      logger.error(`${display}: registerTask("${key}") was called after setup finished and was ignored: register tasks while setup runs`);
    },
    logger,
  };
  const setup = shape.setup;
  try {
    if (setup) await settleWithin(Promise.resolve().then(() => setup(host)), options.timeoutMs, options.signal, () => timedOut(display, 'setup', options.timeoutMs));
  } catch (error) {
    if (error instanceof PluginLoadError || options.signal.aborted) throw error;
    throw new PluginLoadError(display, `setup failed: ${describeThrown(error)}`, { cause: error });
  } finally {
    open = false;
  }
  return registered;
}

function timedOut(display: string, what: 'import' | 'setup', ms: number): PluginLoadError {
  const hint = what === 'import' ? ' (a top-level await that never settles?)' : '';
  return new PluginLoadError(display, `${what} did not settle within ${ms} ms${hint}`);
}

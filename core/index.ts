/**
 * The package's one entry (`import ... from 'taskdeck'`), and the only import a plugin author needs. A plugin file default-exports a task, an array of tasks, or
 * `{ name, tasks, setup }`; these helpers only add types.
 *
 * @example
 * import { defineTask } from '../core/index.js';
 * export default defineTask({
 *   key: 'hello',
 *   fields: [{ key: 'name', default: 'world' }],
 *   run: ({ args, log }) => { log(`hello ${args.name}`); return { greeted: args.name }; },
 * });
 */
export { defineTask, type ArgsOf, type FieldValue } from './tasks/define-task.js';
export { definePlugin, type PluginDefinition, type PluginHost } from './plugins/plugin-shape.js';
export type {
  Field,
  FieldDesc,
  FieldType,
  Progress,
  ResultHandle,
  ResultJson,
  RunStatus,
  Task,
  TaskArgs,
  TaskContext,
  TaskDefinition,
  TaskFunction,
} from './tasks/types.js';
export { Kernel, type KernelOptions } from './kernel.js';
export { loadConfig, configWith, type Config, type ConfigOverrides } from './config.js';
export { createKernel, TaskdeckKernel, type CreateKernelOptions, type MountOptions } from './create-kernel.js';
export type { AuthorizeHook, AuthorizeUpgradeHook } from './http/auth-access.js';

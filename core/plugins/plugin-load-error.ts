/**
 * The one error a plugin file can cause. It never escapes the loader: it is logged and kept as data
 * (`PluginLoader.failures()`), so the message always starts with the file it is about.
 */
export class PluginLoadError extends Error {
  readonly code = 'ERR_PLUGIN_LOAD';
  /** The file as shown to people: relative to the plugins folder's parent (`plugins/x.ts`). */
  readonly file: string;

  constructor(file: string, problem: string, options: { cause?: unknown } = {}) {
    super(`${file}: ${problem}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PluginLoadError';
    this.file = file;
  }
}

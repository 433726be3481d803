/**
 * Which files in the plugins folder are plugins. Only the folder itself is read (no recursion), names
 * are filtered so that helpers, declarations, source maps and editor droppings never load, and a
 * symlink may only point at a file inside the folder.
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

const PLUGIN_EXTENSIONS: readonly string[] = ['.ts', '.mts', '.js', '.mjs'];

/**
 * True for a file name that should load as a plugin: `.ts`, `.mts`, `.js` or `.mjs`, not a helper
 * (`_x.ts`), not a declaration (`x.d.ts`), not hidden, not an editor's temp or lock file.
 */
export function isPluginFile(name: string): boolean {
  // Hidden files cover `.#foo.js` (Emacs locks) and `.foo.swp` (Vim); `#foo.js#` is an Emacs autosave.
  if (name.startsWith('.') || name.startsWith('_') || name.startsWith('#')) return false;
  if (/\.d\.m?ts$/.test(name)) return false;
  const extension = path.extname(name);
  // The extension test also refuses `foo.js~`, `foo.js.tmp`, `foo.js.map`, `foo.ts.orig`.
  return PLUGIN_EXTENSIONS.includes(extension) && name.length > extension.length;
}

/** A file that looks like a plugin by name but must not be imported. */
export interface RejectedFile {
  /** Absolute path. */
  file: string;
  reason: string;
}

export interface PluginFolderScan {
  /** Absolute paths of the plugin files directly in the folder, sorted by name. */
  files: string[];
  /** Plugin-named entries that are refused (a symlink leading out of the folder, a broken link). */
  rejected: RejectedFile[];
  /** Things an operator should know (a folder anyone can write to). */
  warnings: string[];
}

/** Reads the folder once. A missing folder is an empty one; any other error is thrown. */
export async function scanPluginFolder(folder: string): Promise<PluginFolderScan> {
  const root = path.resolve(folder);
  const scan: PluginFolderScan = { files: [], rejected: [], warnings: [] };
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    if (isErrnoException(error) && error.code === 'ENOENT') {
      scan.warnings.push(`plugins folder ${root} does not exist: no plugins loaded`);
      return scan;
    }
    throw error;
  }
  const mode = (await lstat(root)).mode;
  if ((mode & 0o002) !== 0) {
    scan.warnings.push(`plugins folder ${root} is writable by every user: anyone on this machine can run code in this process`);
  }
  const realRoot = await realpath(root);
  const names = entries.filter((e) => isPluginFile(e.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of names) {
    const file = path.join(root, entry.name);
    if (entry.isFile()) {
      scan.files.push(file);
    } else if (entry.isSymbolicLink()) {
      const problem = await symlinkProblem(file, realRoot);
      if (problem) scan.rejected.push({ file, reason: problem });
      else scan.files.push(file);
    }
    // Directories, sockets and FIFOs with plugin-like names are not plugins: skipped silently.
  }
  return scan;
}

/** Absolute paths of the loadable plugin files directly in the folder, sorted by name. */
export async function listPluginFiles(folder: string): Promise<string[]> {
  return (await scanPluginFolder(folder)).files;
}

async function symlinkProblem(link: string, realRoot: string): Promise<string | undefined> {
  let target: string;
  try {
    target = await realpath(link);
  } catch (error) {
    return `expected a symlink to a file inside the plugins folder, got a broken symlink (${describeErrno(error)})`;
  }
  const relative = path.relative(realRoot, target);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    return `expected a symlink to a file inside the plugins folder, got one that resolves to ${target}: refused`;
  }
  const isFile = await stat(target).then((s) => s.isFile(), () => false);
  if (!isFile) return `expected a symlink to a file, got one that resolves to ${target}, which is not a file`;
  return undefined;
}

function isErrnoException(value: unknown): value is NodeJS.ErrnoException {
  return value instanceof Error && typeof (value as { code?: unknown }).code === 'string';
}

function describeErrno(error: unknown): string {
  return isErrnoException(error) ? (error.code ?? error.message) : String(error);
}

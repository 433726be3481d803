// A command task: the disk usage of a folder with `du -sh`. The folder is a field, but it never reaches
// a shell: it is checked to lie under the allowed root (symlinks resolved) and passed as one argument
// after `--`, so neither `; rm -rf ~` nor `--files0-from=…` can mean anything to `du`.
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { defineTask } from '../core/index.js';

/** The folder whose subfolders may be measured: where taskdeck runs, unless DISK_USAGE_ROOT says otherwise. */
const ROOT = path.resolve(process.env.DISK_USAGE_ROOT ?? '.');

export default defineTask({
  key: 'disk-usage',
  title: 'Disk Usage',
  category: 'examples',
  icon: 'hard-drive',
  description: `Runs "du -sh" on a folder under ${ROOT}.`,
  tags: ['command'],
  fields: [{ key: 'folder', type: 'string', default: '.', description: `A folder, relative to ${ROOT}` }],
  timeout: 60_000,
  async run({ args, exec, result }) {
    const folder = await folderUnderRoot(String(args.folder));
    let size = '';
    await exec('du', ['-sh', '--', folder], {
      // du prints "<size>\t<folder>"; keep the size for the Result's data.
      onLine: (line, { stream }) => {
        if (stream === 'stdout' && line.includes('\t')) size = line.slice(0, line.indexOf('\t'));
      },
      // du exits 1 when it could not read some subfolder; the total it prints is still worth keeping.
      allowNonZero: true,
    });
    result.addTags(size ? 'measured' : 'no-output');
    return { folder: path.relative(ROOT, folder) || '.', size };
  },
});

async function folderUnderRoot(input: string): Promise<string> {
  const root = await realpath(ROOT);
  let folder: string;
  try {
    folder = await realpath(path.resolve(root, input));
  } catch {
    throw new Error(`folder ${JSON.stringify(input)} does not exist under ${root}`);
  }
  const relative = path.relative(root, folder);
  if (relative.startsWith('..') || path.isAbsolute(relative)) throw new Error(`folder ${JSON.stringify(input)} is outside ${root}: refused`);
  if (!(await stat(folder)).isDirectory()) throw new Error(`${JSON.stringify(input)} is not a folder`);
  return folder;
}

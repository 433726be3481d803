import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh temp folder; remove it with `removeDir` in `after`. */
export function makeTempDir(prefix = 'taskdeck-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

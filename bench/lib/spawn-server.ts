/** Starts `serve-child.ts` and waits until it serves. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { processMemory, stopChild, waitForLine } from './child-process.js';
import type { ConfigOverrides } from './bench-kernel.js';

const SERVE_CHILD = fileURLToPath(new URL('./serve-child.ts', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerProcess {
  url: string;
  pid: number;
  memory(): { rss: number; peakRss: number };
  stop(): Promise<void>;
}

export async function spawnServer(overrides: ConfigOverrides, execArgv: readonly string[] = []): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, [...execArgv, '--import', 'tsx', SERVE_CHILD, JSON.stringify(overrides)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  try {
    const match = await waitForLine(child, child.stdout!, /^serving (\S+)/, 30_000);
    return { url: match[1]!, pid: child.pid!, memory: () => processMemory(child.pid!), stop: () => stopChild(child) };
  } catch (error) {
    await stopChild(child);
    throw new Error(`${(error as Error).message}\n${stderr}`, { cause: error });
  }
}

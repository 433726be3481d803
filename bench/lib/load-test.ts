/** Runs the P4 load generator in a child process and returns what it measured. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const LOAD_CHILD = fileURLToPath(new URL('./load-child.ts', import.meta.url));
const run = promisify(execFile);

export interface LoadFigures {
  requestsPerSecond: number;
  total: number;
  latencyP50: number;
  latencyP99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

export async function loadTest(url: string, connections: number, durationSeconds: number): Promise<LoadFigures> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', LOAD_CHILD, JSON.stringify({ url, connections, durationSeconds })], {
    timeout: (durationSeconds + 60) * 1000,
    maxBuffer: 1024 * 1024,
  });
  const figures = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as LoadFigures;
  if (figures.non2xx > 0 || figures.errors > 0) throw new Error(`load test of ${url}: ${figures.non2xx} non-2xx answers, ${figures.errors} errors`);
  return figures;
}

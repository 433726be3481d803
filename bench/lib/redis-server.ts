/**
 * A private Redis for the BullMQ comparison: installed from Debian when missing (as root), started on a
 * free loopback port with no persistence, stopped at the end. Any failure is a reason to skip P1-peer,
 * never to fail the bench.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { stopChild, waitForLine } from './child-process.js';
import { freePort } from './free-port.js';

const run = promisify(execFile);

export interface RedisServer {
  port: number;
  version: string;
  stop(): Promise<void>;
}

async function findRedis(): Promise<string | null> {
  try {
    const { stdout } = await run('sh', ['-c', 'command -v redis-server']);
    return stdout.trim() || null;
  } catch {
    return null;
  }
}

/** The path of `redis-server`, installing Debian's package when it is missing; or the reason it cannot. */
export async function ensureRedisServer(options: { install: boolean; log: (message: string) => void }): Promise<{ path: string } | { reason: string }> {
  const found = await findRedis();
  if (found) return { path: found };
  if (!options.install) return { reason: 'redis-server is not installed (and --no-install was given)' };
  if (process.getuid?.() !== 0) return { reason: 'redis-server is not installed, and installing it needs root (apt-get install -y redis-server)' };
  options.log('redis-server is missing: apt-get update && apt-get install -y redis-server');
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['update'], { env, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 });
    await run('apt-get', ['install', '-y', '--no-install-recommends', 'redis-server'], { env, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const text = String((error as { stderr?: unknown }).stderr ?? (error as Error).message).trim().split('\n').slice(-3).join(' ');
    return { reason: `redis-server is not installed and apt-get failed: ${text}` };
  }
  const installed = await findRedis();
  return installed ? { path: installed } : { reason: 'apt-get install redis-server succeeded but redis-server is not on the PATH' };
}

/**
 * Starts Redis in the foreground of a child process, loopback only, no RDB snapshots. Without
 * `durableDir` there is no AOF either; with it, an AOF in that folder fsync-ed on every write
 * (`appendfsync always`: what taskdeck's `synchronous=FULL` promises).
 */
export async function startRedis(path: string, options: { durableDir?: string } = {}): Promise<RedisServer> {
  const port = await freePort();
  const persistence = options.durableDir ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', options.durableDir] : ['--appendonly', 'no'];
  const child: ChildProcess = spawn(path, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--daemonize', 'no', '--loglevel', 'notice'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.resume();
  try {
    await waitForLine(child, child.stdout!, /Ready to accept connections/, 10_000);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  const { stdout } = await run(path, ['--version']);
  const version = /v=([0-9.]+)/.exec(stdout)?.[1] ?? stdout.trim();
  return { port, version, stop: () => stopChild(child) };
}

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { bearer, makeToken, send } from './auth-helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The environment without any TASKDECK_* setting of the machine running the tests. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TASKDECK_')));
  return { ...env, ...extra };
}

describe('auth: listening on a non-loopback address (the real process)', () => {
  let dir: string;
  let child: ChildProcessWithoutNullStreams | undefined;
  const args = () => ['--import', 'tsx', 'core/main.ts', '--host', '0.0.0.0', '--port', '0', '--db', path.join(dir, 'taskdeck.db'), '--plugins', path.join(dir, 'plugins'), '--no-watch'];

  beforeEach(() => {
    dir = makeTempDir();
    fs.mkdirSync(path.join(dir, 'plugins'));
  });
  afterEach(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child!.once('exit', resolve));
    }
    child = undefined;
    removeDir(dir);
  });

  it('refuses to start on 0.0.0.0 without a token: exit code 1 and a message naming TASKDECK_TOKEN', async function () {
    this.timeout(30_000);
    child = spawn(process.execPath, args(), { cwd: ROOT, env: cleanEnv() });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child!.once('exit', resolve));
    expect(code).to.equal(1);
    expect(stderr).to.equal('taskdeck: invalid configuration: host "0.0.0.0" is not a loopback address: set a token (TASKDECK_TOKEN) before listening on it\n');
    expect(fs.existsSync(path.join(dir, 'taskdeck.db')), 'nothing was opened').to.equal(false);
  });

  it('starts with TASKDECK_TOKEN set; the token, not the Host header, protects it', async function () {
    this.timeout(30_000);
    const token = makeToken();
    child = spawn(process.execPath, args(), { cwd: ROOT, env: cleanEnv({ TASKDECK_TOKEN: token }) });
    let out = '';
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const port = await new Promise<string>((resolve, reject) => {
      child!.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /taskdeck is serving http:\/\/0\.0\.0\.0:(\d+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child!.once('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
    });
    const url = `http://127.0.0.1:${port}`;
    expect((await send(url, '/admin/task?t=json')).status).to.equal(401);
    expect((await send(url, '/admin/task?t=json', { headers: bearer(token) })).status).to.equal(200);
    // Bound beyond loopback, any Host name may reach it (a LAN name, a proxy's): no 421, the token decides.
    expect((await send(url, '/admin/task?t=json', { headers: { Host: 'ops.example:8470' } })).status).to.equal(401);
    expect((await send(url, '/admin/task?t=json', { headers: { Host: 'ops.example:8470', ...bearer(token) } })).status).to.equal(200);
    expect((await send(url, `/admin/task?token=${token}`)).status).to.equal(401);
    child.kill('SIGTERM');
    expect(await new Promise((resolve) => child!.once('exit', resolve))).to.equal(0);
    expect(out, 'the log').to.include('taskdeck is serving').and.not.include(token);
  });
});

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { bootKernel } from '../helpers/boot-kernel.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { sha256 } from '../fixtures/db-file.js';
import { startServerExpectingFailure, type Exit } from '../fixtures/server-process.js';

// Permissions do not stop root: as root, the server runs as `nobody` for the permission cases.
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;
const runAs = isRoot ? { uid: NOBODY, gid: NOBODY } : {};

function chownTree(target: string): void {
  if (!isRoot) return;
  fs.chownSync(target, NOBODY, NOBODY);
  if (fs.statSync(target).isDirectory()) for (const entry of fs.readdirSync(target)) chownTree(path.join(target, entry));
}

describe('storage: a database taskdeck cannot write is refused at start-up (no read-only mode)', function () {
  this.timeout(120_000);
  let dir: string;
  let plugins: string;

  /** A folder holding a real history database (made as the current user, then handed to the server's user). */
  async function databaseIn(name: string): Promise<string> {
    const folder = path.join(dir, name);
    const t = await bootKernel({ dir: folder });
    t.kernel.registerTask({ key: 'hello', run: ({ log }) => log('hello') });
    await t.kernel.service.run('hello');
    await t.stop();
    fs.rmSync(t.pluginsDir, { recursive: true });
    fs.rmSync(path.join(folder, 'package.json'));
    chownTree(folder);
    return t.dbFile;
  }

  before(() => {
    dir = makeTempDir();
    fs.chmodSync(dir, 0o755);
    plugins = path.join(dir, 'plugins');
    fs.mkdirSync(plugins, { mode: 0o755 });
  });
  after(() => {
    for (const folder of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, folder), 0o755);
    removeDir(dir);
  });

  function expectRefused(exit: Exit & { served: boolean }, file: string, reason: RegExp): void {
    expect(exit.served, 'the server started on a database it cannot write').to.equal(false);
    expect(exit.code).to.equal(1);
    expect(exit.stderr).to.include(`taskdeck: cannot open the database ${file}: `);
    expect(exit.stderr).to.match(reason);
  }

  it('refuses a read-only database file with SQLITE_READONLY and its path, exit 1, the file untouched', async () => {
    const file = await databaseIn('read-only-file');
    fs.chmodSync(file, 0o444);
    const before = sha256(file);
    const exit = await startServerExpectingFailure({ db: file, plugins, ...runAs });
    expectRefused(exit, file, /SQLITE_READONLY: attempt to write a readonly database/);
    expect(exit.stderr).to.include(`(the file ${file} is not writable: EACCES, permission denied)`);
    expect(exit.stderr).to.include('it has no read-only mode');
    expect(sha256(file)).to.equal(before);
  });

  it('refuses a database in a read-only folder, naming the folder: permission denied, exit 1', async () => {
    const file = await databaseIn('read-only-folder');
    const folder = path.dirname(file);
    fs.chmodSync(folder, 0o555);
    const before = sha256(file);
    const exit = await startServerExpectingFailure({ db: file, plugins, ...runAs });
    expectRefused(exit, file, /SQLITE_(READONLY|CANTOPEN)/);
    expect(exit.stderr).to.include(`(the folder ${folder} is not writable: EACCES, permission denied)`);
    expect(sha256(file)).to.equal(before);
  });

  it('refuses a new database in a read-only folder, exit 1', async () => {
    const folder = path.join(dir, 'read-only-empty-folder');
    fs.mkdirSync(folder);
    chownTree(folder);
    fs.chmodSync(folder, 0o555);
    const file = path.join(folder, 'taskdeck.db');
    const exit = await startServerExpectingFailure({ db: file, plugins, ...runAs });
    expectRefused(exit, file, /SQLITE_CANTOPEN: unable to open database file/);
    expect(exit.stderr).to.include(`(the folder ${folder} is not writable: EACCES, permission denied)`);
    expect(fs.readdirSync(folder)).to.deep.equal([]);
  });

  it('refuses a database on a read-only file system (EROFS), even as root', async function () {
    if (!isRoot) return this.skip(); // a read-only bind mount needs root
    const file = await databaseIn('read-only-mount-source');
    const mountPoint = path.join(dir, 'read-only-mount');
    fs.mkdirSync(mountPoint);
    try {
      execFileSync('mount', ['--bind', path.dirname(file), mountPoint]);
      execFileSync('mount', ['-o', 'remount,bind,ro', mountPoint]);
    } catch (error) {
      if (process.env.CI === 'true') throw error;
      return this.skip(); // a container without CAP_SYS_ADMIN
    }
    try {
      const mounted = path.join(mountPoint, 'taskdeck.db');
      const before = sha256(mounted);
      const exit = await startServerExpectingFailure({ db: mounted, plugins });
      expectRefused(exit, mounted, /SQLITE_(READONLY|CANTOPEN)/);
      expect(exit.stderr).to.include('EROFS, read-only file system');
      expect(sha256(mounted)).to.equal(before);
    } finally {
      execFileSync('umount', [mountPoint]);
    }
  });
});

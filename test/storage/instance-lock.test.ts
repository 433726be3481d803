import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import { Kernel } from '../../core/kernel.js';
import { lockFileOf } from '../../core/store/instance-lock.js';
import { bootKernel } from '../helpers/boot-kernel.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { startServer, startServerExpectingFailure } from '../fixtures/server-process.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('storage: one server per database', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(() => removeDir(dir));

  it('refuses a second server kernel on the same file, naming the database and the holding process', async () => {
    const first = await bootKernel({ dir });
    try {
      let refused: unknown;
      await bootKernel({ dir }).then((k) => k.stop(), (error: unknown) => (refused = error));
      expect(refused).to.be.an('error');
      expect((refused as Error).message).to.include(`the database ${first.dbFile} is in use by taskdeck process ${process.pid}`);
      expect(refused).to.deep.include({ code: 'ERR_STORE' });
      expect((refused as { details: unknown }).details).to.deep.equal({ db: first.dbFile, lock: lockFileOf(first.dbFile), pid: process.pid });
      // The refused kernel touched nothing: the first one still runs and records.
      first.kernel.registerTask({ key: 'still', run: () => 'here' });
      expect((await first.kernel.service.run('still')).status).to.equal('ok');
    } finally {
      await first.stop();
    }
  });

  it('lets clients (the CLI) share the database with a running server', async () => {
    const server = await bootKernel({ dir });
    try {
      const client = await new Kernel(server.kernel.config, { role: 'client', listen: false, logger: pino({ level: 'silent' }) }).start();
      try {
        client.registerTask({ key: 'from-cli', run: ({ log }) => log('hi') });
        expect((await client.service.run('from-cli')).status).to.equal('ok');
      } finally {
        await client.stop();
      }
    } finally {
      await server.stop();
    }
  });

  it('lets the next server in once the first has stopped, and keeps the lock file (it holds no lock by itself)', async () => {
    const first = await bootKernel({ dir });
    await first.stop();
    expect(fs.existsSync(lockFileOf(first.dbFile))).to.equal(true);
    const second = await bootKernel({ dir });
    await second.stop();
  });

  it('says what to do with a lock file that is not one (it holds no data)', async () => {
    const dbFile = path.join(dir, 'taskdeck.db');
    fs.writeFileSync(lockFileOf(dbFile), 'scribbled over by someone\n'.repeat(100));
    const refused = await bootKernel({ dir }).then((k) => k.stop(), (error: unknown) => error as Error);
    expect(refused).to.be.an('error');
    expect((refused as Error).message).to.equal(
      `cannot open the database ${dbFile}: cannot take its lock file ${lockFileOf(dbFile)}: SQLITE_NOTADB: file is not a database. It holds no data: delete it when no taskdeck server is running`,
    );
    expect(fs.existsSync(dbFile), 'the database was created although the server refused to start').to.equal(false);
  });

  it('refuses a second server process (exit 1, naming the database and the PID), serves CLI commands meanwhile, and needs no clean-up after kill -9', async () => {
    const db = path.join(dir, 'taskdeck.db');
    const plugins = path.join(dir, 'plugins');
    fs.mkdirSync(plugins);
    const first = await startServer({ db, plugins });
    try {
      const [second, cli] = await Promise.all([
        startServerExpectingFailure({ db, plugins }),
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const child = spawn(process.execPath, ['core/cli/bin.mjs', 'runs', '--db', db, '--plugins', plugins, '--format', 'json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
          child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
          child.once('close', (code) => resolve({ code, stdout, stderr }));
        }),
      ]);
      expect(second.served).to.equal(false);
      expect(second.code).to.equal(1);
      expect(second.stderr).to.include(`taskdeck: the database ${db} is in use by taskdeck process ${first.pid} (running since `);
      expect(second.stderr).to.include('Stop that server first, or give this one another --db');
      expect(cli.stderr).to.equal('');
      expect(cli.code).to.equal(0);
      expect(JSON.parse(cli.stdout)).to.deep.equal({ runs: [], next: null });
      const res = await fetch(`${first.url}/admin/task?format=json`);
      expect(res.status, 'the first server was disturbed').to.equal(200);
    } finally {
      await first.kill9();
    }
    // The operating system released the lock with the process: no stale lock to remove by hand.
    const third = await startServer({ db, plugins });
    const exit = await third.stop();
    expect(exit.code).to.equal(0);
  });
});

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { expect } from 'chai';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

const BIN = path.resolve(import.meta.dirname, '../../core/cli/bin.mjs');

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('the taskdeck command (real binary)', function () {
  this.timeout(60_000);
  let dir: string;
  const cli = (...args: string[]): Promise<Outcome> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, '--db', path.join(dir, 'td.db'), '--plugins', path.join(dir, 'plugins'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });

  before(() => {
    dir = makeTempDir();
    fs.mkdirSync(path.join(dir, 'plugins'));
    fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
    fs.writeFileSync(
      path.join(dir, 'plugins', 'backup.ts'),
      `export default {
        key: 'backup', title: 'Database Backup', category: 'maintenance', dangerous: 'May lock tables',
        fields: [{ key: 'format', choices: ['sql', 'tar'], default: 'sql' }],
        run: async ({ args, log, result }: any) => { log('starting backup'); result.progress(1, 1, 'done'); return { file: 'backup.' + args.format }; },
      };\n`,
    );
    fs.writeFileSync(path.join(dir, 'plugins', 'fails.ts'), "export default { key: 'fails', run: () => { throw new Error('no luck'); } };\n");
  });
  after(() => removeDir(dir));

  it('lists tasks, as text and as JSON', async () => {
    const text = await cli('tasks');
    expect(text.code).to.equal(0);
    expect(text.stdout).to.match(/maintenance\n\s+backup\s+Database Backup\s+\[dangerous\]/);
    const json = JSON.parse((await cli('tasks', '--json')).stdout) as { key: string }[];
    expect(json.map((t) => t.key)).to.deep.equal(['backup', 'fails']);
  });

  it('runs a task, streams its log, and exits 0 when it ends ok', async () => {
    const out = await cli('run', 'backup', 'format=tar', '--label', 'nightly');
    expect(out.code).to.equal(0);
    expect(out.stdout).to.match(/^starting backup\ntask \[Database Backup\] completed in \[[0-9.]+ms\]\n$/);
    expect(out.stderr).to.match(/ ok\n$/);
  });

  it('prints the Result as JSON with --json', async () => {
    const out = await cli('run', 'backup', '--json');
    const result = JSON.parse(out.stdout) as { status: string; data: unknown; run: string };
    expect(result).to.deep.include({ status: 'ok', run: 'ad-hoc', data: { file: 'backup.sql' } });
  });

  it('exits 1 when the run fails, and 2 with a message naming the field for a bad argument', async () => {
    const failed = await cli('run', 'fails');
    expect(failed.code).to.equal(1);
    expect(failed.stderr).to.contain('error: no luck');
    const bad = await cli('run', 'backup', 'format=zip');
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain('field "format": expected one of "sql", "tar", got "zip"');
    const unknown = await cli('run', 'nope');
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.contain('no task found with key "nope"');
  });

  it('lists and exports history with filters, and shows one run', async () => {
    const csv = parseCsv((await cli('runs', '--task', 'backup', '--format', 'csv')).stdout, { columns: true }) as Record<string, string>[];
    expect(csv.length).to.be.at.least(2);
    expect(csv.every((row) => row.task === 'backup')).to.equal(true);
    const tar = JSON.parse((await cli('runs', '--arg', 'format=tar', '--format', 'json')).stdout) as { runs: { id: string; run: string }[] };
    expect(tar.runs).to.have.length(1);
    expect(tar.runs[0]!.run).to.equal('nightly');
    const listing = await cli('runs', '--status', 'error');
    expect(listing.stdout.trim().split('\n')).to.have.length(1);
    const shown = await cli('show', tar.runs[0]!.id);
    expect(shown.stdout).to.contain('starting backup').and.to.contain('"file": "backup.tar"');
    const yaml = await cli('show', tar.runs[0]!.id, '--format', 'yaml');
    expect(yaml.stdout).to.match(/^id: /m);
  });

  it('previews and applies retention with prune', async () => {
    const dry = await cli('prune', '--dry-run');
    expect(dry.code).to.equal(0);
    expect(dry.stdout).to.match(/would remove 0 run\(s\) by age/);
    const real = await cli('prune');
    expect(real.stdout).to.match(/removed 0 run\(s\) by age and 0 by size/);
  });

  it('migrates a new database and says when it is up to date', async () => {
    const fresh = path.join(dir, 'fresh.db');
    const first = await new Promise<Outcome>((resolve) => {
      const child = spawn(process.execPath, [BIN, '--db', fresh, 'migrate'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.on('exit', (code) => resolve({ code, stdout, stderr: '' }));
    });
    expect(first.stdout).to.contain('applied: 0001_initial');
  });

  it('has --help on every command', async () => {
    for (const command of ['serve', 'tasks', 'run', 'runs', 'show', 'prune', 'migrate']) {
      const out = await cli(command, '--help');
      expect(out.code, command).to.equal(0);
      expect(out.stdout, command).to.match(new RegExp(`^Usage: taskdeck ${command}`));
    }
  });
});

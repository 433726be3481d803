import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../core/config.js';
import { makeTempDir, removeDir } from './helpers/temp-dir.js';

describe('configuration', () => {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir();
    fs.copyFileSync(path.resolve(import.meta.dirname, '../config/default.json'), path.join(dir, 'default.json'));
  });
  afterEach(() => removeDir(dir));

  it('defaults to loopback, a database under data/ and the plugins folder', () => {
    const config = loadConfig({ folder: dir, env: {} });
    expect(config).to.include({ host: '127.0.0.1', db: 'data/taskdeck.db', plugins: 'plugins', watchPlugins: true });
  });

  it('layers default.json < local.json < TASKDECK_* environment < flags', () => {
    fs.writeFileSync(path.join(dir, 'local.json'), JSON.stringify({ port: 1111, db: 'local.db', plugins: 'local-plugins', limits: { maxLineLength: 500 } }));
    const env = { TASKDECK_PORT: '2222', TASKDECK_DB: 'env.db' };
    const config = loadConfig({ folder: dir, env, argv: ['--port', '3333'] });
    expect(config.port).to.equal(3333);
    expect(config.db).to.equal('env.db');
    expect(config.plugins).to.equal('local-plugins');
    expect(config.limits.maxLineLength).to.equal(500);
    expect(config.limits.maxDataBytes).to.equal(16 * 1024 * 1024);
  });

  it('names the source and the value of a bad setting', () => {
    expect(() => loadConfig({ folder: dir, env: { TASKDECK_PORT: 'eighty' } })).to.throw('TASKDECK_PORT: expected a port number 0-65535, got "eighty"');
    expect(() => loadConfig({ folder: dir, env: {}, argv: ['--port', '99999'] })).to.throw(/port: expected an integer from 0 to 65535, got 99999/);
    expect(() => loadConfig({ folder: dir, env: {}, argv: ['--bogus'] })).to.throw(/bogus/);
    fs.writeFileSync(path.join(dir, 'local.json'), '{ not json');
    expect(() => loadConfig({ folder: dir, env: {} })).to.throw(/local\.json/);
  });

  it('refuses to listen on a non-loopback address without a token', () => {
    expect(() => loadConfig({ folder: dir, env: {}, argv: ['--host', '0.0.0.0'] })).to.throw(/set a token/);
    expect(loadConfig({ folder: dir, env: { TASKDECK_TOKEN: 's3cret' }, argv: ['--host', '0.0.0.0'] }).host).to.equal('0.0.0.0');
  });
});

import { expect } from 'chai';
import { TaskRegistry } from '../../core/tasks/registry.js';
import { normalizeTask } from '../../core/tasks/task.js';
import type { TaskSource } from '../../core/tasks/types.js';

const dynamic: TaskSource = { kind: 'dynamic', by: 'test' };
const fromFile: TaskSource = { kind: 'plugin', file: 'plugins/backup.ts' };
const task = (key: string, source: TaskSource = dynamic, extra: Record<string, unknown> = {}) => normalizeTask({ key, run: () => undefined, ...extra }, source);

describe('task registry', () => {
  it('fills the seed defaults: title from the key, icon star', () => {
    const t = task('db_backup');
    expect(t.title).to.equal('Db Backup');
    expect(t.icon).to.equal('star');
    expect(t.maxConcurrent).to.equal(0);
  });

  for (const key of ['', 'A', 'UPPER', '-lead', '.lead', 'a/b', 'a\\b', '..', '%2e', 'a b', 'x'.repeat(65), 'ünïcode', 'a\u0000']) {
    it(`refuses the key ${JSON.stringify(key.slice(0, 20))}`, () => {
      expect(() => task(key)).to.throw(/key: expected 1-64 characters/);
    });
  }

  for (const key of ['a', '0', 'db.backup', 'db_backup-2', 'x'.repeat(64)]) {
    it(`accepts the key ${key.slice(0, 20)}`, () => {
      expect(task(key).key).to.equal(key);
    });
  }

  for (const value of [-2, 1.5, '4', Number.NaN]) {
    it(`refuses maxConcurrent ${String(value)} at registration`, () => {
      expect(() => task('mc', dynamic, { maxConcurrent: value })).to.throw(/maxConcurrent/);
    });
  }

  it('accepts a webURL that is a path or an http(s) URL, and refuses any other scheme', () => {
    expect(task('a', dynamic, { webURL: '/host/page' }).webURL).to.equal('/host/page');
    expect(task('b', dynamic, { webURL: 'https://example.com/x' }).webURL).to.equal('https://example.com/x');
    for (const url of ['javascript:alert(1)', '//evil.example/x', 'data:text/html,x', 'relative/path']) {
      expect(() => task('c', dynamic, { webURL: url }), url).to.throw(/webURL: expected a path starting with "\/" or an http\(s\) URL/);
    }
  });

  it('refuses a duplicate key, naming both sources', () => {
    const registry = new TaskRegistry();
    registry.register(task('backup', fromFile));
    expect(() => registry.register(task('backup', dynamic))).to.throw(/plugin file plugins\/backup\.ts.*dynamic registration by test/);
  });

  it('removes only the named task (the original kept only that one)', () => {
    const registry = new TaskRegistry();
    for (const key of ['a', 'b', 'c']) registry.register(task(key));
    registry.remove('b');
    expect(registry.list().map((t) => t.key)).to.deep.equal(['a', 'c']);
  });

  it('refuses to remove a plugin-file task with 409 naming the file, and an unknown key with 404', () => {
    const registry = new TaskRegistry();
    registry.register(task('backup', fromFile));
    expect(() => registry.remove('backup')).to.throw(/plugins\/backup\.ts/).with.property('status', 409);
    expect(() => registry.remove('nope')).to.throw().with.property('status', 404);
    expect(registry.has('backup')).to.equal(true);
  });

  it('lists by key and groups by category, uncategorised last', () => {
    const registry = new TaskRegistry();
    registry.register(task('zeta', dynamic, { category: 'ops' }));
    registry.register(task('alpha', dynamic, { category: 'ops' }));
    registry.register(task('mid', dynamic));
    registry.register(task('beta', dynamic, { category: 'db' }));
    expect(registry.list().map((t) => t.key)).to.deep.equal(['alpha', 'beta', 'mid', 'zeta']);
    expect(registry.byCategory().map((g) => [g.category, g.tasks.map((t) => t.key)])).to.deep.equal([
      ['db', ['beta']],
      ['ops', ['alpha', 'zeta']],
      ['', ['mid']],
    ]);
  });
});

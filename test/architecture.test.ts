// Keeps the dependency direction of STYLE.md true by reading the import lines of every source file.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';

const root = path.resolve(import.meta.dirname, '..');

function sourceFiles(folder: string): string[] {
  return fs.readdirSync(path.join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(folder, f));
}

function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  const found = [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm), ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)];
  return found.map((m) => m[1]!).map((spec) => (spec.startsWith('.') ? path.normalize(path.join(path.dirname(file), spec)) : spec));
}

const rules: [string, RegExp, string][] = [
  ['core/tasks', /^core\/(http|live|store|plugins)\//, 'the task layer reaches storage only through RunRepository, and knows nothing of HTTP'],
  ['core/store', /^core\/(http|live|plugins)\//, 'the store knows nothing of HTTP, WebSockets or plugins'],
  ['core/http', /^core\/store\//, 'HTTP calls the task service, never the store'],
  ['core/live', /^core\/store\//, 'the WebSocket hub calls the task service, never the store'],
  ['core', /^plugins\//, 'nothing in core imports the plugins folder statically'],
];

describe('architecture: dependency direction', () => {
  for (const [folder, forbidden, why] of rules) {
    it(`${folder}: ${why}`, () => {
      const offenders = sourceFiles(folder).flatMap((file) => importsOf(file).filter((target) => forbidden.test(target)).map((target) => `${file} -> ${target}`));
      expect(offenders).to.deep.equal([]);
    });
  }

  it('reads the import lines it checks (a rule over no imports proves nothing)', () => {
    expect(importsOf('core/http/task-routes.ts')).to.include('core/tasks/task.js');
    expect(importsOf('core/kernel.ts')).to.include('core/store/open-database.js');
  });

  it('migrations import only kysely', () => {
    const offenders = sourceFiles('migrations').flatMap((file) => importsOf(file).filter((target) => target !== 'kysely').map((target) => `${file} -> ${target}`));
    expect(offenders).to.deep.equal([]);
  });
});

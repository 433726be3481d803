import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { isPluginFile, listPluginFiles, scanPluginFolder } from '../../core/plugins/discover.js';
import { PluginFolder } from './plugin-fixtures.js';

describe('plugins/discover', () => {
  describe('isPluginFile', () => {
    for (const name of ['hello.ts', 'hello.js', 'hello.mjs', 'hello.mts', 'a.b.ts', '0-first.js']) {
      it(`accepts ${name}`, () => expect(isPluginFile(name)).to.equal(true));
    }
    const refused = [
      '_helper.ts', // helpers
      'types.d.ts', 'types.d.mts', // declarations
      'hello.js.map', 'hello.ts.map', // source maps
      'hello.js~', '.#hello.js', '#hello.js#', '.hello.ts.swp', '.hello.swp', 'hello.js.tmp', 'hello.ts.orig', // editors
      '.hidden.ts', '.ts', // hidden files
      'hello.cjs', 'hello.cts', 'hello.json', 'hello.tsx', 'README.md', 'hello', // not ours
    ];
    for (const name of refused) {
      it(`refuses ${name}`, () => expect(isPluginFile(name)).to.equal(false));
    }
  });

  describe('scanPluginFolder', () => {
    let folder: PluginFolder;
    let outside: string;

    beforeEach(() => {
      folder = new PluginFolder();
      outside = fs.mkdtempSync(path.join(os.tmpdir(), 'taskdeck-outside-'));
    });
    afterEach(() => {
      folder.cleanup();
      fs.rmSync(outside, { recursive: true, force: true });
    });

    it('lists plugin files directly in the folder as absolute paths sorted by name', async () => {
      for (const name of ['b.ts', 'a.js', 'c.mjs', '_helper.ts', 'x.d.ts', 'x.js.map', 'x.js~', '.#x.js']) folder.write(name, '');
      fs.mkdirSync(path.join(folder.dir, 'nested.ts'));
      fs.mkdirSync(path.join(folder.dir, 'sub'));
      fs.writeFileSync(path.join(folder.dir, 'sub', 'deep.ts'), '');
      expect(await listPluginFiles(folder.dir)).to.deep.equal(['a.js', 'b.ts', 'c.mjs'].map((n) => path.join(folder.dir, n)));
    });

    it('follows a symlink to a file inside the folder', async () => {
      folder.write('_impl.ts', '');
      fs.symlinkSync(path.join(folder.dir, '_impl.ts'), path.join(folder.dir, 'alias.ts'));
      const scan = await scanPluginFolder(folder.dir);
      expect(scan.files).to.deep.equal([path.join(folder.dir, 'alias.ts')]);
      expect(scan.rejected).to.deep.equal([]);
    });

    it('rejects a symlink that resolves outside the folder, naming where it leads', async () => {
      fs.writeFileSync(path.join(outside, 'evil.ts'), '');
      fs.symlinkSync(path.join(outside, 'evil.ts'), path.join(folder.dir, 'evil.ts'));
      folder.write('good.ts', '');
      const scan = await scanPluginFolder(folder.dir);
      expect(scan.files).to.deep.equal([path.join(folder.dir, 'good.ts')]);
      expect(scan.rejected).to.have.length(1);
      expect(scan.rejected[0]?.file).to.equal(path.join(folder.dir, 'evil.ts'));
      expect(scan.rejected[0]?.reason).to.contain('resolves to').and.contain(fs.realpathSync(path.join(outside, 'evil.ts')));
    });

    it('rejects a broken symlink', async () => {
      fs.symlinkSync(path.join(outside, 'missing.ts'), path.join(folder.dir, 'broken.ts'));
      const scan = await scanPluginFolder(folder.dir);
      expect(scan.files).to.deep.equal([]);
      expect(scan.rejected[0]?.reason).to.contain('broken symlink');
    });

    it('warns when anyone can write to the folder', async () => {
      expect((await scanPluginFolder(folder.dir)).warnings).to.deep.equal([]);
      fs.chmodSync(folder.dir, 0o777);
      const [warning] = (await scanPluginFolder(folder.dir)).warnings;
      expect(warning).to.contain(folder.dir).and.contain('writable by every user');
    });

    it('treats a missing folder as empty, with a warning', async () => {
      const scan = await scanPluginFolder(path.join(folder.root, 'nope'));
      expect(scan.files).to.deep.equal([]);
      expect(scan.warnings[0]).to.contain('does not exist');
    });
  });
});

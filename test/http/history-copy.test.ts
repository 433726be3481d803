/**
 * Copy as link / curl / CLI. The commands are checked the way they will be used: through a real bash,
 * first with the command word replaced by `printf '%s\0'` (so the words bash hands over can be compared
 * byte for byte, newlines included), then for real: curl against the server and the taskdeck binary.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { copyCommands, formPairs, shellQuote, type ArgPairs } from '../../core/http/view-builders.js';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { decodeEntities } from './http-client.js';

const BIN = path.resolve(import.meta.dirname, '../../core/cli/bin.mjs');

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function bash(command: string, cwd: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: cwd } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

/** The words bash passes to the command, with the command's leading `prefix` replaced by printf. */
async function wordsOf(command: string, prefix: string, cwd: string): Promise<string[]> {
  expect(command.startsWith(prefix), command).to.equal(true);
  const out = await bash(`printf '%s\\0' ${command.slice(prefix.length)}`, cwd);
  expect(out.code, out.stderr).to.equal(0);
  expect(out.stdout.endsWith('\0')).to.equal(true);
  return out.stdout.slice(0, -1).split('\0');
}

/** Values a shell would love to interpret. */
const HOSTILE = [
  "it's",
  'two  words',
  '$(touch pwned-dollar)',
  '`touch pwned-backtick`',
  '; touch pwned-semicolon',
  '"double" \\back\\slash',
  'line one\nline two',
  'tab\there',
  'carriage\rreturn',
  '*',
  '~',
  '!! !$',
  '$HOME ${HOME}',
  "'",
  "''",
  '\\',
  '|&<>()',
  'ü 😀 中文 \u202e',
  '--label',
  '-x',
  'a=b=c',
  '#not a comment',
  '',
];

const CANARIES = ['pwned-dollar', 'pwned-backtick', 'pwned-semicolon'];

describe('copy as link, curl and CLI', function () {
  this.timeout(60_000);
  let cwd: string;

  before(() => {
    cwd = makeTempDir('taskdeck-copy-');
  });
  after(() => {
    for (const canary of CANARIES) expect(fs.existsSync(path.join(cwd, canary)), `${canary} must never be created`).to.equal(false);
    removeDir(cwd);
  });

  describe('the builders', () => {
    it('single-quotes every word, writing a quote as \'\\\'\'', () => {
      expect(shellQuote('plain')).to.equal("'plain'");
      expect(shellQuote('')).to.equal("''");
      expect(shellQuote("it's")).to.equal("'it'\\''s'");
      expect(shellQuote("''")).to.equal("''\\'''\\'''");
      expect(shellQuote('$(x) `y` \\ "z"\n')).to.equal("'$(x) `y` \\ \"z\"\n'");
    });

    it('builds the link, the curl command and the CLI command of a task and its args', () => {
      const commands = copyCommands({ origin: 'http://127.0.0.1:8470', base: '', taskKey: 'backup', pairs: [['format', 'tar'], ['tables', 'a'], ['tables', 'b c']], label: 'nightly' });
      expect(commands).to.deep.equal({
        link: '/admin/task/backup?format=tar&tables=a&tables=b+c&category=nightly',
        curl: "curl -s 'http://127.0.0.1:8470/admin/task/backup/run?format=tar&tables=a&tables=b+c&category=nightly&t=json'",
        cli: "npx taskdeck run backup 'format=tar' 'tables=a' 'tables=b c' --label 'nightly'",
      });
      // The default label is left out; a base path is kept; extra link keys go on the link only.
      expect(copyCommands({ origin: 'https://ops.example', base: '/ops', taskKey: 'x', pairs: [], label: 'ad-hoc', linkExtra: { from: 'r1' } })).to.deep.equal({
        link: '/ops/admin/task/x?from=r1',
        curl: "curl -s 'https://ops.example/ops/admin/task/x/run?t=json'",
        cli: 'npx taskdeck run x',
      });
      // A pair that would read as an option: the label first, then `--`, then the arguments.
      expect(copyCommands({ origin: 'http://h', base: '', taskKey: 'x', pairs: [['-v', '1']], label: 'L' }).cli).to.equal("npx taskdeck run x --label 'L' -- '-v=1'");
    });

    it('takes from a form what the browser would submit', () => {
      const field = (key: string, type: string) => ({ key, type, title: key, description: '', default: undefined, choices: [], required: false }) as never;
      const pairs = formPairs([
        { field: field('name', 'string'), id: 'a', values: [''], control: 'text', checked: false },
        { field: field('n', 'int'), id: 'b', values: [''], control: 'number-int', checked: false },
        { field: field('on', 'bool'), id: 'c', values: [], control: 'checkbox', checked: false },
        { field: field('items', '[]string'), id: 'd', values: ['a', '', 'b c'], control: 'textarea-list', checked: false },
        { field: field('when', 'time'), id: 'e', values: ['2024-05-01T10:20:30'], control: 'datetime', checked: false },
        { field: field('env', 'string'), id: 'f', values: [''], control: 'select', checked: false },
        { field: field('regions', '[]string'), id: 'g', values: ['eu', 'asia'], control: 'multiselect', checked: false },
      ]);
      expect(pairs).to.deep.equal([['name', ''], ['on', 'false'], ['items', 'a'], ['items', 'b c'], ['when', '2024-05-01T10:20:30'], ['regions', 'eu'], ['regions', 'asia']]);
    });

    it('gives bash exactly the words it was built from, whatever the values hold', async () => {
      const pairs: ArgPairs = HOSTILE.map((value, i) => [`k${i}`, value]);
      for (const label of ['', "it's \"nightly\" $(touch pwned-dollar)\nsecond line", '-']) {
        const { cli, curl } = copyCommands({ origin: 'http://127.0.0.1:8470', base: '', taskKey: 'echo', pairs, label });
        const words = await wordsOf(cli, 'npx taskdeck ', cwd);
        expect(words).to.deep.equal(['run', 'echo', ...pairs.map(([k, v]) => `${k}=${v}`), ...(label ? ['--label', label] : [])]);
        const [url, ...rest] = await wordsOf(curl, 'curl -s ', cwd);
        expect(rest).to.deep.equal([]);
        const query = new URL(url!).searchParams;
        expect([...query]).to.deep.equal([...pairs, ...(label ? [['category', label]] : []), ['t', 'json']]);
      }
      // Keys that look like options go after `--`, where they are arguments.
      const dashed = copyCommands({ origin: 'http://h', base: '', taskKey: 'echo', pairs: [['-x', '$(touch pwned-dollar)'], ['--label', 'y']], label: "a'b" });
      expect(await wordsOf(dashed.cli, 'npx taskdeck ', cwd)).to.deep.equal(['run', 'echo', '--label', "a'b", '--', '-x=$(touch pwned-dollar)', '--label=y']);
    });
  });

  describe('through the server, then for real with curl and the taskdeck binary', () => {
    let t: TestKernel;
    let url: string;
    const ECHO = `export default {
      key: 'echo',
      fields: [
        { key: 'name' },
        { key: 'items', type: '[]string' },
        { key: 'on', type: 'bool' },
        { key: 'n', type: 'int' },
        { key: 'when', type: 'time' },
      ],
      run: ({ args }) => args,
    };\n`;
    const args = {
      name: "it's $(touch pwned-dollar) `touch pwned-backtick`\nsecond line ü 😀",
      items: ['a,b', "it's", '; touch pwned-semicolon', '$HOME', ''],
      on: true,
      n: -7,
      when: '2024-05-01T10:20:30.125Z',
      extra: '"double" \\ \'single\'',
      '-x': '--label',
    };
    const label = "nightly 'quoted' $(touch pwned-dollar)";
    let runId = '';
    let expected: Record<string, unknown>;

    before(async () => {
      t = await bootKernel({ listen: true, plugins: { 'echo.mjs': ECHO } });
      url = t.kernel.url;
      const result = await t.kernel.service.run('echo', args, { label });
      runId = result.id;
      expected = JSON.parse(JSON.stringify(result.args)) as Record<string, unknown>;
      expect(expected.items).to.deep.equal(['a,b', "it's", '; touch pwned-semicolon', '$HOME', '']);
    });
    after(() => t.cleanup());

    /** The copy buttons of a page: link, curl and CLI, as the browser would copy them. */
    const copyButtonsOf = (html: string, nth = 0) => {
      const attr = (kind: string, name: string) => {
        const all = [...html.matchAll(new RegExp(`<button[^>]* ${name}="([^"]*)" data-copy-kind="${kind}"`, 'g'))];
        expect(all.length, `${kind} buttons`).to.be.greaterThan(nth);
        return decodeEntities(all[nth]![1]!);
      };
      return { link: attr('link', 'data-copy'), curl: attr('curl', 'data-copy-text'), cli: attr('cli', 'data-copy-text') };
    };

    const runCli = (cli: string) => {
      // The same words, only the program differs: this checkout's binary on the server's database and plugins.
      const program = ['node', BIN, '--db', t.dbFile, '--plugins', t.pluginsDir].map(shellQuote).join(' ');
      return bash(cli.replace(/^npx taskdeck run /, `${program} run --json `), cwd);
    };

    it('copies a past run as commands that run it again with the same args and label', async () => {
      const html = await (await fetch(`${url}/admin/run/${runId}`)).text();
      const copy = copyButtonsOf(html);
      expect(copy.link).to.match(new RegExp(`^/admin/task/echo\\?.*&from=${runId}$`));
      expect(copy.cli).to.match(/^npx taskdeck run echo --label '.*' -- 'name=/);
      expect(copy.curl).to.match(new RegExp(`^curl -s '${url}/admin/task/echo/run\\?.*&t=json'$`));

      // curl, for real: a sync run over HTTP with the same args.
      const viaCurl = await bash(copy.curl, cwd);
      expect(viaCurl.code, viaCurl.stderr).to.equal(0);
      const curlResult = JSON.parse(viaCurl.stdout) as { status: string; run: string; args: unknown; data: unknown };
      expect(curlResult).to.deep.include({ status: 'ok', run: label });
      expect(curlResult.args).to.deep.equal(expected);

      // The CLI, for real: the taskdeck binary parses the words into the same args.
      const viaCli = await runCli(copy.cli);
      expect(viaCli.code, viaCli.stderr).to.equal(0);
      const cliResult = JSON.parse(viaCli.stdout) as { status: string; run: string; args: unknown };
      expect(cliResult).to.deep.include({ status: 'ok', run: label });
      expect(cliResult.args).to.deep.equal(expected);
    });

    it('copies a filled-in form (task page and run result page) as the same three commands', async () => {
      const formArgs = { name: "O'Brien & \"Sons\" $(touch pwned-dollar)", items: ['x y', '`touch pwned-backtick`'], on: false, n: 42, when: '2024-05-01T10:20:30.125Z' };
      const formRun = await t.kernel.service.run('echo', formArgs, { label: 'form label' });
      const runPage = copyButtonsOf(await (await fetch(`${url}/admin/run/${formRun.id}`)).text());
      // The run's copied link opens the form filled in with its args; the form copies the same commands.
      const detail = await (await fetch(url + runPage.link)).text();
      const form = copyButtonsOf(detail);
      // The same words but the time: the form shows it as its datetime-local input holds it (UTC, no "Z").
      const asForm = (text: string) => text.replace('30.125Z', '30.125').replace('30.125Z', '30.125');
      expect(form.link).to.equal(asForm(runPage.link).replace(/&from=[^&]+$/, ''));
      expect(form.curl).to.equal(asForm(runPage.curl));
      expect(form.cli).to.equal(asForm(runPage.cli));
      const again = (await t.kernel.service.getStoredRun(formRun.id)).args;

      const viaCli = await runCli(form.cli);
      expect(viaCli.code, viaCli.stderr).to.equal(0);
      expect((JSON.parse(viaCli.stdout) as { args: unknown }).args).to.deep.equal(again);
      const viaCurl = await bash(form.curl, cwd);
      expect(JSON.parse(viaCurl.stdout) as { args: unknown; run: string }).to.deep.include({ args: again, run: 'form label' });
      // The result page of that form, submitted, copies the same commands.
      const submitted = await (await fetch(`${url}/admin/task/echo/run?${new URL(form.link, url).search.slice(1)}&_checkboxes=1`)).text();
      expect(copyButtonsOf(submitted)).to.deep.equal(form);
      expect(asForm(copyButtonsOf(submitted, 1).cli), 'the result card copies the new run').to.equal(form.cli);
    });

    it('escapes the commands in the HTML attribute (nothing of an argument becomes markup)', async () => {
      t.kernel.registerTask({ key: 'markup', run: () => 1 });
      const run = await t.kernel.service.run('markup', { x: '"><script>alert(1)</script>' });
      const html = await (await fetch(`${url}/admin/run/${run.id}`)).text();
      expect(html).to.not.contain('<script>alert(1)');
      expect(copyButtonsOf(html).cli).to.equal(`npx taskdeck run markup 'x="><script>alert(1)</script>'`);
    });
  });
});

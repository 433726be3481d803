import { expect } from 'chai';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { CONTENT_TYPE, csvObjects, decodeEntities, errorMessage, parseBody, type TestFormat } from './http-client.js';

const T0 = Date.parse('2024-05-01T00:00:00Z');
const MINUTE = 60_000;
const SCRIPT = '<script>alert(1)</script>';
const IMG = '"><img src=x onerror=alert(1)>';
const MISSING = '00000000-0000-4000-8000-000000000000';

interface Comparison {
  a: { id: string; task: string; status: string; run: string; taskVersion: string; error: string; elapsed: number | null; logCount: number; logLinesCompared: number };
  b: Comparison['a'];
  sameTask: boolean;
  sameVersion: boolean;
  args: { key: string; a?: unknown; b?: unknown; change: string }[];
  data: { path: string; change: string; a?: unknown; b?: unknown }[];
  dataSummary: { differences: number; unchanged: number; truncated: boolean };
  logs: { lines: { change: string; aSeq: number | null; bSeq: number | null; text: string }[]; truncated: boolean; aligned: boolean; limit: number };
  elapsed: { a: number | null; b: number | null; deltaUs: number | null; ratio: number | null };
}

/** The task the comparisons run: its log and data follow its arguments. */
const reportTask = {
  key: 'report',
  fields: [
    { key: 'env', default: 'dev' },
    { key: 'n', type: 'int' as const, default: 1 },
  ],
  run: ({ args, log }: { args: Record<string, unknown>; log: (...parts: unknown[]) => void }) => {
    log('start');
    for (let i = 0; i < Number(args.n); i++) log(`item ${i}`);
    log(`env ${String(args.env)}`);
    log('end');
    return { env: args.env, items: Array.from({ length: Number(args.n) }, (_, i) => ({ name: `item ${i}`, n: i })), fixed: { same: true } };
  },
};

describe('compare two runs over HTTP', () => {
  let t: TestKernel;
  let url: string;
  let clock = T0;
  const ids: Record<string, string> = {};

  before(async () => {
    t = await bootKernel({ listen: true, now: () => clock });
    url = t.kernel.url;
    const { kernel } = t;
    kernel.registerTask(reportTask);
    kernel.registerTask({
      key: 'hostile',
      title: `${SCRIPT} title`,
      run: ({ args, log }) => {
        log(`${SCRIPT} ${String(args.v)}`);
        log(`\u001b[31m${IMG}\u001b[0m`);
        if (args.fail === 'yes') throw new Error(`${SCRIPT} failed`);
        return { [SCRIPT]: IMG, [`${IMG} key`]: [String(args.v)] };
      },
    });
    kernel.registerTask({ key: 'chatty', fields: [{ key: 'lines', type: 'int' }], run: ({ args, log }) => {
      for (let i = 0; i < args.lines; i++) log(`line ${i % 7}`);
    } });
    kernel.registerTask({ key: 'lonely', run: () => 'alone' });
    kernel.registerTask({ key: 'batch', run: () => 'same ms' });
    const at = (minutes: number) => (clock = T0 + minutes * MINUTE);
    at(1);
    ids.first = (await kernel.service.run('report', { env: 'prod', n: 3, extra: 'only in first' }, { label: 'nightly' })).id;
    at(2);
    ids.second = (await kernel.service.run('report', { env: 'dev', n: 4, added: 'only in second' }, { label: 'nightly' })).id;
    at(3);
    ids.lonely = (await kernel.service.run('lonely')).id;
    at(4);
    ids.hostileA = (await kernel.service.run('hostile', { v: IMG }, { label: SCRIPT })).id;
    at(5);
    ids.hostileB = (await kernel.service.run('hostile', { v: SCRIPT, fail: 'yes' }, { label: IMG })).id;
    at(6);
    ids.chattyA = (await kernel.service.run('chatty', { lines: 6000 })).id;
    ids.chattyB = (await kernel.service.run('chatty', { lines: 5500 })).id;
    at(7);
    // The same task, new code: its version changes.
    ids.oldCode = (await kernel.service.run('report', { env: 'dev', n: 1 })).id;
    kernel.removeTask('report');
    kernel.registerTask({ ...reportTask, run: (ctx) => ({ ...(reportTask.run(ctx) as object), version: 2 }) });
    at(8);
    ids.newCode = (await kernel.service.run('report', { env: 'dev', n: 1 })).id;
    at(9);
    // Two runs in the same millisecond, then one later: the later one's previous skips neither of them.
    ids.batchOld = (await kernel.service.run('batch')).id;
    at(10);
    const batch = await kernel.service.runAll('batch', [{}, {}]);
    ids.batchX = batch[0]!.id;
    ids.batchY = batch[1]!.id;
    at(60);
  });
  after(() => t.cleanup());

  const get = async (path: string, format: TestFormat = 'json'): Promise<{ status: number; type: string | null; body: string }> => {
    const sep = path.includes('?') ? '&' : '?';
    const res = await fetch(`${url}${path}${format === 'html' ? '' : `${sep}format=${format}`}`);
    return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
  };
  const compare = async (a: string, b: string): Promise<Comparison> => {
    const res = await get(`/admin/run/compare?a=${ids[a]}&b=${ids[b]}`);
    expect(res.status, res.body).to.equal(200);
    return JSON.parse(res.body) as Comparison;
  };

  describe('as data', () => {
    it('lists exactly the changed arguments, data paths and log lines of two runs of a task', async () => {
      const c = await compare('first', 'second');
      expect(c.a).to.include({ id: ids.first, task: 'report', status: 'ok', run: 'nightly', error: '' });
      expect(c.b).to.include({ id: ids.second, task: 'report', status: 'ok', run: 'nightly' });
      expect(c.sameTask).to.equal(true);
      expect(c.sameVersion).to.equal(true);
      expect(c.args).to.deep.equal([
        { key: 'env', a: 'prod', b: 'dev', change: 'changed' },
        { key: 'n', a: 3, b: 4, change: 'changed' },
        { key: 'extra', a: 'only in first', change: 'only-a' },
        { key: 'added', b: 'only in second', change: 'only-b' },
      ]);
      expect(c.data).to.deep.equal([
        { path: 'env', change: 'changed', a: 'prod', b: 'dev' },
        { path: 'items[3]', change: 'added', b: { name: 'item 3', n: 3 } },
      ]);
      // env, items[0..2].name and .n, fixed.same
      expect(c.dataSummary).to.deep.include({ differences: 2, unchanged: 7, truncated: false });
      const changed = c.logs.lines.filter((l) => l.change !== 'same').map((l) => [l.change, l.aSeq, l.bSeq, l.text.replace(/\[[\d.]+ms\]/, '[…]')]);
      expect(changed).to.deep.equal([
        // Within one gap between common lines, a's lines come first, then b's.
        ['removed', 5, null, 'env prod'],
        ['added', null, 5, 'item 3'],
        ['added', null, 6, 'env dev'],
        ['removed', 7, null, 'task [Report] completed in […]'],
        ['added', null, 8, 'task [Report] completed in […]'],
      ]);
      expect(c.logs.lines.filter((l) => l.change === 'same').map((l) => [l.aSeq, l.bSeq, l.text])).to.deep.equal([
        [1, 1, 'start'],
        [2, 2, 'item 0'],
        [3, 3, 'item 1'],
        [4, 4, 'item 2'],
        [6, 7, 'end'],
      ]);
      expect(c.logs).to.include({ truncated: false, aligned: true, limit: 5000 });
    });

    it('gives the elapsed times with the difference and the ratio, b against a', async () => {
      const c = await compare('first', 'second');
      expect(c.elapsed.a).to.equal(c.a.elapsed).and.to.be.above(0);
      expect(c.elapsed.b).to.equal(c.b.elapsed);
      expect(c.elapsed.deltaUs).to.equal(c.elapsed.b! - c.elapsed.a!);
      expect(c.elapsed.ratio).to.be.closeTo(c.elapsed.b! / c.elapsed.a!, 1e-9);
    });

    it('finds nothing changed between a run and itself', async () => {
      const c = await compare('first', 'first');
      expect(c.args.every((a) => a.change === 'same')).to.equal(true);
      expect(c.data).to.deep.equal([]);
      expect(c.logs.lines.every((l) => l.change === 'same')).to.equal(true);
      expect(c.elapsed).to.include({ deltaUs: 0, ratio: 1 });
    });

    it('says when the code changed, and when the runs are of different tasks', async () => {
      const c = await compare('oldCode', 'newCode');
      expect(c.sameTask).to.equal(true);
      expect(c.sameVersion).to.equal(false);
      expect(c.a.taskVersion).to.not.equal(c.b.taskVersion);
      expect(c.data).to.deep.equal([{ path: 'version', change: 'added', b: 2 }]);
      const other = await compare('first', 'lonely');
      expect(other).to.include({ sameTask: false, sameVersion: false });
      expect(other.data).to.deep.equal([{ path: '', change: 'changed', a: { env: 'prod', items: [{ name: 'item 0', n: 0 }, { name: 'item 1', n: 1 }, { name: 'item 2', n: 2 }], fixed: { same: true } }, b: 'alone' }]);
    });

    it('compares a failed run: its error, and data it does not have', async () => {
      const c = await compare('hostileA', 'hostileB');
      expect(c.a.error).to.equal('');
      expect(c.b).to.include({ status: 'error', error: `${SCRIPT} failed` });
      expect(c.data).to.deep.equal([{ path: '', change: 'removed', a: { [SCRIPT]: IMG, [`${IMG} key`]: [IMG] } }]);
      expect(c.args).to.deep.equal([
        { key: 'v', a: IMG, b: SCRIPT, change: 'changed' },
        { key: 'fail', b: 'yes', change: 'only-b' },
      ]);
    });

    it('compares at most the first 5,000 lines of each log, and says so', async function () {
      this.timeout(20_000);
      const started = performance.now();
      const c = await compare('chattyA', 'chattyB');
      expect(performance.now() - started, 'one comparison of two 5,000-line logs').to.be.below(2000);
      expect(c.logs).to.include({ truncated: true, limit: 5000 });
      expect(c.a).to.include({ logLinesCompared: 5000 });
      expect(c.a.logCount).to.be.above(5000);
      expect(c.b).to.include({ logLinesCompared: 5000 });
      expect(c.logs.lines).to.have.length(5000);
      expect(c.logs.lines.every((l) => l.change === 'same' && l.aSeq === l.bSeq)).to.equal(true);
    });

    it('answers CSV as one row per compared item, and YAML and XML with the same content', async () => {
      const csv = csvObjects((await get(`/admin/run/compare?a=${ids.first}&b=${ids.second}`, 'csv')).body);
      expect(csv.find((r) => r.section === 'run' && r.key === 'status')).to.deep.equal({ section: 'run', key: 'status', change: 'same', a: 'ok', b: 'ok' });
      expect(csv.find((r) => r.section === 'args' && r.key === 'extra')).to.deep.equal({ section: 'args', key: 'extra', change: 'only-a', a: 'only in first', b: '' });
      expect(csv.find((r) => r.section === 'data' && r.key === 'items[3]')).to.deep.equal({ section: 'data', key: 'items[3]', change: 'added', a: '', b: '{"name":"item 3","n":3}' });
      expect(csv.find((r) => r.section === 'logs' && r.key === '5/')).to.deep.equal({ section: 'logs', key: '5/', change: 'removed', a: 'env prod', b: '' });
      const json = await compare('first', 'second');
      const yaml = parseBody('yaml', (await get(`/admin/run/compare?a=${ids.first}&b=${ids.second}`, 'yaml')).body) as Comparison;
      expect(yaml.args).to.deep.equal(json.args);
      expect(yaml.data).to.deep.equal(json.data);
      const xmlRes = await get(`/admin/run/compare?a=${ids.first}&b=${ids.second}`, 'xml');
      expect(xmlRes.type).to.match(CONTENT_TYPE.xml);
      expect(xmlRes.body).to.contain('<comparison>').and.contain('<path>items[3]</path>');
    });
  });

  describe('compare with previous', () => {
    it('compares a run with the run of its task before it', async () => {
      const res = await get(`/admin/run/compare?a=${ids.second}&previous=true`);
      expect(res.status, res.body).to.equal(200);
      const c = JSON.parse(res.body) as Comparison;
      expect(c.a.id).to.equal(ids.second);
      expect(c.b.id).to.equal(ids.first);
    });

    it('skips runs started in the same millisecond (a batch) and looks further back', async () => {
      for (const id of [ids.batchX, ids.batchY]) {
        const c = JSON.parse((await get(`/admin/run/compare?a=${id}&previous=true`)).body) as Comparison;
        expect(c.b.id).to.equal(ids.batchOld);
      }
    });

    it('answers 404 with a clear message when the task has no earlier run, in JSON and HTML', async () => {
      for (const format of ['json', 'html'] as const) {
        const res = await get(`/admin/run/compare?a=${ids.lonely}&previous=true`, format);
        expect(res.status).to.equal(404);
        expect(errorMessage(format, res.body)).to.equal(`no run of task "lonely" started before run "${ids.lonely}": nothing to compare it with`);
      }
      expect(JSON.parse((await get(`/admin/run/compare?a=${ids.first}&previous=true`)).body)).to.include({ code: 'ERR_RUN_NOT_FOUND', task: 'report', run: ids.first });
    });
  });

  describe('errors', () => {
    const cases: [string, string, number, string][] = [
      ['no parameters', '', 400, 'cannot compare runs: parameter "a": expected a run id, got nothing; parameter "b": expected a run id (or previous=true), got nothing'],
      ['b missing', `a=${MISSING}`, 400, 'cannot compare runs: parameter "b": expected a run id (or previous=true), got nothing'],
      ['a not a run id', `a=compare&b=${MISSING}`, 400, 'cannot compare runs: parameter "a": expected a run id (a lower-case UUID), got "compare"'],
      ['b not a run id', `a=${MISSING}&b=${encodeURIComponent(SCRIPT)}`, 400, `cannot compare runs: parameter "b": expected a run id (a lower-case UUID), got "${SCRIPT}"`],
      ['a repeated', `a=${MISSING}&a=${MISSING}&b=${MISSING}`, 400, 'cannot compare runs: parameter "a": expected one run id, got 2 values'],
      ['previous not a flag', `a=${MISSING}&previous=1`, 400, 'cannot compare runs: parameter "previous": expected "true" or "false", got "1"'],
      ['b with previous', `a=${MISSING}&b=${MISSING}&previous=true`, 400, 'cannot compare runs: parameter "b": not allowed with previous=true (b is then the previous run of a\'s task)'],
      ['a does not exist', `a=${MISSING}&b=${MISSING}`, 404, `no run found with id "${MISSING}"`],
      ['a does not exist (previous)', `a=${MISSING}&previous=true`, 404, `no run found with id "${MISSING}"`],
    ];
    for (const [name, query, status, message] of cases) {
      it(`answers ${status} when ${name}, in JSON and HTML`, async () => {
        for (const format of ['json', 'html'] as const) {
          const res = await get(`/admin/run/compare${query ? `?${query}` : ''}`, format);
          expect(res.status, format).to.equal(status);
          expect(res.type).to.match(CONTENT_TYPE[format]);
          expect(errorMessage(format, res.body), format).to.equal(message);
        }
      });
    }

    it('answers 404 naming b when only b does not exist', async () => {
      const res = await get(`/admin/run/compare?a=${ids.first}&b=${MISSING}`);
      expect(res.status).to.equal(404);
      expect(JSON.parse(res.body)).to.include({ code: 'ERR_RUN_NOT_FOUND', run: MISSING });
    });

    it('names the invalid parameters in the error data', async () => {
      const body = JSON.parse((await get('/admin/run/compare?a=nope')).body) as { invalid_params: unknown };
      expect(body.invalid_params).to.deep.equal([
        { name: 'a', reason: 'expected a run id (a lower-case UUID), got "nope"' },
        { name: 'b', reason: 'expected a run id (or previous=true), got nothing' },
      ]);
    });

    it('leaves the run page routes as they were', async () => {
      expect((await get(`/admin/run/${ids.first}`)).status).to.equal(200);
      expect((await get(`/admin/run/${MISSING}`)).status).to.equal(404);
    });
  });

  describe('the page', () => {
    const page = async (query: string): Promise<string> => {
      const res = await get(`/admin/run/compare?${query}`, 'html');
      expect(res.status, res.body.slice(0, 500)).to.equal(200);
      expect(res.type).to.match(CONTENT_TYPE.html);
      return res.body;
    };
    /** The rows of a table whose `data-change` is set, as [first cell text, change]. */
    const changeRows = (html: string, section: string): [string, string][] => {
      const part = html.slice(html.indexOf(`id="compare-${section}-title"`));
      const end = part.indexOf('</section>');
      return [...part.slice(0, end).matchAll(/<tr class="row-[^"]*" data-change="([^"]+)"><th scope="row"><code[^>]*>([^<]*)<\/code>/g)].map((m) => [decodeEntities(m[2]!), m[1]!]);
    };

    it('shows both runs side by side, with what changed', async () => {
      const html = await page(`a=${ids.first}&b=${ids.second}`);
      expect(html).to.contain(`href="/admin/run/${ids.first}"`).and.contain(`href="/admin/run/${ids.second}"`);
      expect(html).to.contain('<link rel="stylesheet" href="/admin/static/compare.css">');
      expect(html).to.match(/<td data-role="code"><span class="change change-same">same code<\/span>/);
      expect(html).to.match(/data-role="elapsed-delta"><span class="nowrap" title="B against A">[+-][\d.]+ms, [\d.]+x<\/span>/);
      expect(changeRows(html, 'args')).to.deep.equal([
        ['env', 'changed'],
        ['n', 'changed'],
        ['extra', 'only-a'],
        ['added', 'only-b'],
      ]);
      expect(changeRows(html, 'data')).to.deep.equal([
        ['env', 'changed'],
        ['items[3]', 'added'],
      ]);
      expect(html).to.contain('2 differences · 7 unchanged values (collapsed)');
      const logRows = [...html.matchAll(/<tr class="line-(\w+)" data-change="\w+"><th class="seq">(\d*)<\/th><th class="seq">(\d*)<\/th>/g)].map((m) => `${m[1]} ${m[2]}/${m[3]}`);
      expect(logRows).to.deep.equal(['same 1/1', 'same 2/2', 'same 3/3', 'same 4/4', 'removed 5/', 'added /5', 'added /6', 'same 6/7', 'removed 7/', 'added /8']);
      expect(html).to.contain('2 only in A · 3 only in B · 5 same');
    });

    it('says "code changed" when the task version differs', async () => {
      const html = await page(`a=${ids.oldCode}&b=${ids.newCode}`);
      expect(html).to.match(/<td data-role="code"><span class="change change-changed">code changed<\/span>/);
    });

    it('folds long unchanged stretches of the log and notes the 5,000-line cap', async () => {
      const html = await page(`a=${ids.chattyA}&b=${ids.chattyB}`);
      expect(html).to.contain('Only the first 5000 lines of each log are compared.');
      expect(html).to.contain('4997 unchanged lines (A 4–5000, B 4–5000)');
      expect(html.match(/<tr class="line-same"/g)).to.have.length(3);
    });

    it('escapes every value a run carries: args, label, data keys and values, log lines, errors, titles', async () => {
      const html = await page(`a=${ids.hostileA}&b=${ids.hostileB}`);
      expect(html).to.not.contain(SCRIPT);
      expect(html).to.not.contain(IMG);
      expect(html).to.not.match(/<img\b/i);
      for (const tag of html.match(/<script\b[^>]*>/gi) ?? []) expect(tag).to.match(/^<script src="\/admin\/static\/taskdeck\.js" nonce="[^"]+" defer>$/);
      for (const tag of html.match(/<[a-z][^>]*>/gi) ?? []) expect(tag.replace(/="[^"]*"/g, '')).to.not.match(/\son[a-z]+/i);
      expect(html).to.contain('&lt;script&gt;alert(1)&lt;/script&gt; failed');
      expect(html).to.contain('&lt;script&gt;alert(1)&lt;/script&gt; title');
      // The data's key and value, as JSON text.
      expect(html).to.contain('&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;: &quot;\\&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&quot;');
      // The log line with its colour codes removed.
      expect(html).to.contain('<td>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</td>');
      expect(html).to.not.contain('\u001b');
    });

    it('links to the swapped comparison and to the JSON', async () => {
      const html = await page(`a=${ids.first}&b=${ids.second}`);
      expect(html).to.contain(`href="/admin/run/compare?a=${ids.second}&amp;b=${ids.first}"`);
      expect(html).to.contain(`href="/admin/run/compare?a=${ids.first}&amp;b=${ids.second}&amp;format=json"`);
    });

    it('shows the previous-run comparison as a page too', async () => {
      const html = await page(`a=${ids.second}&previous=true`);
      expect(html).to.contain(`href="/admin/run/${ids.first}"`);
    });
  });
});

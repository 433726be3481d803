import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { csvObjects, decodeEntities, parseBody } from './http-client.js';

interface Row {
  id: string;
  task: string;
  status: string;
  elapsed: number;
  args: Record<string, unknown>;
  snippet?: { where: string; seq: number | null; text: string; highlights: { start: number; end: number }[] } | null;
}

describe('history search, duration and argument filters over HTTP', () => {
  let t: TestKernel;
  let url: string;
  const ids: Record<string, string> = {};
  const names = (rows: readonly { id?: unknown }[]) => rows.map((r) => Object.keys(ids).find((k) => ids[k] === r.id) ?? String(r.id));

  before(async function () {
    this.timeout(20_000);
    t = await bootKernel({ listen: true });
    url = t.kernel.url;
    t.kernel.registerTask({
      key: 'deploy',
      fields: [{ key: 'env', choices: ['prod', 'dev'] }, { key: 'region' }, { key: 'pause', type: 'int', default: 0 }],
      run: async ({ args, log }) => {
        log(`deploying to ${String(args.region)}`);
        if (Number(args.pause)) await sleep(Number(args.pause));
        if (args.region === 'us') throw new Error('disk full on /dev/sda');
        if (args.env === 'dev') return { note: 'disk check skipped' };
        log('\u001b[33mwarning:\u001b[0m disk usage at 93%');
        return { ok: true };
      },
    });
    t.kernel.registerTask({ key: 'hostile', run: ({ log }) => log('<script>alert("x")</script> & the disk said \u202eevil') });
    const run = async (name: string, key: string, args: Record<string, unknown>, label?: string) => {
      ids[name] = (await t.kernel.service.run(key, args, { label })).id;
    };
    await run('prodEu', 'deploy', { env: 'prod', region: 'eu' }, 'nightly');
    await run('prodUs', 'deploy', { env: 'prod', region: 'us' });
    await run('devEu', 'deploy', { env: 'dev', region: 'eu' });
    await run('slowProdEu', 'deploy', { env: 'prod', region: 'eu', pause: 300 }, 'nightly');
    await run('hostile', 'hostile', {});
  });
  after(() => t.cleanup());

  const get = async (query: string, format = 'json') => {
    const res = await fetch(`${url}/admin/run?${query}${format === 'html' ? '' : `&format=${format}`}`);
    return { res, text: await res.text() };
  };
  const exportRows = async (query: string): Promise<Row[]> => {
    const { res, text } = await get(query);
    expect(res.status, `${query}: ${text}`).to.equal(200);
    const body = JSON.parse(text) as { runs: Row[]; next: unknown };
    expect(body.next).to.equal(null);
    return body.runs;
  };

  describe('filters', () => {
    const cases: [string, string[]][] = [
      ['q=disk', ['hostile', 'slowProdEu', 'devEu', 'prodUs', 'prodEu']],
      ['q=deploying', ['slowProdEu', 'devEu', 'prodUs', 'prodEu']],
      ['q=prod', []], // an argument value is not text of the run
      ['q=sda', ['prodUs']],
      ['q=dis*', ['hostile', 'slowProdEu', 'devEu', 'prodUs', 'prodEu']],
      ['q=disk+full', ['prodUs']],
      ['q=disk+nothing-like-this', []],
      ['q=%22disk+full%22', ['prodUs']],
      ['q=skipped', ['devEu']],
      ['q=%3Cscript%3E', ['hostile']],
      ['q=disk&task=deploy&status=error', ['prodUs']],
      ['q=disk&status=ok&run=nightly', ['slowProdEu', 'prodEu']],
      ['arg.env=prod', ['slowProdEu', 'prodUs', 'prodEu']],
      ['arg.env=prod&arg.region=eu', ['slowProdEu', 'prodEu']],
      ['arg.env=prod&arg.region=eu&arg.pause=300', ['slowProdEu']],
      ['arg.env=prod&arg.region=eu&arg.pause=1', []],
      ['arg.env=prod&arg.region=mars', []],
      ['arg.env=prod&task=hostile', []],
      ['arg.region=eu&q=skipped', ['devEu']],
      ['arg.env=prod&status=error&q=disk', ['prodUs']],
      ['minMs=250', ['slowProdEu']],
      ['minMs=250&arg.region=us', []],
      ['minMs=250&q=usage&task=deploy&arg.env=prod&status=ok', ['slowProdEu']],
      ['q=&minMs=&maxMs=&task=', ['hostile', 'slowProdEu', 'devEu', 'prodUs', 'prodEu']],
    ];
    for (const [query, expected] of cases) {
      it(`returns exactly the matching runs for "${query}"`, async () => {
        expect(names(await exportRows(query))).to.deep.equal(expected);
      });
    }

    it('filters by a duration range in milliseconds, inclusive, against the recorded elapsed time', async () => {
      const all = await exportRows('');
      const elapsed = Object.fromEntries(all.map((r) => [names([r])[0]!, r.elapsed]));
      expect(elapsed.slowProdEu).to.be.at.least(300_000);
      const within = (min: number, max: number) => all.filter((r) => r.elapsed >= min * 1000 && r.elapsed <= max * 1000).map((r) => names([r])[0]);
      expect(names(await exportRows('maxMs=250'))).to.deep.equal(within(0, 250)).and.not.include('slowProdEu');
      // Both ends are inclusive, in fractional milliseconds too.
      const exact = (elapsed.prodEu! / 1000).toFixed(3);
      expect(names(await exportRows(`minMs=${exact}&maxMs=${exact}`))).to.include('prodEu');
      expect(names(await exportRows(`minMs=${((elapsed.prodEu! + 1) / 1000).toFixed(3)}`))).to.not.include('prodEu');
      expect(names(await exportRows(`maxMs=${((elapsed.prodEu! - 1) / 1000).toFixed(3)}`))).to.not.include('prodEu');
      expect(names(await exportRows('minMs=0&maxMs=100000'))).to.have.length(5);
    });

    it('never counts a running run in a duration range (it has no duration yet)', async () => {
      t.kernel.registerTask({ key: 'hang', run: ({ signal }) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })) });
      const live = await t.kernel.service.start(t.kernel.registry.require('hang'), {});
      try {
        expect(names(await exportRows('task=hang'))).to.deep.equal([live.id]);
        expect(await exportRows('task=hang&maxMs=1000')).to.deep.equal([]);
        const { res, text } = await get('status=running&minMs=0');
        expect(res.status).to.equal(400);
        expect(JSON.parse(text)).to.include({ status: 400 }).and.have.nested.property('invalid_params[0].name', 'status');
      } finally {
        await t.kernel.service.cancel(live.id);
        t.kernel.removeTask('hang');
      }
    });
  });

  describe('snippets', () => {
    it('gives each matching run where it matched: log line, error or data, as text with highlight offsets', async () => {
      const rows = await exportRows('q=disk');
      const byName = Object.fromEntries(rows.map((r) => [names([r])[0]!, r.snippet]));
      expect(byName.prodEu).to.deep.include({ where: 'log', seq: 2 });
      // ANSI colour codes are not part of the excerpt.
      expect(byName.prodEu!.text).to.equal('warning: disk usage at 93%');
      expect(byName.prodUs).to.deep.include({ where: 'error', seq: null, text: 'disk full on /dev/sda' });
      expect(byName.devEu!.where).to.equal('data');
      for (const snippet of Object.values(byName)) {
        expect(snippet!.highlights.length).to.be.greaterThan(0);
        for (const h of snippet!.highlights) expect(snippet!.text.slice(h.start, h.end).toLowerCase()).to.equal('disk');
      }
      expect(byName.hostile!.text).to.contain('<script>alert("x")</script>');
    });

    it('has no snippet key without a search, and keeps the snippet in every export format', async () => {
      expect((await exportRows('task=deploy'))[0]).to.not.have.property('snippet');
      const csv = csvObjects((await get('q=sda', 'csv')).text);
      expect(csv).to.have.length(1);
      expect(JSON.parse(csv[0]!.snippet!)).to.deep.equal({ where: 'error', seq: null, text: 'disk full on /dev/sda', highlights: [{ start: 18, end: 21 }] });
      const yaml = parseBody('yaml', (await get('q=sda', 'yaml')).text) as { runs: Row[] };
      expect(yaml.runs[0]!.snippet).to.deep.equal({ where: 'error', seq: null, text: 'disk full on /dev/sda', highlights: [{ start: 18, end: 21 }] });
      const xml = (await get('q=sda', 'xml')).text;
      expect(xml).to.contain('<where>error</where>').and.contain('<text>disk full on /dev/sda</text>');
      // One page (limit) has them too.
      const page = JSON.parse((await get('q=disk&limit=2')).text) as { runs: Row[] };
      expect(page.runs.every((r) => r.snippet && r.snippet.highlights.length > 0)).to.equal(true);
    });

    it('shows the snippet in the HTML table escaped, with only <mark> added around the match', async () => {
      const { text: html } = await get('q=disk', 'html');
      const snippets = [...html.matchAll(/<span class="snippet-text">(.*?)<\/span><\/p>/g)].map((m) => m[1]!);
      expect(snippets).to.have.length(5);
      const hostile = snippets.find((s) => s.includes('script'))!;
      expect(hostile).to.equal('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; the <mark>disk</mark> said <abbr class="invisible-char" title="hidden character U+202E">U+202E</abbr>evil');
      expect(html).to.not.contain('<script>alert');
      for (const s of snippets) expect(s.replace(/<\/?mark>|<abbr [^>]*>U\+[0-9A-F]{4}<\/abbr>/g, '')).to.not.match(/[<>]/);
      expect(html).to.contain(`<a href="/admin/run/${ids.prodEu}">log line 2</a>`);
    });
  });

  describe('the form, the URL and the pages', () => {
    it('fills the filter form back in, with each argument filter as a chip whose × link drops only that filter', async () => {
      const { res, text: html } = await get('q=disk&minMs=1.5&maxMs=9000&arg.env=prod&arg.region=eu&task=deploy', 'html');
      expect(res.status).to.equal(200);
      expect(html).to.match(/<input id="filter-q" type="search" name="q" value="disk"/);
      expect(html).to.match(/name="minMs" value="1.5"/);
      expect(html).to.match(/name="maxMs" value="9000"/);
      expect(html).to.contain('<input type="hidden" name="arg.env" value="prod">');
      expect(html).to.contain('<input type="hidden" name="arg.region" value="eu">');
      const removeLinks = [...html.matchAll(/<a class="chip-remove" href="([^"]+)"/g)].map((m) => decodeEntities(m[1]!));
      expect(removeLinks).to.deep.equal([
        '/admin/run?q=disk&minMs=1.5&maxMs=9000&arg.region=eu&task=deploy',
        '/admin/run?q=disk&minMs=1.5&maxMs=9000&arg.env=prod&task=deploy',
      ]);
    });

    it('keeps every filter in the next-page link, the Link header and the format links', async () => {
      const query = 'q=disk&arg.env=prod&minMs=0&maxMs=100000&limit=1';
      const first = await get(query, 'html');
      const next = decodeEntities(/<a class="btn" href="([^"]+)" rel="next">/.exec(first.text)![1]!);
      const params = new URL(next, url).searchParams;
      for (const [key, value] of new URLSearchParams(query)) expect(params.get(key), key).to.equal(value);
      expect(params.get('cursor')).to.be.a('string');
      expect(first.res.headers.get('link')).to.contain('q=disk').and.contain('arg.env=prod').and.contain('minMs=0');
      // Walking the pages gives the export, one run at a time.
      const seen: string[] = [];
      let path: string | null = `/admin/run?${query}`;
      while (path && seen.length < 10) {
        const html = await (await fetch(url + path)).text();
        seen.push(...[...html.matchAll(/<a class="run-id" href="\/admin\/run\/([0-9a-f-]{36})"/g)].map((m) => m[1]!));
        const link = /<a class="btn" href="([^"]+)" rel="next">/.exec(html);
        path = link ? decodeEntities(link[1]!) : null;
      }
      expect(seen).to.deep.equal((await exportRows('q=disk&arg.env=prod&minMs=0&maxMs=100000')).map((r) => r.id));
      const jsonLink = decodeEntities(/<a href="([^"]+)">json<\/a>/.exec(first.text)![1]!);
      expect(new URL(jsonLink, url).searchParams.get('arg.env')).to.equal('prod');
    });

    it('applies the filters to every export format', async () => {
      const query = 'q=disk&arg.env=prod&maxMs=250';
      const expected = ['prodUs', 'prodEu'];
      expect(names(await exportRows(query))).to.deep.equal(expected);
      expect(names(csvObjects((await get(query, 'csv')).text))).to.deep.equal(expected);
      expect(names((parseBody('xml', (await get(query, 'xml')).text) as { runs: Row[] }).runs)).to.deep.equal(expected);
      expect(names((parseBody('yaml', (await get(query, 'yaml')).text) as { runs: Row[] }).runs)).to.deep.equal(expected);
      const download = await get(`${query}&download=true`, 'csv');
      expect(download.res.headers.get('content-disposition')).to.equal('attachment; filename="runs.csv"');
      expect(names(csvObjects(download.text))).to.deep.equal(expected);
    });

    it('streams a searched export of many runs with a snippet on each (snippets are fetched in batches)', async function () {
      this.timeout(20_000);
      t.kernel.registerTask({ key: 'bulk', fields: [{ key: 'i', type: 'int' }], run: ({ args, log }) => log(`needle number ${String(args.i)}`) });
      await t.kernel.service.runAll('bulk', Array.from({ length: 450 }, (_, i) => ({ i })));
      const rows = await exportRows('q=needle&task=bulk');
      expect(rows).to.have.length(450);
      expect(rows.every((r) => r.snippet?.where === 'log' && r.snippet.text === `needle number ${String(r.args.i)}`)).to.equal(true);
      expect(names(await exportRows('q=needle&arg.i=321'))).to.have.length(1);
    });
  });

  describe('bad parameters', () => {
    const cases: [string, string, RegExp][] = [
      ['minMs=-1', 'minMs', /parameter "minMs": expected a non-negative number of milliseconds, got "-1"/],
      ['minMs=abc', 'minMs', /"minMs"/],
      ['maxMs=1e3', 'maxMs', /"maxMs"/],
      ['maxMs=Infinity', 'maxMs', /"maxMs"/],
      ['minMs=%201', 'minMs', /"minMs"/],
      ['minMs=10&maxMs=5', 'maxMs', /parameter "maxMs": expected at least minMs \(10\), got "5"/],
      ['arg.env=prod&arg.env=dev', 'arg.env', /parameter "arg.env": expected one value, got 2/],
      [`q=${'x'.repeat(501)}`, 'q', /parameter "q": expected at most 500 characters, got 501/],
    ];
    for (const [query, name, message] of cases) {
      it(`refuses "${query.slice(0, 40)}" with 400 naming ${name}, in JSON and HTML`, async () => {
        const json = await get(query);
        expect(json.res.status).to.equal(400);
        const body = JSON.parse(json.text) as { message: string; invalid_params: { name: string }[] };
        expect(body.message).to.match(message);
        expect(body.invalid_params[0]!.name).to.equal(name);
        const html = await get(query, 'html');
        expect(html.res.status).to.equal(400);
        expect(decodeEntities(html.text)).to.contain(`"${name}"`);
      });
    }
  });
});

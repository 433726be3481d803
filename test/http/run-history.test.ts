import { expect } from 'chai';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { CONTENT_TYPE, csvObjects, decodeEntities, parseBody } from './http-client.js';

const T0 = Date.parse('2024-03-01T00:00:00Z');
const HOUR = 3_600_000;

interface Row {
  id: string;
  task: string;
  run: string;
  status: string;
  args: Record<string, unknown>;
  tags: string[];
}

describe('run history over HTTP', () => {
  let t: TestKernel;
  let url: string;
  let clock = T0;
  /** Run ids by name, in the order they were made. */
  const ids: Record<string, string> = {};

  before(async () => {
    t = await bootKernel({ listen: true, now: () => clock });
    url = t.kernel.url;
    t.kernel.registerTask({ key: 'alpha', fields: [{ key: 'env', choices: ['prod', 'dev'], default: 'dev' }], run: ({ log }) => log('alpha ran') });
    t.kernel.registerTask({ key: 'beta', run: ({ args, result }) => result.addTags(String(args.tag)) });
    t.kernel.registerTask({ key: 'broken', run: () => Promise.reject(new Error('broken on purpose')) });
    t.kernel.registerTask({ key: 'wait', run: ({ signal }) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })) });
    t.kernel.registerTask({ key: 'bulk', fields: [{ key: 'i', type: 'int' }], run: ({ args }) => args.i });
    const service = t.kernel.service;
    const at = (hours: number) => (clock = T0 + hours * HOUR);
    at(1);
    ids.prod = (await service.run('alpha', { env: 'prod' }, { label: 'nightly' })).id;
    at(2);
    ids.dev = (await service.run('alpha', { env: 'dev' })).id;
    at(3);
    ids.red = (await service.run('beta', { tag: 'red' }, { label: 'nightly' })).id;
    at(4);
    ids.broken = (await service.run('broken', {}, { label: 'nightly' })).id;
    at(5);
    ids.blue = (await service.run('beta', { tag: 'blue' })).id;
    at(6);
    const live = await service.start(t.kernel.registry.require('wait'), {});
    await service.cancel(live.id);
    ids.cancelled = live.id;
    at(24);
  });
  after(() => t.cleanup());

  const exportRows = async (query: string): Promise<Row[]> => {
    const res = await fetch(`${url}/admin/run?format=json&${query}`);
    expect(res.status, query).to.equal(200);
    const body = (await res.json()) as { runs: Row[]; next: unknown };
    expect(body.next).to.equal(null);
    return body.runs;
  };
  const names = (rows: readonly { id?: unknown }[]) => rows.map((r) => Object.keys(ids).find((k) => ids[k] === r.id) ?? String(r.id));

  describe('filters', () => {
    const iso = (hours: number) => new Date(T0 + hours * HOUR).toISOString();
    const cases: [string, string[]][] = [
      ['', ['cancelled', 'blue', 'broken', 'red', 'dev', 'prod']],
      ['task=alpha', ['dev', 'prod']],
      ['task=alpha&task=beta', ['blue', 'red', 'dev', 'prod']],
      ['task=nope', []],
      ['status=error', ['broken']],
      ['status=cancelled', ['cancelled']],
      ['status=ok&status=error', ['blue', 'broken', 'red', 'dev', 'prod']],
      ['run=nightly', ['broken', 'red', 'prod']],
      ['run=ad-hoc', ['cancelled', 'blue', 'dev']],
      ['tag=red', ['red']],
      ['tag=red&tag=blue', []],
      [`since=${iso(3)}`, ['cancelled', 'blue', 'broken', 'red']],
      [`until=${iso(3)}`, ['dev', 'prod']],
      [`since=${iso(2)}&until=${iso(5)}`, ['broken', 'red', 'dev']],
      [`since=${T0 + 5 * HOUR}`, ['cancelled', 'blue']],
      ['since=2024-03-01T04:00', ['cancelled', 'blue', 'broken']],
      ['until=2024-03-01', []],
      ['since=2024-03-02', []],
      ['arg.env=prod', ['prod']],
      ['arg.env=prod&task=beta', []],
      ['arg.tag=blue', ['blue']],
      ['task=alpha&run=nightly', ['prod']],
      ['task=&status=&run=&tag=&since=&until=', ['cancelled', 'blue', 'broken', 'red', 'dev', 'prod']],
      ['arg.__proto__=x', []],
    ];
    for (const [query, expected] of cases) {
      it(`returns exactly the matching runs for "${query || '(no filter)'}"`, async () => {
        expect(names(await exportRows(query))).to.deep.equal(expected);
      });
    }

    it('applies the same filters to the HTML page', async () => {
      const html = await (await fetch(`${url}/admin/run?task=alpha&run=nightly`)).text();
      expect(html).to.contain(`/admin/run/${ids.prod}`);
      for (const other of ['dev', 'red', 'broken', 'blue', 'cancelled']) expect(html).to.not.contain(`/admin/run/${ids[other]}`);
    });

    it('applies the same filters to the CSV, XML and YAML exports', async () => {
      const csv = csvObjects(await (await fetch(`${url}/admin/run?format=csv&status=error&status=cancelled`)).text());
      expect(names(csv)).to.deep.equal(['cancelled', 'broken']);
      expect(csv[1]).to.include({ task: 'broken', run: 'nightly', status: 'error', error: 'broken on purpose' });
      const xml = parseBody('xml', await (await fetch(`${url}/admin/run?format=xml&task=beta`)).text()) as { runs: Row[]; next: null };
      expect(names(xml.runs)).to.deep.equal(['blue', 'red']);
      expect(xml.runs[1]!.tags).to.deep.equal(['red']);
      expect(xml.next).to.equal(null);
      const yaml = parseBody('yaml', await (await fetch(`${url}/admin/run?format=yaml&tag=blue`)).text()) as { runs: Row[] };
      expect(names(yaml.runs)).to.deep.equal(['blue']);
      expect(yaml.runs[0]!.args).to.deep.equal({ tag: 'blue' });
    });
  });

  describe('pages and exports', () => {
    let bulkIds: string[];
    before(async function () {
      this.timeout(20_000);
      const results = await t.kernel.service.runAll('bulk', Array.from({ length: 120 }, (_, i) => ({ i })));
      bulkIds = results.map((r) => r.id);
    });

    it('walks every run with keyset pagination, without duplicates or gaps', async () => {
      const seen: string[] = [];
      let next: string | null = null;
      let pages = 0;
      do {
        const query: string = `task=bulk&limit=50&format=json${next ? `&cursor=${encodeURIComponent(next)}` : ''}`;
        const res = await fetch(`${url}/admin/run?${query}`);
        expect(res.status).to.equal(200);
        const page = (await res.json()) as { runs: Row[]; next: string | null };
        expect(page.runs.length).to.be.at.most(50);
        seen.push(...page.runs.map((r) => r.id));
        next = page.next;
        pages += 1;
        if (next) expect(res.headers.get('link')).to.contain('cursor=').and.contain('rel="next"');
      } while (next && pages < 10);
      expect(pages).to.equal(3);
      expect(seen).to.have.length(120);
      expect(new Set(seen).size).to.equal(120);
      expect([...seen].sort()).to.deep.equal([...bulkIds].sort());
      // Newest first, the same order as the export.
      expect(seen).to.deep.equal((await exportRows('task=bulk')).map((r) => r.id));
    });

    it('walks the HTML pages through their "Next page" links', async () => {
      const seen = new Set<string>();
      let path: string | null = '/admin/run?task=bulk';
      let pages = 0;
      while (path && pages < 10) {
        const html = await (await fetch(url + path)).text();
        for (const match of html.matchAll(/href="\/admin\/run\/([0-9a-f-]{36})"/g)) seen.add(match[1]!);
        const next = /<a class="btn" href="([^"]+)" rel="next">/.exec(html);
        path = next ? decodeEntities(next[1]!) : null;
        pages += 1;
      }
      expect(pages).to.equal(3);
      expect(seen.size).to.equal(120);
    });

    it('answers one page of CSV when a limit is given, with the next page in a Link header', async () => {
      const res = await fetch(`${url}/admin/run?task=bulk&limit=50&format=csv`);
      expect(csvObjects(await res.text())).to.have.length(50);
      expect(res.headers.get('link')).to.match(/^<\/admin\/run\?task=bulk&limit=50&format=csv&cursor=[A-Za-z0-9_-]+>; rel="next"$/);
    });

    it('exports ALL matching runs in CSV, not one page', async () => {
      const res = await fetch(`${url}/admin/run?task=bulk&format=csv&download=true`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(CONTENT_TYPE.csv);
      expect(res.headers.get('content-disposition')).to.equal('attachment; filename="runs.csv"');
      const text = await res.text();
      expect(text.split('\n')[0]).to.equal('id,task,run,status,started,elapsed,args,tags,error');
      const rows = csvObjects(text);
      expect(rows).to.have.length(120);
      expect(new Set(rows.map((r) => r.id)).size).to.equal(120);
      expect(rows.every((r) => r.task === 'bulk' && r.status === 'ok')).to.equal(true);
    });

    it('exports ALL matching runs in JSON, XML and YAML with next: null', async () => {
      expect(await exportRows('task=bulk')).to.have.length(120);
      const xml = parseBody('xml', await (await fetch(`${url}/admin/run?task=bulk&format=xml`)).text()) as { runs: Row[]; next: null };
      expect(xml.runs).to.have.length(120);
      expect(xml.next).to.equal(null);
      const yaml = parseBody('yaml', await (await fetch(`${url}/admin/run?task=bulk&format=yaml`)).text()) as { runs: Row[]; next: null };
      expect(yaml.runs).to.have.length(120);
      expect(yaml).to.have.property('next', null);
    });

    it('exports an empty history as an empty list with a CSV header', async () => {
      expect(await exportRows('task=nothing-here')).to.deep.equal([]);
      const csv = await (await fetch(`${url}/admin/run?task=nothing-here&format=csv`)).text();
      expect(csv.trim()).to.equal('id,task,run,status,started,elapsed,args,tags,error');
    });
  });

  describe('one run', () => {
    it('answers the full Result with its logs in JSON', async () => {
      const res = await fetch(`${url}/admin/run/${ids.prod}?format=json`);
      const result = (await res.json()) as { id: string; task: { key: string }; run: string; args: unknown; logs: string[]; status: string; started: string };
      expect(result).to.include({ id: ids.prod, run: 'nightly', status: 'ok', started: new Date(T0 + HOUR).toISOString() });
      expect(result.task.key).to.equal('alpha');
      expect(result.args).to.deep.equal({ env: 'prod' });
      expect(result.logs).to.have.length(2);
      expect(result.logs[0]).to.equal('alpha ran');
      expect(result.logs[1]).to.match(/^task \[Alpha\] completed in \[/);
    });

    it('shows a failed run with its error', async () => {
      const result = (await (await fetch(`${url}/admin/run/${ids.broken}?format=json`)).json()) as { status: string; error: string; success: boolean };
      expect(result).to.include({ status: 'error', error: 'broken on purpose', success: false });
    });

    it('shows a running run with the logs so far, then cancels it through ?format=json', async () => {
      t.kernel.registerTask({
        key: 'chatty',
        run: async ({ log, signal }) => {
          log('first line');
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        },
      });
      const live = await t.kernel.service.start(t.kernel.registry.require('chatty'), {});
      while ((await t.kernel.service.getLogs(live.id)).length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const running = (await (await fetch(`${url}/admin/run/${live.id}?format=json`)).json()) as { status: string; logs: string[] };
      expect(running.status).to.equal('running');
      expect(running.logs).to.deep.equal(['first line']);
      const html = await (await fetch(`${url}/admin/run/${live.id}`)).text();
      expect(html).to.contain(`/admin/run/${live.id}/cancel`);
      const res = await fetch(`${url}/admin/run/${live.id}/cancel?format=json`);
      expect(res.status).to.equal(200);
      const cancelled = (await res.json()) as { id: string; status: string; logs: string[] };
      expect(cancelled).to.include({ id: live.id, status: 'cancelled' });
      expect(cancelled.logs).to.include('run cancelled');
      expect((await t.kernel.service.getStoredRun(live.id)).status).to.equal('cancelled');
      const again = await fetch(`${url}/admin/run/${live.id}/cancel?format=json`);
      expect(again.status).to.equal(409);
    });
  });
});

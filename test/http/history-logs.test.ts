import { expect } from 'chai';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { decodeEntities } from './http-client.js';

interface LogsPage {
  lines: { seq: number; msg: string; stream: string }[];
  before: number | null;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
/** The line numbers shown in an HTML log table (or rows fragment), in order. */
const seqsIn = (html: string) => [...html.matchAll(/<tr class="stream-[a-z]+" data-seq="(\d+)">/g)].map((m) => Number(m[1]));
const earlierHref = (html: string) => {
  const match = /data-load-earlier="([^"]+)"/.exec(html);
  return match ? decodeEntities(match[1]!) : null;
};

describe('long logs: the last lines first, earlier pages on demand, the whole log as text', () => {
  let t: TestKernel;
  let url: string;
  /** Runs by name: short (10 lines), long (2,500 + the completion line), capped (5,000 + 1 over a cap of 3,000). */
  const ids = { short: '', long: '', capped: '' };

  before(async function () {
    this.timeout(30_000);
    t = await bootKernel({ listen: true, config: { limits: { maxLogLines: 3000 } } });
    url = t.kernel.url;
    t.kernel.registerTask({
      key: 'lines',
      fields: [{ key: 'n', type: 'int' }],
      run: ({ args, log }) => {
        for (let i = 1; i <= Number(args.n); i++) log(i % 97 === 0 ? `line ${i} <b>&amp;</b> \u001b[31mred\u001b[0m` : `line ${i}`);
      },
    });
    ids.short = (await t.kernel.service.run('lines', { n: 10 })).id;
    ids.long = (await t.kernel.service.run('lines', { n: 2500 })).id;
    ids.capped = (await t.kernel.service.run('lines', { n: 5000 })).id;
  });
  after(() => t.cleanup());

  const json = async (path: string): Promise<{ status: number; body: LogsPage; link: string | null }> => {
    const res = await fetch(`${url}${path}${path.includes('?') ? '&' : '?'}format=json`);
    return { status: res.status, body: (await res.json()) as LogsPage, link: res.headers.get('link') };
  };

  /** Follows the run page's "load earlier lines" link, then each page's `before`, to line 1. */
  const walkBack = async (id: string, limit?: number) => {
    const html = await (await fetch(`${url}/admin/run/${id}`)).text();
    const shown = seqsIn(html);
    const pages: number[][] = [shown];
    let href = earlierHref(html);
    if (href && limit) href = href.replace(/limit=\d+/, `limit=${limit}`);
    while (href && pages.length < 2000) {
      const { status, body } = await json(href);
      expect(status).to.equal(200);
      pages.unshift(body.lines.map((l) => l.seq));
      href = body.before === null ? null : href.replace(/before=\d+/, `before=${body.before}`);
    }
    return { pages, seqs: pages.flat(), html };
  };

  it('shows a short log whole, without a "load earlier" button', async () => {
    const html = await (await fetch(`${url}/admin/run/${ids.short}`)).text();
    expect(seqsIn(html)).to.deep.equal(range(1, 11));
    expect(earlierHref(html)).to.equal(null);
    expect(html).to.contain(`href="/admin/run/${ids.short}/log.txt"`);
  });

  it('shows the last 1000 lines of a long log; earlier pages walk back to line 1 without duplicates or gaps', async () => {
    const { pages, seqs, html } = await walkBack(ids.long);
    expect(pages.at(-1)).to.deep.equal(range(1502, 2501));
    expect(html).to.contain('Showing lines 1502–2501 of 2501');
    expect(pages.map((p) => p.length)).to.deep.equal([501, 1000, 1000]);
    expect(seqs).to.deep.equal(range(1, 2501));
  });

  it('walks back the same way with any page size', async () => {
    for (const limit of [7, 999, 5000]) {
      const { seqs } = await walkBack(ids.long, limit);
      expect(seqs, `limit ${limit}`).to.deep.equal(range(1, 2501));
    }
  });

  it('skips the section the log cap dropped: no empty pages, no duplicates, nothing missing but that section', async () => {
    const stored = await t.kernel.service.getStoredRun(ids.capped);
    expect(stored.logCount).to.equal(5001);
    expect(stored.logsDropped).to.equal(2001);
    const kept = [...range(1, 1500), ...range(3502, 5001)];
    for (const limit of [undefined, 7, 333, 1500]) {
      const { pages, seqs } = await walkBack(ids.capped, limit);
      expect(seqs, `limit ${limit}`).to.deep.equal(kept);
      expect(pages.every((p) => p.length > 0)).to.equal(true);
      // Every page is full but the first (line 1's).
      expect(pages.slice(1, -1).every((p) => p.length === (limit ?? 1000)), `limit ${limit}`).to.equal(true);
    }
    // The store agrees, line for line.
    expect((await t.kernel.service.getLogs(ids.capped)).map((l) => l.seq)).to.deep.equal(kept);
  });

  it('marks the dropped section in the HTML rows, once, where it is', async () => {
    const html = await (await fetch(`${url}/admin/run/${ids.capped}`)).text();
    expect(html).to.contain('Showing lines 4002–5001 of 5001 (2001 dropped by the log limit)');
    // A page that ends just above the gap says how many lines are missing below the page shown.
    let res = await fetch(`${url}/admin/run/${ids.capped}/logs?before=3502&limit=10`);
    let rows = await res.text();
    expect(seqsIn(rows)).to.deep.equal(range(1491, 1500));
    expect(rows.match(/class="log-gap"/g)).to.have.length(1);
    expect(rows).to.match(/<tr class="log-gap">.*<td>… 2001 lines dropped \(the log keeps its first and last lines\) …<\/td><\/tr>$/);
    // A page across the gap marks it between its lines.
    res = await fetch(`${url}/admin/run/${ids.capped}/logs?before=3505&limit=6`);
    rows = await res.text();
    expect(seqsIn(rows)).to.deep.equal([1498, 1499, 1500, 3502, 3503, 3504]);
    expect(rows.indexOf('log-gap')).to.be.greaterThan(rows.indexOf('data-seq="1500"')).and.lessThan(rows.indexOf('data-seq="3502"'));
    expect(res.headers.get('link')).to.equal(`</admin/run/${ids.capped}/logs?before=1498&limit=6>; rel="next"`);
  });

  it('answers a page as HTML rows (escaped, colours as classes) or JSON, with the cursor of the page before', async () => {
    const page = await json(`/admin/run/${ids.long}/logs?before=200&limit=5`);
    expect(page.body).to.deep.equal({
      lines: range(195, 199).map((seq) => ({ seq, msg: `line ${seq}`, stream: 'log' })),
      before: 195,
    });
    const html = await (await fetch(`${url}/admin/run/${ids.long}/logs?before=195&limit=1`)).text();
    expect(html).to.equal(
      '<tr class="stream-log" data-seq="194"><th scope="row">194</th><td>line 194 &lt;b&gt;&amp;amp;&lt;/b&gt; <span class="ansi-red-fg">red</span></td></tr>',
    );
    const first = await json(`/admin/run/${ids.long}/logs?before=3&limit=10`);
    expect(first.body).to.deep.equal({ lines: [{ seq: 1, msg: 'line 1', stream: 'log' }, { seq: 2, msg: 'line 2', stream: 'log' }], before: null });
    expect(first.link).to.equal(null);
    expect((await json(`/admin/run/${ids.long}/logs?before=1`)).body).to.deep.equal({ lines: [], before: null });
    // Without `before`: the last page.
    const last = await json(`/admin/run/${ids.long}/logs?limit=2`);
    expect(last.body.lines.map((l) => l.seq)).to.deep.equal([2500, 2501]);
    expect(last.body.before).to.equal(2500);
  });

  it('refuses a bad cursor or page size with 400 naming it, and an unknown run with 404', async () => {
    for (const [query, name] of [['before=0', 'before'], ['before=abc', 'before'], ['before=-5', 'before'], ['limit=0', 'limit'], ['limit=5001', 'limit'], ['limit=1.5', 'limit']]) {
      const res = await fetch(`${url}/admin/run/${ids.long}/logs?${query}&format=json`);
      expect(res.status, query).to.equal(400);
      expect(((await res.json()) as { message: string }).message, query).to.contain(`parameter "${name}"`);
    }
    for (const path of ['logs', 'log.txt']) {
      expect((await fetch(`${url}/admin/run/00000000-0000-4000-8000-000000000000/${path}`)).status).to.equal(404);
      expect((await fetch(`${url}/admin/run/nope/${path}`)).status).to.equal(404);
    }
  });

  it('downloads the whole log as text/plain, a line per row and a marker line where lines were dropped', async () => {
    const res = await fetch(`${url}/admin/run/${ids.capped}/log.txt`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/plain; charset=utf-8');
    expect(res.headers.get('content-disposition')).to.equal(`attachment; filename="run-${ids.capped}.log.txt"`);
    expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
    const text = await res.text();
    expect(text.endsWith('\n')).to.equal(true);
    const lines = text.slice(0, -1).split('\n');
    expect(lines).to.have.length(1500 + 1 + 1500);
    expect(lines[0]).to.equal('line 1');
    expect(lines[1499]).to.equal('line 1500');
    expect(lines[1500]).to.equal('… 2001 lines dropped (the log keeps its first and last lines) …');
    expect(lines[1501]).to.equal('line 3502');
    expect(lines.at(-1)).to.match(/^task \[Lines\] completed in \[/);
    // The same text as the Result's logs, with the raw line text (colour codes kept).
    const result = (await (await fetch(`${url}/admin/run/${ids.long}/log.txt`)).text()).slice(0, -1).split('\n');
    expect(result).to.have.length(2501);
    expect(result[193]).to.equal('line 194 <b>&amp;</b> \u001b[31mred\u001b[0m');
  });
});

describe('a run with 200,000 log lines', function () {
  this.timeout(120_000);
  let t: TestKernel;
  let id: string;

  before(async () => {
    t = await bootKernel({ listen: true, config: { limits: { maxLogLines: 1_000_000 } } });
    t.kernel.registerTask({ key: 'flood', fields: [{ key: 'n', type: 'int' }], run: ({ args, log }) => {
      for (let i = 1; i <= Number(args.n); i++) log(`flood line ${i} of ${String(args.n)}`);
    } });
    id = (await t.kernel.service.run('flood', { n: 200_000 })).id;
  });
  after(() => t.cleanup());

  it('opens its run page with the last lines and not the first, and its log downloads whole', async () => {
    const timings: number[] = [];
    let html = '';
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const res = await fetch(`${t.kernel.url}/admin/run/${id}`);
      html = await res.text();
      timings.push(performance.now() - started);
      expect(res.status).to.equal(200);
    }
    expect(html).to.contain('flood line 200000 of 200000');
    expect(html).to.not.contain('>flood line 1 of 200000<');
    expect(html).to.not.contain('>flood line 199000 of 200000<');
    expect(seqsIn(html)).to.deep.equal(range(199_002, 200_001));
    expect(html).to.contain('Showing lines 199002–200001 of 200001');
    // Not asserted (machines differ): reported for the record.
    console.log(`      run page of a 200,000-line run: ${timings.map((ms) => `${ms.toFixed(1)} ms`).join(', ')} (first, then warm)`);

    const started = performance.now();
    const text = await (await fetch(`${t.kernel.url}/admin/run/${id}/log.txt`)).text();
    const lines = text.slice(0, -1).split('\n');
    expect(lines).to.have.length(200_001);
    expect(lines[0]).to.equal('flood line 1 of 200000');
    expect(lines[199_999]).to.equal('flood line 200000 of 200000');
    console.log(`      log.txt of the same run: ${(performance.now() - started).toFixed(0)} ms, ${text.length} bytes`);
  });
});

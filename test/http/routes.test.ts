import { expect } from 'chai';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { parseXml } from './formats/fixtures.js';
import { CONTENT_TYPE, FORMATS, csvObjects, eventually, parseBody, rawRequest, withFormat, type TestFormat } from './http-client.js';

const COMPLETION_LINE = /^task \[Adder\] completed in \[[0-9]+(\.[0-9]{3})?ms\]$/;

/** The parts of a Result every format must agree on, read from what the parser gave. */
function resultFields(format: TestFormat, parsed: unknown): { id: string; status: string; run: string; n: unknown; logs: string[]; dataN: unknown } {
  if (format === 'csv') {
    const rows = parsed as Record<string, string>[];
    expect(rows).to.have.length(1);
    const row = rows[0]!;
    return { id: row.id!, status: row.status!, run: row.run!, n: (JSON.parse(row.args!) as { n: unknown }).n, logs: JSON.parse(row.logs!) as string[], dataN: (JSON.parse(row.data!) as { n: unknown }).n };
  }
  const r = parsed as { id: string; status: string; run: string; args: { n: unknown }; logs: string[]; data: { n: unknown } };
  return { id: r.id, status: r.status, run: r.run, n: r.args.n, logs: r.logs, dataN: r.data.n };
}

describe('HTTP routes answer every format', () => {
  let t: TestKernel;
  let url: string;
  let counter = 0;

  before(async () => {
    t = await bootKernel({ listen: true, plugins: { 'fixed.ts': "export default { key: 'fixed', title: 'Fixed Task', run: () => 'fixed' };" } });
    url = t.kernel.url;
    t.kernel.registerTask({
      key: 'add',
      title: 'Adder',
      category: 'math',
      tags: ['numbers'],
      fields: [{ key: 'n', type: 'int', default: 1 }],
      run: ({ args, log }) => {
        counter += 1;
        log(`adding ${String(args.n)}`);
        return { n: args.n, sum: Number(args.n) + 1 };
      },
    });
    t.kernel.registerTask({
      key: 'wait',
      title: 'Waiter',
      run: ({ signal }) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
    });
  });
  after(() => t.cleanup());

  const get = (path: string, init: RequestInit = {}) => fetch(url + path, { redirect: 'manual', ...init });

  it('redirects / to /admin/task (/admin is the dashboard: test/http/analytics.test.ts)', async () => {
    const res = await get('/');
    expect(res.status).to.equal(302);
    expect(res.headers.get('location')).to.equal('/admin/task');
  });

  it('names the XML root after what the page holds', async () => {
    const id = (await t.kernel.service.run('add', { n: 1 })).id;
    const roots: [string, string][] = [
      ['/admin/task', 'tasks'],
      ['/admin/task/add', 'task'],
      ['/admin/task/add/run', 'result'],
      ['/admin/run', 'runs'],
      ['/admin/run?limit=5', 'runs'],
      [`/admin/run/${id}`, 'result'],
      ['/admin/task/nope', 'error'],
    ];
    for (const [path, root] of roots) {
      const text = await (await get(withFormat(path, 'xml'))).text();
      expect(parseXml(text).root, path).to.equal(root);
    }
  });

  it('answers HEAD on a page that changes nothing with the headers and no body', async () => {
    const res = await rawRequest(url, '/admin/task?format=json', { method: 'HEAD' });
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.match(CONTENT_TYPE.json);
    expect(res.body).to.equal('');
  });

  it('redacts cookies and authorization in ?format=debug', async () => {
    const res = await get('/admin/task/add?format=debug', { headers: { Cookie: 'session=secret-cookie', Authorization: 'Bearer secret-token' } });
    const text = await res.text();
    expect(text).to.not.contain('secret-cookie').and.not.contain('secret-token');
    const debug = JSON.parse(text) as { action: string; request: { path: string; headers: Record<string, string> }; data: { key: string } };
    expect(debug.action).to.equal('task.detail');
    expect(debug.request.path).to.equal('/admin/task/add');
    expect(debug.request.headers).to.have.property('cookie').that.is.a('string');
    expect(debug.data.key).to.equal('add');
  });

  describe('GET /admin/task', () => {
    for (const format of FORMATS) {
      it(`lists the registered tasks in ${format}`, async () => {
        const res = await get(withFormat('/admin/task', format));
        expect(res.status).to.equal(200);
        expect(res.headers.get('content-type')).to.match(CONTENT_TYPE[format]);
        const body = parseBody(format, await res.text());
        if (format === 'html') {
          for (const text of ['Adder', 'Fixed Task', 'Waiter', '<code class="subtle">add</code>']) expect(body).to.contain(text);
          return;
        }
        const list = body as Record<string, unknown>[];
        expect(list.map((task) => task.key)).to.deep.equal(['add', 'fixed', 'wait']);
        const add = list[0]!;
        expect(add.title).to.equal('Adder');
        expect(add.category).to.equal('math');
        if (format === 'csv') {
          expect(JSON.parse(add.tags as string)).to.deep.equal(['numbers']);
          expect((JSON.parse(add.fields as string) as { key: string }[])[0]!.key).to.equal('n');
        } else {
          expect(add.tags).to.deep.equal(['numbers']);
          expect((add.fields as { key: string; type: string }[])[0]).to.include({ key: 'n', type: 'int' });
        }
      });
    }

    it('writes the task list as CSV with a header and one row per task', async () => {
      const text = await (await get('/admin/task?format=csv')).text();
      const lines = text.trimEnd().split('\n');
      expect(lines[0]).to.match(/^key,title,category,icon,description,tags,fields,/);
      expect(csvObjects(text)).to.have.length(3);
    });

    it('picks the format with ?t= as well, and t wins over format', async () => {
      const res = await get('/admin/task?t=yaml&format=json');
      expect(res.headers.get('content-type')).to.match(CONTENT_TYPE.yaml);
      expect((parseBody('yaml', await res.text()) as unknown[]).length).to.equal(3);
    });

    it('reads a repeated format by its first value, and lets t win even over an unknown format', async () => {
      const repeated = await get('/admin/task?format=json&format=xml');
      expect(repeated.headers.get('content-type')).to.match(CONTENT_TYPE.json);
      await repeated.arrayBuffer();
      const tWins = await get('/admin/task?t=json&format=pdf');
      expect(tWins.status).to.equal(200);
      expect(tWins.headers.get('content-type')).to.match(CONTENT_TYPE.json);
      await tWins.arrayBuffer();
    });

    it('picks the format from an exact Accept media type, and HTML for a browser Accept list', async () => {
      const json = await get('/admin/task', { headers: { Accept: 'application/json' } });
      expect(json.headers.get('content-type')).to.match(CONTENT_TYPE.json);
      await json.arrayBuffer();
      const browser = await get('/admin/task', { headers: { Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
      expect(browser.headers.get('content-type')).to.match(CONTENT_TYPE.html);
      await browser.arrayBuffer();
    });

    it('adds Content-Disposition with a file name and extension when download=true', async () => {
      const expected: Record<string, string> = { json: 'tasks.json', csv: 'tasks.csv', xml: 'tasks.xml', yaml: 'tasks.yaml', debug: 'tasks.debug.json' };
      for (const [format, name] of Object.entries(expected)) {
        const res = await get(`/admin/task?format=${format}&download=true`);
        expect(res.headers.get('content-disposition'), format).to.equal(`attachment; filename="${name}"`);
        await res.arrayBuffer();
      }
      const plain = await get('/admin/task?format=json');
      expect(plain.headers.get('content-disposition')).to.equal(null);
      await plain.arrayBuffer();
    });
  });

  describe('GET /admin/task/{key}', () => {
    for (const format of FORMATS) {
      it(`shows a task in ${format}`, async () => {
        const res = await get(withFormat('/admin/task/add', format));
        expect(res.status).to.equal(200);
        expect(res.headers.get('content-type')).to.match(CONTENT_TYPE[format]);
        const body = parseBody(format, await res.text());
        if (format === 'html') {
          expect(body).to.contain('Adder').and.contain('action="/admin/task/add/run"').and.contain('name="n"');
          return;
        }
        const task = (format === 'csv' ? (body as unknown[])[0] : body) as Record<string, unknown>;
        expect(task.key).to.equal('add');
        expect(task.title).to.equal('Adder');
        expect(task.category).to.equal('math');
      });
    }
  });

  describe('GET /admin/task/{key}/run', () => {
    for (const format of FORMATS) {
      it(`runs the task synchronously and answers its Result in ${format}`, async () => {
        const before = counter;
        const res = await get(withFormat('/admin/task/add/run?n=41&category=nightly', format));
        expect(res.status).to.equal(200);
        expect(res.headers.get('content-type')).to.match(CONTENT_TYPE[format]);
        const text = await res.text();
        expect(counter - before).to.equal(1);
        if (format === 'html') {
          expect(text).to.contain('data-status="ok"').and.contain('nightly').and.contain('adding 41');
          expect(text).to.match(/task \[Adder\] completed in \[[0-9]+(\.[0-9]{3})?ms\]/);
          return;
        }
        const r = resultFields(format, parseBody(format, text));
        expect(r.status).to.equal('ok');
        expect(r.run).to.equal('nightly');
        expect(r.n).to.equal(format === 'xml' ? '41' : 41);
        expect(r.dataN).to.equal(format === 'xml' ? '41' : 41);
        expect(r.logs[0]).to.equal('adding 41');
        expect(r.logs.at(-1)).to.match(COMPLETION_LINE);
        const stored = await t.kernel.service.getStoredRun(r.id);
        expect(stored).to.include({ status: 'ok', label: 'nightly', taskKey: 'add' });
        expect(stored.args).to.deep.equal({ n: 41 });
      });
    }

    it('answers the Result JSON with the seed keys and an integer elapsed', async () => {
      const result = (await (await get('/admin/task/add/run?format=json')).json()) as Record<string, unknown>;
      expect(Object.keys(result)).to.include.members(['id', 'task', 'run', 'args', 'started', 'elapsed', 'status', 'summary', 'logs', 'data', 'tags', 'metadata', 'success', 'error']);
      expect(result.elapsed).to.satisfy(Number.isInteger);
      expect(result.success).to.equal(true);
      expect(result.run).to.equal('ad-hoc');
      expect((result.task as { key: string }).key).to.equal('add');
      expect(result.args).to.deep.equal({ n: 1 });
    });

    it('points the result page\'s format links at the run, so following one never runs the task again', async () => {
      const html = await (await get('/admin/task/add/run?n=3')).text();
      const links = [...html.matchAll(/<nav class="formats"[\s\S]*?<\/nav>/g)].flatMap((m) => [...m[0].matchAll(/href="([^"]+)"/g)].map((l) => l[1]!));
      expect(links).to.have.length(4);
      for (const link of links) expect(link).to.match(/^\/admin\/run\/[0-9a-f-]{36}\?t=(json|csv|xml|yaml)$/);
      const before = counter;
      expect((await get(links[0]!)).status).to.equal(200);
      expect(counter).to.equal(before);
    });

    it('names the download after the run', async () => {
      const res = await get('/admin/task/add/run?format=csv&download=true');
      const row = csvObjects(await res.text())[0]!;
      expect(res.headers.get('content-disposition')).to.equal(`attachment; filename="run-${row.id}.csv"`);
    });
  });

  describe('GET /admin/task/{key}/run?async=true', () => {
    for (const format of FORMATS) {
      it(`renders the live page and runs nothing in ${format}`, async () => {
        const before = counter;
        const runsBefore = (await t.kernel.service.listRuns({ task: ['add'] }, { limit: 500 })).runs.length;
        const res = await get(withFormat('/admin/task/add/run?async=true&n=7&category=later', format));
        expect(res.status).to.equal(200);
        expect(res.headers.get('content-type')).to.match(CONTENT_TYPE[format]);
        const body = parseBody(format, await res.text());
        if (format === 'html') {
          expect(body).to.contain('Adder');
          // The page starts the run over the WebSocket with the same arguments and label.
          expect(body).to.match(/\/admin\/task\/add\/start\?[^"]*n=7/).and.match(/\/admin\/task\/add\/start\?[^"]*category=later/);
        } else {
          const task = (format === 'csv' ? (body as unknown[])[0] : body) as Record<string, unknown>;
          expect(task.key).to.equal('add');
        }
        expect(counter).to.equal(before);
        expect((await t.kernel.service.listRuns({ task: ['add'] }, { limit: 500 })).runs.length).to.equal(runsBefore);
      });
    }
  });

  describe('GET /admin/task/{key}/start', () => {
    for (const format of FORMATS) {
      it(`answers 426 Upgrade Required over plain HTTP in ${format}, and runs nothing`, async () => {
        const before = counter;
        const res = await get(withFormat('/admin/task/add/start', format));
        expect(res.status).to.equal(426);
        expect(res.headers.get('upgrade')).to.equal('websocket');
        expect(res.headers.get('content-type')).to.match(CONTENT_TYPE[format]);
        const body = parseBody(format, await res.text());
        if (format !== 'html') {
          const error = (format === 'csv' ? (body as unknown[])[0] : body) as Record<string, unknown>;
          expect(error.status).to.equal(format === 'json' || format === 'yaml' || format === 'debug' ? 426 : '426');
          expect(error.code).to.equal('ERR_UPGRADE_REQUIRED');
        }
        expect(counter).to.equal(before);
      });
    }
  });

  describe('GET /admin/task/{key}/remove', () => {
    for (const format of FORMATS) {
      it(`removes a dynamic task and answers in ${format}`, async () => {
        const key = `gone-${format}`;
        t.kernel.registerTask({ key, run: () => 'x' });
        const res = await get(withFormat(`/admin/task/${key}/remove`, format));
        expect(t.kernel.registry.has(key)).to.equal(false);
        if (format === 'html') {
          expect(res.status).to.equal(302);
          expect(res.headers.get('location')).to.equal(`/admin/task?removed=${key}`);
          return;
        }
        expect(res.status).to.equal(200);
        expect(res.headers.get('content-type')).to.match(CONTENT_TYPE[format]);
        const body = parseBody(format, await res.text());
        const data = (format === 'csv' ? (body as unknown[])[0] : body) as Record<string, unknown>;
        expect(data.removed).to.equal(key);
      });
    }
  });

  describe('GET /admin/run', () => {
    let ids: string[];
    before(async () => {
      ids = [];
      for (let i = 0; i < 3; i++) ids.push((await t.kernel.service.run('add', { n: 100 + i }, { label: 'listed' })).id);
    });

    for (const format of FORMATS) {
      it(`lists the runs newest first in ${format}`, async () => {
        const res = await get(withFormat('/admin/run?run=listed', format));
        expect(res.status).to.equal(200);
        expect(res.headers.get('content-type')).to.match(CONTENT_TYPE[format]);
        const body = parseBody(format, await res.text());
        if (format === 'html') {
          for (const id of ids) expect(body).to.contain(`/admin/run/${id}`);
          return;
        }
        const rows = (format === 'csv' ? body : (body as { runs: unknown[] }).runs) as Record<string, unknown>[];
        expect(rows.map((r) => r.id)).to.deep.equal([...ids].reverse());
        expect(rows.every((r) => r.task === 'add' && r.run === 'listed' && r.status === 'ok')).to.equal(true);
        if (format !== 'csv') expect((body as { next: unknown }).next).to.equal(null);
        if (format === 'json' || format === 'yaml' || format === 'debug') {
          expect(rows[0]!.args).to.deep.equal({ n: 102 });
          expect(Object.keys(rows[0]!)).to.deep.equal(['id', 'task', 'run', 'status', 'started', 'elapsed', 'args', 'tags', 'error']);
        }
      });
    }
  });

  describe('GET /admin/run/{id}', () => {
    let id: string;
    before(async () => {
      id = (await t.kernel.service.run('add', { n: 9 }, { label: 'detail' })).id;
    });

    for (const format of FORMATS) {
      it(`shows one run with its logs in ${format}`, async () => {
        const res = await get(withFormat(`/admin/run/${id}`, format));
        expect(res.status).to.equal(200);
        expect(res.headers.get('content-type')).to.match(CONTENT_TYPE[format]);
        const text = await res.text();
        if (format === 'html') {
          expect(text).to.contain(id).and.contain('adding 9').and.contain('data-status="ok"');
          return;
        }
        const r = resultFields(format, parseBody(format, text));
        expect(r).to.include({ id, status: 'ok', run: 'detail' });
        expect(r.n).to.equal(format === 'xml' ? '9' : 9);
        expect(r.logs).to.have.length(2);
        expect(r.logs[0]).to.equal('adding 9');
        expect(r.logs[1]).to.match(COMPLETION_LINE);
      });
    }
  });

  describe('GET /admin/run/{id}/cancel', () => {
    for (const format of FORMATS) {
      it(`cancels a running run and answers in ${format}`, async () => {
        const task = t.kernel.registry.require('wait');
        const live = await t.kernel.service.start(task, {});
        const res = await get(withFormat(`/admin/run/${live.id}/cancel`, format));
        if (format === 'html') {
          expect(res.status).to.equal(302);
          expect(res.headers.get('location')).to.equal(`/admin/run/${live.id}`);
        } else {
          expect(res.status).to.equal(200);
          expect(res.headers.get('content-type')).to.match(CONTENT_TYPE[format]);
          const body = parseBody(format, await res.text());
          const result = (format === 'csv' ? (body as unknown[])[0] : body) as Record<string, unknown>;
          expect(result.id).to.equal(live.id);
          expect(result.status).to.equal('cancelled');
        }
        expect((await live.done).status).to.equal('cancelled');
        await eventually(async () => (await t.kernel.service.getStoredRun(live.id)).status === 'cancelled', 2000, 'the cancelled row');
      });
    }
  });

  describe('GET /admin/run/{id}/watch', () => {
    for (const format of FORMATS) {
      it(`answers 426 over plain HTTP in ${format}`, async () => {
        const id = (await t.kernel.service.run('add', { n: 1 })).id;
        const res = await get(withFormat(`/admin/run/${id}/watch`, format));
        expect(res.status).to.equal(426);
        expect(res.headers.get('content-type')).to.match(CONTENT_TYPE[format]);
        expect(res.headers.get('upgrade')).to.equal('websocket');
        await res.arrayBuffer();
      });
    }
  });
});

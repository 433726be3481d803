import { expect } from 'chai';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { CONTENT_TYPE, FORMATS, errorMessage, parseBody, rawRequest, withFormat, type TestFormat } from './http-client.js';

/** The Accept header that asks for each format (the query parameter is refused in some tests). */
const ACCEPT: Readonly<Record<TestFormat, string>> = {
  html: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8',
  json: 'application/json',
  csv: 'text/csv',
  xml: 'application/xml',
  yaml: 'application/yaml',
  debug: 'text/plain',
};

describe('HTTP errors answer in every format with the same message', () => {
  let t: TestKernel;
  let url: string;
  let calls = 0;
  let finishedRun: string;

  const runCount = async () => (await t.kernel.service.listRuns({}, { limit: 500 })).runs.length;

  before(async () => {
    t = await bootKernel({ listen: true, plugins: { 'owned.ts': "export default { key: 'owned', title: 'Owned', run: () => 'mine' };" } });
    url = t.kernel.url;
    t.kernel.registerTask({
      key: 'count',
      fields: [{ key: 'n', type: 'int', default: 1 }],
      run: ({ args }) => {
        calls += 1;
        return args.n;
      },
    });
    finishedRun = (await t.kernel.service.run('count', { n: 1 })).id;
  });
  after(() => t.cleanup());

  /** Requests `path` in every format; checks status, content type and that every message is `message`. */
  async function expectErrorEverywhere(path: string, status: number, message: string | RegExp, via: 'query' | 'accept' = 'query'): Promise<Record<string, unknown>> {
    const callsBefore = calls;
    const runsBefore = await runCount();
    let json: Record<string, unknown> = {};
    for (const format of FORMATS) {
      const res = via === 'query' ? await fetch(url + withFormat(path, format), { redirect: 'manual' }) : await fetch(url + path, { redirect: 'manual', headers: { Accept: ACCEPT[format] } });
      const text = await res.text();
      expect(res.status, `${format} status`).to.equal(status);
      expect(res.headers.get('content-type'), `${format} content type`).to.match(CONTENT_TYPE[format]);
      const got = errorMessage(format, text);
      if (typeof message === 'string') expect(got, format).to.equal(message);
      else expect(got, format).to.match(message);
      if (format === 'json') json = parseBody('json', text) as Record<string, unknown>;
      if (format === 'csv' || format === 'xml' || format === 'yaml') {
        const data = parseBody(format, text);
        const record = (Array.isArray(data) ? data[0] : data) as Record<string, unknown>;
        expect(String(record.status), `${format} status field`).to.equal(String(status));
      }
    }
    expect(calls - callsBefore, 'task calls').to.equal(0);
    expect(await runCount(), 'history rows').to.equal(runsBefore);
    return json;
  }

  describe('404 for an unknown task', () => {
    for (const suffix of ['', '/run', '/run?async=true', '/remove', '/start']) {
      it(`answers 404 naming the key on /admin/task/nope${suffix}`, async () => {
        const json = await expectErrorEverywhere(`/admin/task/nope${suffix}`, 404, 'no task found with key "nope"');
        expect(json).to.include({ status: 404, code: 'ERR_TASK_NOT_FOUND', task: 'nope' });
      });
    }

    it('answers 404 in JSON for an unknown task with ?format=json', async () => {
      const res = await fetch(`${url}/admin/task/nope?format=json`);
      expect(res.status).to.equal(404);
      expect(await res.json()).to.deep.equal({ status: 404, code: 'ERR_TASK_NOT_FOUND', message: 'no task found with key "nope"', task: 'nope' });
    });

    it('answers 404 for a page that does not exist', async () => {
      await expectErrorEverywhere('/nope', 404, 'no page at /nope');
      await expectErrorEverywhere('/admin/task/count/nope', 404, 'no page at /admin/task/count/nope');
    });
  });

  describe('404 for an unknown run', () => {
    const uuid = '00000000-0000-4000-8000-000000000000';
    for (const suffix of ['', '/cancel', '/watch']) {
      it(`answers 404 for a well-formed id nobody has on /admin/run/{id}${suffix}`, async () => {
        const json = await expectErrorEverywhere(`/admin/run/${uuid}${suffix}`, 404, `no run found with id "${uuid}"`);
        expect(json).to.include({ code: 'ERR_RUN_NOT_FOUND', run: uuid });
      });

      it(`answers 404 for a garbage id on /admin/run/{id}${suffix}`, async () => {
        await expectErrorEverywhere(`/admin/run/not-a-run${suffix}`, 404, 'no run found with id "not-a-run"');
      });
    }
  });

  describe('400 for bad input', () => {
    it('refuses an int field given "abc" naming the field, and nothing runs', async () => {
      const callsBefore = calls;
      for (const format of FORMATS.filter((f) => f !== 'html')) {
        const res = await fetch(`${url}${withFormat('/admin/task/count/run?n=abc', format)}`);
        expect(res.status, format).to.equal(400);
        expect(res.headers.get('content-type')).to.match(CONTENT_TYPE[format]);
        expect(errorMessage(format, await res.text()), format).to.equal('invalid arguments for task "count": field "n": expected an integer, got "abc"');
      }
      const json = (await (await fetch(`${url}/admin/task/count/run?n=abc&format=json`)).json()) as Record<string, unknown>;
      expect(json).to.deep.include({ code: 'ERR_INVALID_ARG', task: 'count', invalid_params: [{ name: 'n', reason: 'expected an integer, got "abc"' }] });
      expect(calls).to.equal(callsBefore);
    });

    it('refuses an unknown ?format= value with 400 before anything runs', async () => {
      for (const path of ['/admin/task?format=pdf', '/admin/task/count/run?format=pdf', '/admin/run?format=JSON', '/admin/task/count/run?t=pdf']) {
        const res = await fetch(url + path);
        expect(res.status, path).to.equal(400);
        expect(errorMessage('html', await res.text()), path).to.match(/^parameter "(format|t)": expected one of html, json, csv, xml, yaml, debug, got "(pdf|JSON)"$/);
      }
    });

    it('answers an unknown format value in the format the Accept header asks for', async () => {
      const message = 'parameter "format": expected one of html, json, csv, xml, yaml, debug, got "pdf"';
      await expectErrorEverywhere('/admin/task?format=pdf', 400, message, 'accept');
      await expectErrorEverywhere('/admin/task/count/run?format=pdf', 400, message, 'accept');
      await expectErrorEverywhere('/admin/run?t=pdf', 400, message.replace('"format"', '"t"'), 'accept');
    });

    it('refuses a bad history filter naming the parameter', async () => {
      await expectErrorEverywhere('/admin/run?status=bogus', 400, /^parameter "status": expected one of running, ok, error/);
      await expectErrorEverywhere('/admin/run?limit=0', 400, 'parameter "limit": expected an integer from 1 to 500, got "0"');
      await expectErrorEverywhere('/admin/run?since=yesterday', 400, /^parameter "since": expected an ISO 8601 date/);
      await expectErrorEverywhere('/admin/run?cursor=garbage', 400, /^parameter "cursor": expected a cursor from a previous page/);
    });
  });

  describe('409 conflicts', () => {
    it('refuses to remove a task that comes from a plugin file, naming the file', async () => {
      const json = await expectErrorEverywhere('/admin/task/owned/remove', 409, /^task "owned" comes from the plugin file .*owned\.ts: delete or edit that file to remove it$/);
      expect(json).to.include({ code: 'ERR_TASK_NOT_REMOVABLE', task: 'owned' });
      expect(json.file).to.match(/owned\.ts$/);
      expect(t.kernel.registry.has('owned')).to.equal(true);
    });

    it('refuses to cancel a run that has finished', async () => {
      const json = await expectErrorEverywhere(`/admin/run/${finishedRun}/cancel`, 409, `run "${finishedRun}" is not running`);
      expect(json).to.include({ code: 'ERR_RUN_NOT_RUNNING', run: finishedRun });
      expect((await t.kernel.service.getStoredRun(finishedRun)).status).to.equal('ok');
    });
  });

  describe('405, 403 and 503 run nothing', () => {
    it('answers POST to a GET route with 405 in the requested format, with Allow naming GET', async () => {
      const callsBefore = calls;
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
        const res = await rawRequest(url, '/admin/task/count/run?format=json', { method });
        expect(res.status, method).to.equal(405);
        expect(res.headers.allow, method).to.contain('GET');
        expect(res.headers['content-type']).to.match(CONTENT_TYPE.json);
        expect(JSON.parse(res.body)).to.include({ status: 405, code: 'ERR_METHOD_NOT_ALLOWED' });
      }
      expect(calls).to.equal(callsBefore);
    });

    it('answers a forbidden or prefetch request in the requested format', async () => {
      const callsBefore = calls;
      const forbidden = await fetch(`${url}/admin/task/count/run?format=yaml`, { headers: { 'Sec-Fetch-Site': 'cross-site' } });
      expect(forbidden.status).to.equal(403);
      expect(parseBody('yaml', await forbidden.text())).to.include({ status: 403, code: 'ERR_FORBIDDEN' });
      const prefetch = await fetch(`${url}/admin/task/count/run?format=xml`, { headers: { 'Sec-Purpose': 'prefetch' } });
      expect(prefetch.status).to.equal(503);
      expect(parseBody('xml', await prefetch.text())).to.include({ status: '503', code: 'ERR_PREFETCH' });
      expect(calls).to.equal(callsBefore);
    });
  });

  it('never shows internal details: an error page is the code and the message only', async () => {
    const json = (await (await fetch(`${url}/admin/task/nope?format=json`)).json()) as Record<string, unknown>;
    expect(Object.keys(json).sort()).to.deep.equal(['code', 'message', 'status', 'task']);
  });
});

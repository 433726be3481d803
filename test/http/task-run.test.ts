import { expect } from 'chai';
import { HttpServer } from '../../core/http/http-server.js';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { CONTENT_TYPE, FORMATS, decodeEntities, eventually, parseBody, withFormat } from './http-client.js';

type Args = Record<string, unknown>;

describe('running a task over HTTP', () => {
  let t: TestKernel;
  let url: string;
  /** The args each task saw, newest last. */
  const seen: Record<string, Args[]> = {};
  const record = (key: string) => (args: Args) => {
    (seen[key] ??= []).push({ ...args });
  };
  const lastArgs = (key: string): Args => seen[key]?.at(-1) ?? {};
  const callsOf = (key: string): number => seen[key]?.length ?? 0;

  before(async () => {
    t = await bootKernel({ listen: true });
    url = t.kernel.url;
    t.kernel.registerTask({ key: 'echo', run: ({ args }) => (record('echo')(args), { args }) });
    t.kernel.registerTask({
      key: 'typed',
      title: 'Typed',
      fields: [
        { key: 'n', type: 'int', default: 1 },
        { key: 'ratio', type: 'float' },
        { key: 'loud', type: 'bool', default: true },
        { key: 'names', type: '[]string' },
        { key: 'colour', choices: ['red', 'green'], default: 'red' },
      ],
      run: ({ args }) => (record('typed')(args), 'ok'),
    });
    t.kernel.registerTask({
      key: 'backup',
      title: 'Database Backup',
      dangerous: 'May lock tables during backup',
      fields: [{ key: 'format', type: 'string', default: 'sql', choices: ['sql', 'tar'] }],
      run: ({ args }) => (record('backup')(args), { file: `backup.${String(args.format)}` }),
    });
    t.kernel.registerTask({ key: 'strict', strictArgs: true, fields: [{ key: 'n', type: 'int', default: 0 }], run: ({ args }) => (record('strict')(args), 'ok') });
    t.kernel.registerTask({
      key: 'fails',
      title: 'Fails',
      run: ({ log }) => {
        record('fails')({});
        log('about to fail');
        throw new Error('the disk is full');
      },
    });
  });
  after(() => t.cleanup());

  const get = (path: string, init: RequestInit = {}) => fetch(url + path, { redirect: 'manual', ...init });
  const json = async (path: string) => (await (await get(path)).json()) as Record<string, unknown>;

  describe('a task that fails', () => {
    for (const format of FORMATS) {
      it(`answers 200 with status "error" and the message in ${format}`, async () => {
        const res = await get(withFormat('/admin/task/fails/run', format));
        expect(res.status).to.equal(200);
        expect(res.headers.get('content-type')).to.match(CONTENT_TYPE[format]);
        const text = await res.text();
        if (format === 'html') {
          expect(text).to.contain('data-status="error"').and.contain('the disk is full').and.contain('about to fail');
          return;
        }
        const body = parseBody(format, text);
        const result = (format === 'csv' ? (body as unknown[])[0] : body) as Record<string, unknown>;
        expect(result.status).to.equal('error');
        expect(result.error).to.equal('the disk is full');
        expect(String(result.success)).to.equal('false');
      });
    }
  });

  describe('arguments', () => {
    it('coerces typed fields and fills defaults', async () => {
      await json('/admin/task/typed/run?n=%2B42&ratio=0.1&loud=no&names=a&names=b&format=json');
      expect(lastArgs('typed')).to.deep.equal({ n: 42, ratio: 0.1, loud: false, names: ['a', 'b'], colour: 'red' });
    });

    it('refuses a value outside the choices, listing them, and runs nothing', async () => {
      const before = callsOf('typed');
      const res = await get('/admin/task/typed/run?colour=blue&format=json');
      expect(res.status).to.equal(400);
      expect(((await res.json()) as { message: string }).message).to.contain('field "colour"').and.contain('red').and.contain('green');
      expect(callsOf('typed')).to.equal(before);
    });

    it('re-renders the HTML form with a 400 and the error next to the field', async () => {
      const before = callsOf('typed');
      const res = await get('/admin/task/typed/run?n=abc&colour=green&_checkboxes=1');
      expect(res.status).to.equal(400);
      expect(res.headers.get('content-type')).to.match(CONTENT_TYPE.html);
      const html = await res.text();
      expect(html).to.contain('<form').and.contain('action="/admin/task/typed/run"');
      expect(html).to.match(/class="field[^"]*has-error/);
      expect(decodeEntities(html)).to.contain('expected an integer, got "abc"');
      // The values the operator typed stay in the form.
      expect(html).to.match(/name="n"[^>]*value="abc"|value="abc"[^>]*name="n"/);
      expect(callsOf('typed')).to.equal(before);
    });

    it('reads an unchecked checkbox from our form as false', async () => {
      await get('/admin/task/typed/run?_checkboxes=1&n=1&format=json');
      expect(lastArgs('typed').loud).to.equal(false);
      await get('/admin/task/typed/run?n=1&format=json');
      expect(lastArgs('typed').loud).to.equal(true);
    });

    it('uses category as the run label, not as an argument', async () => {
      const result = await json('/admin/task/echo/run?category=nightly&x=1&format=json');
      expect(result.run).to.equal('nightly');
      expect(lastArgs('echo')).to.deep.equal({ x: '1' });
      const plain = await json('/admin/task/echo/run?format=json');
      expect(plain.run).to.equal('ad-hoc');
    });

    it('never passes the reserved keys to the task', async () => {
      for (const query of ['async=false', 'async=1', 'async=', 't=json', 'download=true', 'download=false', '_checkboxes=1', 'format=json', 'category=x']) {
        const res = await get(`/admin/task/echo/run?${query}&t=json&keep=yes`);
        expect(res.status, query).to.equal(200);
        expect(lastArgs('echo'), query).to.deep.equal({ keep: 'yes' });
        const result = (await res.json()) as { args: Args };
        expect(result.args, query).to.deep.equal({ keep: 'yes' });
      }
    });

    it('refuses a run label longer than 200 characters, and runs nothing', async () => {
      const before = callsOf('echo');
      const res = await get(`/admin/task/echo/run?format=json&category=${'x'.repeat(201)}`);
      expect(res.status).to.equal(400);
      expect(((await res.json()) as { message: string }).message).to.contain('parameter "category"');
      expect(callsOf('echo')).to.equal(before);
    });

    it('passes undeclared arguments through as strings, lists when repeated', async () => {
      await get('/admin/task/echo/run?a=1&b=x&b=y&empty=&format=json');
      expect(lastArgs('echo')).to.deep.equal({ a: '1', b: ['x', 'y'], empty: '' });
    });

    it('refuses undeclared arguments with 400 when the task has strictArgs, and runs nothing', async () => {
      const res = await get('/admin/task/strict/run?n=2&extra=1&format=json');
      expect(res.status).to.equal(400);
      const body = (await res.json()) as { message: string; invalid_params: { name: string }[] };
      expect(body.invalid_params.map((p) => p.name)).to.deep.equal(['extra']);
      expect(callsOf('strict')).to.equal(0);
      const ok = await get('/admin/task/strict/run?n=2&category=x&t=json');
      expect(ok.status).to.equal(200);
      expect(lastArgs('strict')).to.deep.equal({ n: 2 });
    });

    it('never lets __proto__ or constructor through, and never answers 500', async () => {
      for (const path of ['/admin/task/echo/run?__proto__=x&constructor=y&format=json', '/admin/task/echo?__proto__=x&constructor=y', '/admin/task?__proto__=x&constructor=y&format=json', '/admin/run?__proto__=x&constructor=y&format=json', '/admin/run?arg.__proto__=x&format=json']) {
        const res = await get(path);
        expect(res.status, path).to.be.oneOf([200, 400]);
        await res.arrayBuffer();
      }
      expect(({} as Record<string, unknown>).x).to.equal(undefined);
    });
  });

  describe('a task with a field named "format"', () => {
    it('gets ?format=tar as its argument, and t= picks the response format', async () => {
      const res = await get('/admin/task/backup/run?format=tar&t=json');
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(CONTENT_TYPE.json);
      const result = (await res.json()) as { args: Args; data: unknown };
      expect(result.args).to.deep.equal({ format: 'tar' });
      expect(result.data).to.deep.equal({ file: 'backup.tar' });
      expect(lastArgs('backup')).to.deep.equal({ format: 'tar' });
    });

    it('answers in the Accept header\'s format when t= is absent', async () => {
      const res = await get('/admin/task/backup/run?format=tar', { headers: { Accept: 'application/json' } });
      expect(res.headers.get('content-type')).to.match(CONTENT_TYPE.json);
      expect(((await res.json()) as { args: Args }).args).to.deep.equal({ format: 'tar' });
    });

    it('answers HTML when only the field is given, never switching the response format', async () => {
      const res = await get('/admin/task/backup/run?format=tar');
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(CONTENT_TYPE.html);
      await res.arrayBuffer();
      expect(lastArgs('backup')).to.deep.equal({ format: 'tar' });
    });

    it('treats ?format=json as the field value (refused by its choices), answered in the t= format', async () => {
      const before = callsOf('backup');
      const res = await get('/admin/task/backup/run?format=json&t=yaml');
      expect(res.status).to.equal(400);
      expect(res.headers.get('content-type')).to.match(CONTENT_TYPE.yaml);
      expect(String((parseBody('yaml', await res.text()) as { message: string }).message)).to.contain('field "format"');
      expect(callsOf('backup')).to.equal(before);
    });

    it('shows its page in the t= format and ignores ?format= there too', async () => {
      const res = await get('/admin/task/backup?format=xml&t=json');
      expect(res.headers.get('content-type')).to.match(CONTENT_TYPE.json);
      expect(((await res.json()) as { key: string }).key).to.equal('backup');
      const html = await get('/admin/task/backup?format=xml');
      expect(html.headers.get('content-type')).to.match(CONTENT_TYPE.html);
      await html.arrayBuffer();
    });

    it('runs a dangerous task over the HTTP API without a confirmation', async () => {
      const result = await json('/admin/task/backup/run?t=json');
      expect(result.status).to.equal('ok');
    });
  });

  describe('remove', () => {
    it('removes a dynamic task: its page is then 404, and history keeps its runs', async () => {
      t.kernel.registerTask({ key: 'temp', title: 'Temporary', run: () => 'tmp' });
      const run = await json('/admin/task/temp/run?format=json&category=before-removal');
      const res = await get('/admin/task/temp/remove?format=json');
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({ removed: 'temp' });
      expect((await get('/admin/task/temp')).status).to.equal(404);
      expect((await get('/admin/task/temp/run?format=json')).status).to.equal(404);
      expect((await get('/admin/task/temp/remove?format=json')).status).to.equal(404);
      const history = (await json('/admin/run?task=temp&format=json')) as { runs: { id: string; task: string }[] };
      expect(history.runs.map((r) => r.id)).to.deep.equal([run.id]);
      const detail = await get(`/admin/run/${String(run.id)}?format=json`);
      expect(detail.status).to.equal(200);
      const stored = (await detail.json()) as { task: { key: string; title: string }; run: string; logs: string[] };
      expect(stored.task).to.deep.equal({ key: 'temp', title: 'Temporary' });
      expect(stored.run).to.equal('before-removal');
      expect(stored.logs.at(-1)).to.match(/^task \[Temporary\] completed in/);
      const html = await get(`/admin/run/${String(run.id)}`);
      expect(html.status).to.equal(200);
      expect(await html.text()).to.contain('Temporary');
    });

    it('redirects the browser to the task list, which says what was removed', async () => {
      t.kernel.registerTask({ key: 'temp2', title: 'Second Temporary', run: () => 'tmp' });
      const res = await get('/admin/task/temp2/remove');
      expect(res.status).to.equal(302);
      const location = res.headers.get('location')!;
      expect(location).to.equal('/admin/task?removed=temp2');
      const list = await (await get(location)).text();
      expect(list).to.contain('temp2');
      expect(list).to.not.contain('Second Temporary');
    });
  });
});

describe('a sync run that outlasts the server\'s wait', () => {
  let t: TestKernel;
  let server: HttpServer;
  let url: string;
  let release: () => void = () => {};
  let started = 0;

  before(async () => {
    t = await bootKernel({ listen: false });
    t.kernel.registerTask({
      key: 'slow',
      title: 'Slow',
      run: ({ signal }) =>
        new Promise<string>((resolve) => {
          started += 1;
          release = () => resolve('done');
          signal.addEventListener('abort', () => resolve('aborted'), { once: true });
        }),
    });
    server = new HttpServer({ kernel: t.kernel, syncWaitMs: 100 });
    await server.listen(0, '127.0.0.1');
    const address = server.address() as { port: number };
    url = `http://127.0.0.1:${address.port}`;
  });
  after(async () => {
    release();
    await server.stop();
    await t.cleanup();
  });

  it('answers 202 with a link to the run, which goes on and completes', async () => {
    const res = await fetch(`${url}/admin/task/slow/run?format=json`);
    expect(res.status).to.equal(202);
    const body = (await res.json()) as { id: string; status: string; href: string };
    expect(body.status).to.equal('running');
    expect(body.href).to.equal(`/admin/run/${body.id}`);
    expect(started).to.equal(1);
    const running = (await (await fetch(`${url}${body.href}?format=json`)).json()) as { status: string };
    expect(running.status).to.equal('running');
    release();
    await eventually(async () => (await t.kernel.service.getStoredRun(body.id)).status === 'ok', 3000, 'the run to finish');
  });

  it('answers 202 in every data format', async () => {
    for (const format of ['csv', 'xml', 'yaml', 'debug'] as const) {
      const res = await fetch(`${url}/admin/task/slow/run?format=${format}`);
      expect(res.status, format).to.equal(202);
      expect(res.headers.get('content-type')).to.match(CONTENT_TYPE[format]);
      const body = parseBody(format, await res.text());
      const data = (format === 'csv' ? (body as unknown[])[0] : body) as { id: string; href: string };
      expect(data.href).to.equal(`/admin/run/${data.id}`);
      release();
    }
  });

  it('keeps a run going and records it when the client hangs up mid-request', async () => {
    const abort = new AbortController();
    const pending = fetch(`${url}/admin/task/slow/run?format=json&category=hung-up`, { signal: abort.signal }).catch((error: unknown) => error);
    await eventually(() => t.kernel.service.activeRuns().some((r) => r.label === 'hung-up'), 2000, 'the run to start');
    abort.abort();
    expect(await pending).to.be.instanceOf(Error);
    const live = t.kernel.service.activeRuns().find((r) => r.label === 'hung-up')!;
    release();
    expect((await live.done).status).to.equal('ok');
    expect((await t.kernel.service.getStoredRun(live.id)).status).to.equal('ok');
    expect((await fetch(`${url}/admin/task?format=json`)).status).to.equal(200);
  });

  it('sends a browser to the run page with 303', async () => {
    const res = await fetch(`${url}/admin/task/slow/run`, { redirect: 'manual' });
    expect(res.status).to.equal(303);
    expect(res.headers.get('location')).to.match(/^\/admin\/run\/[0-9a-f-]{36}$/);
    release();
  });
});

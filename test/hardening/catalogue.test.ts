/**
 * The catalogue of hostile inputs (../shared/spec/hostile-inputs.md), one `it` per row, named after
 * its number, each through the real parts: a listening kernel, real HTTP and WebSocket clients, SQLite,
 * plugin files on disk, and a child process where a task kills its process.
 *
 * "No run" is checked the way the catalogue defines it: no row in the history and no call of the task
 * function (a counter in every task). Where a row offered a choice, the choice made in
 * docs/decisions.md is what is tested; choices made here are in the report of this suite's author and
 * in the test names.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import pino from 'pino';
import { parse as parseYaml } from 'yaml';
import { HttpServer } from '../../core/http/http-server.js';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { openSocket } from '../helpers/ws-client.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { expectWellFormedXml } from '../http/formats/fixtures.js';
import { CONTENT_TYPE, FORMATS, csvObjects, decodeEntities, errorMessage, eventually, parseBody, rawRequest, withFormat, type RawResponse } from '../http/http-client.js';
import { newLoader, PluginFolder } from '../plugins/plugin-fixtures.js';
import { CallCounter, countRuns, expectNoRun, logSink, rawUpgrade } from './helpers/probe.js';

type Json = Record<string, any>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A plugin task that spins in a worker thread until its time is up (row 38). */
const SPIN_PLUGIN = `
export default {
  key: 'spin',
  isolate: 'worker',
  workerGraceMs: 200,
  fields: [{ key: 'ms', type: 'int', default: 3000 }],
  run({ args }) {
    const end = Date.now() + Number(args.ms);
    let turns = 0;
    while (Date.now() < end) turns++;
    return { turns: turns > 0 };
  },
};
`;

describe('hostile-inputs catalogue, row by row', function () {
  this.timeout(30_000);
  let t: TestKernel;
  let url: string;
  let ws: string;
  const calls = new CallCounter();
  const sink = logSink();
  /** Set when the `never` task saw its signal fire. */
  const aborted = new Set<string>();

  before(async () => {
    t = await bootKernel({
      listen: true,
      logger: pino({ level: 'warn' }, { write: sink.write }),
      plugins: {
        'owned.ts': "export default { key: 'owned', title: 'Owned By A File', run: () => 'mine' };\n",
        'spin.mjs': SPIN_PLUGIN,
      },
    });
    url = t.kernel.url;
    ws = url.replace(/^http/, 'ws');
    const k = t.kernel;
    k.registerTask({
      key: 'spy',
      title: 'Spy',
      fields: [
        { key: 'count', type: 'int', default: 1 },
        { key: 'ratio', type: 'float' },
        { key: 'loud', type: 'bool' },
        { key: 'names', type: '[]string' },
        { key: 'text', type: 'string' },
        { key: 'colour', choices: ['red', 'green', 'blue'], default: 'red' },
      ],
      run: ({ args }) => {
        calls.hit('spy');
        return { args };
      },
    });
    k.registerTask({
      key: 'needs',
      fields: [
        { key: 'who', required: true },
        { key: 'n', type: 'int', default: 5 },
      ],
      run: ({ args }) => (calls.hit('needs'), args),
    });
    k.registerTask({ key: 'strict', strictArgs: true, fields: [{ key: 'n', type: 'int', default: 0 }], run: ({ args }) => (calls.hit('strict'), args) });
    k.registerTask({
      key: 'backup',
      fields: [{ key: 'format', default: 'sql', choices: ['sql', 'tar'] }],
      run: ({ args }) => (calls.hit('backup'), { file: `backup.${String(args.format)}` }),
    });
    k.registerTask({
      key: 'lines',
      title: 'Lines',
      fields: [
        { key: 'n', type: 'int', default: 10 },
        { key: 'delay', type: 'int', default: 0 },
      ],
      run: async ({ args, log, signal }) => {
        calls.hit('lines');
        for (let i = 1; i <= Number(args.n) && !signal.aborted; i++) {
          log(`line ${i}`);
          if (Number(args.delay) > 0) await sleep(Number(args.delay));
        }
        return { n: args.n };
      },
    });
    k.registerTask({
      key: 'flood',
      fields: [
        { key: 'n', type: 'int', default: 1000 },
        { key: 'width', type: 'int', default: 10 },
      ],
      run: async ({ args, log }) => {
        calls.hit('flood');
        const pad = 'x'.repeat(Number(args.width));
        for (let i = 1; i <= Number(args.n); i++) {
          log(`${i} ${pad}`);
          if (i % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
        }
        return { n: args.n };
      },
    });
    k.registerTask({
      key: 'wait',
      fields: [{ key: 'ms', type: 'int', default: 300 }],
      run: async ({ args, log }) => {
        calls.hit('wait');
        log('waiting');
        await sleep(Number(args.ms));
        log('waited');
        return 'waited';
      },
    });
    k.registerTask({
      key: 'throws-sync',
      title: 'Throws',
      run: () => {
        calls.hit('throws-sync');
        throw new Error('thrown synchronously');
      },
    });
    const cyclic: Json = { name: 'cyclic' };
    cyclic.self = cyclic;
    for (const [key, thrown] of [
      ['rejects-string', 'x'],
      ['rejects-undefined', undefined],
      ['rejects-object', {}],
      ['rejects-cyclic', cyclic],
      ['rejects-null', null],
      ['rejects-symbol', Symbol('sym')],
    ] as const) {
      k.registerTask({ key, run: () => (calls.hit(key), Promise.reject(thrown)) });
    }
    k.registerTask({ key: 'block', fields: [{ key: 'ms', type: 'int', default: 400 }], run: ({ args }) => {
      calls.hit('block');
      const end = Date.now() + Number(args.ms);
      while (Date.now() < end);
      return 'blocked';
    } });
    k.registerTask({
      key: 'never',
      timeout: 1500,
      run: ({ signal, runId }) => {
        calls.hit('never');
        signal.addEventListener('abort', () => aborted.add(runId), { once: true });
        return new Promise(() => undefined);
      },
    });
  });
  after(() => t.cleanup());

  const get = (p: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> => rawRequest(url, p, { method, headers });
  const json = async (p: string): Promise<Json> => {
    const res = await get(p);
    expect(res.headers['content-type'], p).to.match(CONTENT_TYPE.json);
    return JSON.parse(res.body) as Json;
  };
  const noRun = <T>(action: () => Promise<T>, what?: string): Promise<T> => expectNoRun(t, calls, action, what);
  /** The args the spy saw (the Result echoes them as its data) for a query, in JSON. */
  const spyArgs = async (query: string): Promise<Json> => {
    const res = await get(`/admin/task/spy/run?t=json&${query}`);
    expect(res.status, query).to.equal(200);
    return (JSON.parse(res.body) as Json).data.args as Json;
  };
  const spyRefuses = async (query: string, reason: RegExp | string, name = 'count'): Promise<void> => {
    const res = await noRun(() => get(`/admin/task/spy/run?t=json&${query}`), query);
    expect(res.status, query).to.equal(400);
    const body = JSON.parse(res.body) as Json;
    expect(body.code, query).to.equal('ERR_INVALID_ARG');
    const param = (body.invalid_params as { name: string; reason: string }[]).find((p) => p.name === name);
    expect(param, `${query}: invalid_params names "${name}"`).to.not.equal(undefined);
    if (typeof reason === 'string') expect(param!.reason, query).to.equal(reason);
    else expect(param!.reason, query).to.match(reason);
  };

  // ---------------------------------------------------------------------------------------------
  describe('4.1 Routing and keys', () => {
    it('#1 unknown key on /run, /start, /remove and the detail page: 404 {task:"nope"} in every format, no run', async () => {
      await noRun(async () => {
        for (const suffix of ['', '/run', '/run?async=true', '/start', '/remove']) {
          for (const format of FORMATS) {
            const res = await get(withFormat(`/admin/task/nope${suffix}`, format));
            expect(res.status, `${suffix} ${format}`).to.equal(404);
            expect(res.headers['content-type']).to.match(CONTENT_TYPE[format]);
            expect(errorMessage(format, res.body)).to.equal('no task found with key "nope"');
            if (format === 'json') expect(JSON.parse(res.body)).to.deep.equal({ status: 404, code: 'ERR_TASK_NOT_FOUND', message: 'no task found with key "nope"', task: 'nope' });
          }
        }
      });
    });

    it('#2 traversal-looking keys (..%2F..%2Fetc, %2e%2e, a\\b, a/b, %00): 404 by the key rule; the file system is never read', async () => {
      await noRun(async () => {
        for (const key of ['..%2F..%2Fetc', '..%2f..%2fetc%2fpasswd', '%2e%2e', '%2E%2E%2F', 'a%5Cb', 'a\\b', 'a/b', '%00', 'spy%00', '.', '..']) {
          for (const suffix of ['', '/run', '/start', '/remove']) {
            const res = await get(`/admin/task/${key}${suffix}?format=json`);
            expect(res.status, `${key}${suffix}`).to.equal(404);
          }
        }
        // The static files are a fixed map read at start-up: a traversal there is a 404, never a file.
        for (const p of ['/admin/static/..%2f..%2fpackage.json', '/admin/static/%2e%2e/%2e%2e/package.json', '/admin/static/../../package.json', '/admin/static/taskdeck.css%00.js']) {
          const res = await get(p);
          expect(res.status, p).to.equal(404);
          expect(res.body, p).to.not.contain('"dependencies"');
        }
      });
    });

    it('#3 malformed escapes /admin/task/%E0%A4%A/run and /admin/task/%/run: 400 "malformed URL encoding", not 500', async () => {
      await noRun(async () => {
        for (const p of ['/admin/task/%E0%A4%A/run', '/admin/task/%/run', '/admin/task/spy%/run', '/admin/run/%zz']) {
          const html = await get(p);
          expect(html.status, p).to.equal(400);
          expect(errorMessage('html', html.body)).to.equal('malformed URL encoding in the path');
          const asJson = await get(`${p}?format=json`);
          expect(JSON.parse(asJson.body)).to.include({ status: 400, message: 'malformed URL encoding in the path' });
        }
      });
    });

    it('#4 a 10 KB key: 404 by the key rule, echoing at most 200 characters of it', async () => {
      const key = 'k'.repeat(10 * 1024);
      await noRun(async () => {
        for (const suffix of ['', '/run', '/start', '/remove']) {
          const res = await get(`/admin/task/${key}${suffix}?format=json`);
          expect(res.status).to.equal(404);
          expect(JSON.parse(res.body).task).to.equal(`${'k'.repeat(200)}…`);
          expect(res.body).to.not.match(/k{201}/);
          const html = await get(`/admin/task/${key}${suffix}`);
          expect(html.body).to.not.match(/k{201}/);
        }
      });
    });

    it('#6 ?format=pdf / JSON / json&format=xml / t=yaml&format=json: t wins, the first value counts, unknown is 400 before any task runs', async () => {
      await noRun(async () => {
        for (const q of ['format=pdf', 'format=JSON', 'format=toml', 't=print', 't=pdf&format=json', 'format=pdf&format=json']) {
          const res = await get(`/admin/task/spy/run?${q}`);
          expect(res.status, q).to.equal(400);
          expect(errorMessage('html', res.body), q).to.match(/^parameter "(t|format)": expected one of html, json, csv, xml, yaml, debug, got "/);
        }
      }, 'unknown formats');
      const before = calls.of('spy');
      const first = await get('/admin/task/spy/run?format=json&format=xml');
      expect(first.headers['content-type']).to.match(CONTENT_TYPE.json);
      const tWins = await get('/admin/task/spy/run?t=yaml&format=json');
      expect(tWins.headers['content-type']).to.match(CONTENT_TYPE.yaml);
      expect((parseYaml(tWins.body) as Json).status).to.equal('ok');
      expect(calls.of('spy') - before, 'one run per valid request').to.equal(2);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('4.2 Arguments', () => {
    it('#7 int field count=abc: 400 invalid_params [{name:"count", reason}], no run', async () => {
      const res = await noRun(() => get('/admin/task/spy/run?count=abc&format=json'));
      expect(res.status).to.equal(400);
      const body = JSON.parse(res.body) as Json;
      expect(body).to.deep.include({ status: 400, code: 'ERR_INVALID_ARG', task: 'spy', invalid_params: [{ name: 'count', reason: 'expected an integer, got "abc"' }] });
    });

    it('#8 int edge values: "", " 12 ", 0x10, 1e3, 12abc, 4.0, 1_000 and 2^63 are 400; +42, -7 and 007 are read', async () => {
      for (const text of ['', ' 12 ', '0x10', '1e3', '12abc', '4.0', '1_000', '9223372036854775808', '9007199254740992', '٣', '１２']) {
        await spyRefuses(`count=${encodeURIComponent(text)}`, /^expected an integer|^expected an integer between/);
      }
      expect((await spyArgs('count=%2B42')).count).to.equal(42);
      expect((await spyArgs('count=-7')).count).to.equal(-7);
      expect((await spyArgs('count=007')).count).to.equal(7);
      expect((await spyArgs('count=9007199254740991')).count).to.equal(Number.MAX_SAFE_INTEGER);
    });

    it('#9 float NaN, inf: 400; 1e39 and 0.1 kept at full double precision (never float32)', async () => {
      for (const text of ['NaN', 'nan', 'inf', '-inf', 'Infinity', '1e400', '0x1p3', '']) await spyRefuses(`ratio=${encodeURIComponent(text)}`, /^expected a finite number/, 'ratio');
      expect((await spyArgs('ratio=1e39')).ratio).to.equal(1e39);
      const res = await get('/admin/task/spy/run?t=json&ratio=0.1');
      // The JSON text carries 0.1 exactly, not 0.10000000149011612.
      expect(res.body).to.match(/"ratio": ?0\.1\b/).and.not.contain('0.1000000');
      const id = (JSON.parse(res.body) as Json).id as string;
      expect((await t.kernel.service.getStoredRun(id)).args.ratio).to.equal(0.1);
    });

    it('#10 bool True, 1, on, yes are true (any case, decision); false words are false; a repeated bool is 400', async () => {
      for (const word of ['true', 'True', 'TRUE', '1', 'on', 'ON', 'yes', 'Yes']) expect((await spyArgs(`loud=${word}`)).loud, word).to.equal(true);
      for (const word of ['false', 'False', '0', 'off', 'no', 'NO']) expect((await spyArgs(`loud=${word}`)).loud, word).to.equal(false);
      await spyRefuses('loud=true&loud=false', 'expected a single value, got 2 values', 'loud');
      await spyRefuses('loud=maybe', /^expected .*true.*got "maybe"$/, 'loud');
      await spyRefuses('loud=%20true', /got " true"$/, 'loud');
      // The form says so: the checkbox is how a browser sends it.
      const form = (await get('/admin/task/spy')).body;
      expect(form).to.match(/type="checkbox"[^>]*name="loud"|name="loud"[^>]*type="checkbox"/);
    });

    it('#11 a missing required field is 400 naming it; a declared default is applied', async () => {
      const res = await noRun(() => get('/admin/task/needs/run?format=json'));
      expect(res.status).to.equal(400);
      expect(JSON.parse(res.body).invalid_params).to.deep.equal([{ name: 'who', reason: 'is required' }]);
      const blank = await noRun(() => get('/admin/task/needs/run?format=json&who='));
      expect(blank.status, 'a blank required value').to.equal(400);
      const ok = await json('/admin/task/needs/run?format=json&who=me');
      expect(ok.args).to.deep.equal({ who: 'me', n: 5 });
    });

    it('#12 an unknown arg ?foo=1 passes through as a string (decision); strictArgs refuses it with 400', async () => {
      expect(await spyArgs('foo=1&bar=x&bar=y')).to.deep.include({ foo: '1', bar: ['x', 'y'] });
      const res = await noRun(() => get('/admin/task/strict/run?format=json&foo=1'));
      expect(res.status).to.equal(400);
      expect(JSON.parse(res.body).invalid_params).to.deep.equal([{ name: 'foo', reason: 'is not a field of this task' }]);
    });

    it('#13 a repeated scalar ?count=1&count=2 is 400 "single value"; a list field keeps the order given', async () => {
      await spyRefuses('count=1&count=2', 'expected a single value, got 2 values');
      await spyRefuses('text=a&text=b', 'expected a single value, got 2 values', 'text');
      expect((await spyArgs('names=zeta&names=alpha&names=mid')).names).to.deep.equal(['zeta', 'alpha', 'mid']);
    });

    it('#14 1,001 parameters: 400 "too many parameters" (Node would drop #1001+ silently), no run', async () => {
      const params = (n: number) => Array.from({ length: n }, (_, i) => `p${i}=1`).join('&');
      // Too many to read ?format= from: the error answers in the Accept header's format.
      const res = await noRun(() => get(`/admin/task/spy/run?format=json&${params(1000)}`, { Accept: 'application/json' }));
      expect(res.status).to.equal(400);
      expect(JSON.parse(res.body).message).to.equal('too many parameters: at most 1000, got 1001');
      const fits = await get(`/admin/task/spy/run?t=json&${params(999)}`);
      expect(fits.status, '1000 parameters are fine').to.equal(200);
    });

    it('#15 a 20 KB query string: 431 from Node before any app code, no run', async () => {
      const res = await noRun(() => get(`/admin/task/spy/run?text=${'y'.repeat(20 * 1024)}`));
      expect(res.status).to.equal(431);
      expect(res.body).to.equal('');
      expect((await get('/admin/task?format=json')).status, 'still serving').to.equal(200);
    });

    it('#17 NUL, C0, ESC and a lone surrogate are 400 per field; C1, bidi and zero-width are stored verbatim, escaped everywhere, marked in the UI', async () => {
      for (const encoded of ['%00', '%01', '%07', '%1B%5B31mred', '%1F', '%0B', '%0C']) {
        await spyRefuses(`text=a${encoded}b`, /has a control character \(U\+00[0-9A-F]{2}\) at index 1; only tab, line feed and carriage return are allowed$/, 'text');
      }
      // A lone surrogate cannot even be percent-encoded as UTF-8: %ED%A0%80 is malformed.
      const surrogate = await noRun(() => get('/admin/task/spy/run?format=json&text=%ED%A0%80', { Accept: 'application/json' }));
      expect(surrogate.status).to.equal(400);
      expect(JSON.parse(surrogate.body).message).to.match(/^malformed URL encoding in the query string/);
      // From code, a lone surrogate is refused the same way (SQLite would store U+FFFD).
      await noRun(async () => {
        try {
          await t.kernel.service.run('spy', { text: 'a\uD800b' });
          expect.fail('a lone surrogate from code should be refused');
        } catch (error) {
          expect((error as Error).message).to.contain('lone surrogate');
        }
      });
      // Tab, CR, LF, C1, bidi override and zero-width: kept as typed.
      const kept = 'tab\t cr\r lf\n c1\u0085\u009b bidi\u202Egnp.exe zw\u200b\u200d\ufeff end';
      const res = await get(`/admin/task/spy/run?t=json&text=${encodeURIComponent(kept)}`);
      const result = JSON.parse(res.body) as Json;
      expect(result.args.text).to.equal(kept);
      expect((await t.kernel.service.getStoredRun(result.id as string)).args.text).to.equal(kept);
      for (const format of ['json', 'yaml', 'csv', 'xml', 'debug'] as const) {
        const out = await get(withFormat(`/admin/run/${result.id as string}`, format));
        expect(out.status, format).to.equal(200);
        const parsed = parseBody(format, out.body) as Json | Json[];
        const record = (Array.isArray(parsed) ? parsed[0] : parsed) as Json;
        const args = format === 'csv' ? (JSON.parse(record.args as string) as Json) : (record.args as Json);
        // XML 1.0 carries every one of these characters (C1 and bidi are legal there); CR survives as &#13;.
        expect(args.text, format).to.equal(kept);
      }
      const html = (await get(`/admin/run/${result.id as string}`)).body;
      expect(html).to.contain('U+202E').and.contain('U+200B').and.contain('class="invisible-char"');
      // Only the copy-as-command attribute carries the raw characters (it must reproduce the value); no visible text does.
      expect(html.replace(/="[^"]*"/g, '=""')).to.not.contain('\u202E').and.not.contain('\u200B');
    });

    it('#18 emoji, astral and RTL text and a 1 MB value round-trip byte-identically through SQLite, JSON, YAML and CSV; XML and HTML escape', async () => {
      const text = 'emoji 😀👩‍👩‍👧 astral 𝄞𝕏 RTL שלום مرحبا <b>&amp;</b> "q" \'s\'';
      const viaHttp = JSON.parse((await get(`/admin/task/spy/run?t=json&text=${encodeURIComponent(text)}`)).body) as Json;
      expect(viaHttp.args.text).to.equal(text);
      // A 1 MB value cannot come in a query string (431, row 15): it comes from code.
      const big = `${'é😀'.repeat(1024 * 1024 / 6)}<end>`;
      const fromCode = await t.kernel.service.run('spy', { text: big });
      for (const [id, value] of [[viaHttp.id as string, text], [fromCode.id, big]] as const) {
        expect((await t.kernel.service.getStoredRun(id)).args.text, 'SQLite').to.equal(value);
        expect((JSON.parse((await get(`/admin/run/${id}?format=json`)).body) as Json).args.text, 'JSON').to.equal(value);
        expect((parseYaml((await get(`/admin/run/${id}?format=yaml`)).body) as Json).args.text, 'YAML').to.equal(value);
        const csv = csvObjects((await get(`/admin/run/${id}?format=csv`)).body)[0]!;
        expect((JSON.parse(csv.args!) as Json).text, 'CSV').to.equal(value);
        const xml = (await get(`/admin/run/${id}?format=xml`)).body;
        expectWellFormedXml(xml);
        expect((parseBody('xml', xml) as Json).args.text, 'XML').to.equal(value);
        const html = (await get(`/admin/run/${id}`)).body;
        expect(html).to.not.contain('<b>&amp;</b>');
      }
      // The page shows the text (a zero-width joiner inside the family emoji gets its visible marker).
      const page = (await get(`/admin/run/${viaHttp.id as string}`)).body;
      expect(page).to.contain('astral 𝄞𝕏 RTL שלום مرحبا').and.contain('&lt;b&gt;&amp;amp;&lt;/b&gt;');
      expect(page).to.contain('emoji 😀👩<abbr class="invisible-char" title="hidden character U+200D">U+200D</abbr>👩');
    });

    it('#19 a value outside the choices: 400 listing the allowed values, no run', async () => {
      await spyRefuses('colour=purple', 'expected one of "red", "green", "blue", got "purple"', 'colour');
      await spyRefuses('colour=RED', /expected one of "red", "green", "blue", got "RED"/, 'colour');
    });

    it('#20 a task field named format: ?format=tar is the field, the response format comes from t= or Accept; no silent switch', async () => {
      const before = calls.of('backup');
      const tar = await get('/admin/task/backup/run?format=tar&t=json');
      expect(tar.headers['content-type']).to.match(CONTENT_TYPE.json);
      expect(JSON.parse(tar.body).data).to.deep.equal({ file: 'backup.tar' });
      const html = await get('/admin/task/backup/run?format=tar');
      expect(html.headers['content-type'], 'format=tar never switches the response').to.match(CONTENT_TYPE.html);
      const accept = await get('/admin/task/backup/run?format=sql', { Accept: 'application/yaml' });
      expect((parseYaml(accept.body) as Json).data).to.deep.equal({ file: 'backup.sql' });
      const refused = await noRun(() => get('/admin/task/backup/run?format=json'));
      expect(refused.status, '?format=json is the field value, refused by its choices').to.equal(400);
      expect(calls.of('backup') - before).to.equal(3);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('4.3 HTTP, browser and WebSocket', () => {
    const guarded = (): [string, string][] => [
      ['run', '/admin/task/spy/run?count=2'],
      ['the live page', '/admin/task/spy/run?async=true'],
      ['start', '/admin/task/spy/start'],
      ['remove', '/admin/task/spy/remove'],
    ];

    it('#21 HEAD /admin/task/x/run (and start, remove, the live page): 405, no run', async () => {
      await noRun(async () => {
        for (const [name, p] of guarded()) {
          const res = await get(p, {}, 'HEAD');
          expect(res.status, name).to.equal(405);
          expect(res.headers.allow, name).to.contain('GET');
        }
      });
      expect(t.kernel.registry.has('spy')).to.equal(true);
    });

    it('#22 POST, PUT, DELETE and PATCH to the GET routes: 405 with Allow: GET, no run', async () => {
      await noRun(async () => {
        for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
          for (const [name, p] of guarded()) {
            const res = await get(p, { 'Content-Type': 'application/x-www-form-urlencoded' }, method);
            expect(res.status, `${method} ${name}`).to.equal(405);
            expect(res.headers.allow, `${method} ${name}`).to.match(/\bGET\b/);
          }
        }
      });
      expect(t.kernel.registry.has('spy')).to.equal(true);
    });

    it('#23 Sec-Purpose: prefetch, Purpose: prefetch and prerender on run, start and remove: 503 Cache-Control: no-store, no run', async () => {
      await noRun(async () => {
        const hints: Record<string, string>[] = [{ 'Sec-Purpose': 'prefetch' }, { Purpose: 'prefetch' }, { 'Sec-Purpose': 'prefetch;prerender' }, { 'X-Moz': 'prefetch' }, { Purpose: 'preview' }];
        for (const headers of hints) {
          for (const [name, p] of guarded()) {
            const res = await get(p, headers);
            expect(res.status, `${JSON.stringify(headers)} ${name}`).to.equal(503);
            expect(res.headers['cache-control'], name).to.equal('no-store');
          }
        }
      });
      expect(t.kernel.registry.has('spy')).to.equal(true);
    });

    it('#24 Sec-Fetch-Site: cross-site or same-site on run, start and remove: 403, no run', async () => {
      await noRun(async () => {
        for (const site of ['cross-site', 'same-site', 'Cross-Site', 'bogus']) {
          for (const [name, p] of guarded()) {
            const res = await get(p, { 'Sec-Fetch-Site': site, 'Sec-Fetch-Dest': 'document', 'Sec-Fetch-Mode': 'navigate' });
            expect(res.status, `${site} ${name}`).to.equal(403);
          }
        }
      });
      expect(t.kernel.registry.has('spy')).to.equal(true);
    });

    it('#25 Sec-Fetch-Dest: image, script, iframe (also same-origin): 403, no run', async () => {
      await noRun(async () => {
        for (const dest of ['image', 'script', 'iframe', 'frame', 'object', 'embed', 'style', 'audio', 'video', 'worker', 'report']) {
          for (const [name, p] of guarded()) {
            const res = await get(p, { 'Sec-Fetch-Site': 'same-origin', 'Sec-Fetch-Dest': dest });
            expect(res.status, `${dest} ${name}`).to.equal(403);
          }
        }
      });
    });

    it('#26 Host: evil.example (DNS rebinding) on every route and on the WebSocket upgrade: 421 before anything happens', async () => {
      const finished = (await t.kernel.service.run('lines', { n: 1 })).id;
      await noRun(async () => {
        for (const p of ['/', '/admin', '/admin/task', '/admin/task/spy', '/admin/task/spy/run', '/admin/task/spy/stats', '/admin/run', `/admin/run/${finished}`, '/admin/static/taskdeck.js', '/nope']) {
          for (const host of ['evil.example', 'evil.example:80', `127.0.0.1.evil.example:${new URL(url).port}`, 'localhost.evil.example']) {
            const res = await get(p, { Host: host });
            expect(res.status, `${host} ${p}`).to.equal(421);
          }
        }
        for (const p of ['/admin/task/spy/start', `/admin/run/${finished}/watch`]) {
          // With an Origin matching the forged Host (what a rebinding page sends), and with our own.
          for (const origin of ['http://evil.example', url]) {
            const res = await rawUpgrade(url, p, { Host: 'evil.example', Origin: origin });
            expect(res.status, `${p} Origin ${origin}`).to.equal(421);
          }
        }
      });
    });

    it.skip('#27 a valid cookie but no Fetch Metadata and no Bearer: 403 on mutating routes (covered in test/auth/token-http.test.ts "a cookie replayed without Fetch Metadata (row 27)" and test/auth/token-websocket.test.ts)');

    it('#28 GET /start without Upgrade: websocket: 426, no run', async () => {
      await noRun(async () => {
        for (const format of FORMATS) {
          const res = await get(withFormat('/admin/task/spy/start', format));
          expect(res.status, format).to.equal(426);
          expect(res.headers.upgrade).to.equal('websocket');
        }
      });
    });

    it('#29 a WebSocket upgrade with Origin: https://evil.example, a same-site port, or no Origin: 403 before 101, no run', async () => {
      const host = new URL(url).host;
      await noRun(async () => {
        for (const origin of ['https://evil.example', 'null', `http://127.0.0.1:${Number(new URL(url).port) + 1}`, `https://${host}x`, 'file://', undefined]) {
          const headers: Record<string, string> = { Host: host };
          if (origin !== undefined) headers.Origin = origin;
          const res = await rawUpgrade(url, '/admin/task/spy/start', headers);
          expect(res.status, `Origin ${String(origin)}`).to.equal(403);
          expect(JSON.parse(res.body)).to.include({ status: 403, code: 'ERR_FORBIDDEN' });
        }
        // The state-change guards apply to the upgrade too.
        const crossSite = await rawUpgrade(url, '/admin/task/spy/start', { Host: host, Origin: url, 'Sec-Fetch-Site': 'cross-site' });
        expect(crossSite.status).to.equal(403);
      });
      // Our own origin is accepted (so the refusals above are about the Origin).
      const accepted = await openSocket(`${ws}/admin/task/lines/start?n=1`);
      expect(await accepted.closed).to.equal(1000);
    });

    it('#30 a WebSocket client sending a 50 MB frame (1009), invalid UTF-8 (1007) or a binary frame (1003) is closed; the server stays up and the run is unaffected', async function () {
      this.timeout(60_000);
      const cases: [string, (s: Awaited<ReturnType<typeof openSocket>>) => void, number][] = [
        ['a 50 MB frame', (s) => s.ws.send(Buffer.alloc(50 * 1024 * 1024, 0x61), { binary: false }), 1009],
        ['invalid UTF-8', (s) => s.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0xc0, 0xaf, 0x7d]), { binary: false }), 1007],
        ['a binary frame', (s) => s.ws.send(Buffer.from([1, 2, 3])), 1003],
      ];
      for (const [name, send, code] of cases) {
        const s = await openSocket(`${ws}/admin/task/lines/start?n=20&delay=15`);
        s.ws.on('error', () => undefined);
        await s.waitFor('started');
        const id = s.messages[0]!.param.id as string;
        send(s);
        expect(await s.closed, name).to.equal(code);
        const live = t.kernel.service.activeRun(id);
        const result = live ? await live.done : await t.kernel.service.getStoredRun(id);
        expect(result.status, `${name}: the run goes on`).to.equal('ok');
        expect(await t.kernel.service.getLogs(id), name).to.have.length(21);
      }
      expect((await get('/admin/task?format=json')).status).to.equal(200);
    });

    it('#31 a WebSocket client that stops reading: nothing more is queued for it past a small queue, the run completes and is fully persisted, and reading again it gets every line once, in order, then complete (one that answers no ping is terminated: test/live/slow-clients.test.ts)', async function () {
      this.timeout(60_000);
      // 8,000 lines of 3 KB: 24 MB, more than the socket buffers and the run's shared chunks (16 MiB) hold.
      const slow = await openSocket(`${ws}/admin/task/flood/start?n=8000&width=3000`);
      const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      socket.pause();
      slow.ws.on('error', () => undefined);
      const id = await eventually(() => t.kernel.service.activeRuns().some((r) => r.task.key === 'flood'), 5000, 'the flood run').then(() => t.kernel.service.activeRuns().find((r) => r.task.key === 'flood')!.id);
      const live = t.kernel.service.activeRun(id);
      const result = live ? await live.done : await t.kernel.service.getStoredRun(id);
      expect(result.status).to.equal('ok');
      expect(await t.kernel.service.getLogs(id), 'every line persisted').to.have.length(8001);
      socket.resume();
      expect(await slow.closed, 'closed politely once it has read everything').to.equal(1000);
      const outputs = slow.messages.filter((m) => m.cmd === 'output');
      expect(outputs.map((m) => m.param.seq as number)).to.deep.equal(Array.from({ length: 8001 }, (_, i) => i + 1));
      expect(slow.messages.slice(-2).map((m) => m.cmd)).to.deep.equal(['complete', 'close-connection']);
    });

    it('#32 a WebSocket client disconnecting mid-run: the run completes, nothing re-runs, re-attaching replays from the database then live', async () => {
      const before = calls.of('lines');
      const first = await openSocket(`${ws}/admin/task/lines/start?n=40&delay=10`);
      await eventually(() => first.messages.filter((m) => m.cmd === 'output').length >= 5, 5000, 'five lines');
      first.ws.terminate();
      const id = first.messages[0]!.param.id as string;
      const last = Math.max(...first.messages.filter((m) => m.cmd === 'output').map((m) => m.param.seq as number));
      const again = await openSocket(`${ws}/admin/run/${id}/watch?after=${last}`);
      await again.closed;
      const seqs = again.messages.filter((m) => m.cmd === 'output').map((m) => m.param.seq as number);
      expect(seqs).to.deep.equal(Array.from({ length: 41 - last }, (_, i) => last + 1 + i));
      expect(again.messages.at(-2)!.cmd).to.equal('complete');
      expect((await t.kernel.service.getStoredRun(id)).status).to.equal('ok');
      expect(calls.of('lines') - before, 'the task ran once').to.equal(1);
    });

    it('#33 an HTTP client aborting a long sync /run: the run goes on and is recorded; no write-after-end crash', async () => {
      const errors: unknown[] = [];
      const onError = (error: unknown) => errors.push(error);
      process.on('uncaughtException', onError);
      try {
        for (const format of ['json', 'html', 'csv'] as const) {
          const abort = new AbortController();
          const label = `aborted-${format}`;
          const pending = fetch(`${url}${withFormat(`/admin/task/wait/run?ms=300&category=${label}`, format)}`, { signal: abort.signal }).catch((error: unknown) => error);
          await eventually(() => t.kernel.service.activeRuns().some((r) => r.label === label), 3000, 'the run');
          abort.abort();
          expect(await pending).to.be.instanceOf(Error);
          const live = t.kernel.service.activeRuns().find((r) => r.label === label)!;
          expect((await live.done).status).to.equal('ok');
          const stored = await t.kernel.service.getStoredRun(live.id);
          expect(stored).to.include({ status: 'ok', label, origin: 'http' });
          expect((await t.kernel.service.getLogs(live.id)).map((l) => l.msg).slice(0, 2)).to.deep.equal(['waiting', 'waited']);
        }
        await sleep(50);
        expect(errors).to.deep.equal([]);
        expect((await get('/admin/task?format=json')).status).to.equal(200);
      } finally {
        process.off('uncaughtException', onError);
      }
    });

    it.skip('#34 an expired, forged or other-instance session, or a token in the URL: 401 (covered in test/auth/token-http.test.ts "sessions that are not (or no longer) valid (row 34)" and "a token in the URL (row 34)")');
  });

  // ---------------------------------------------------------------------------------------------
  describe('4.4 Task behaviour', () => {
    it('#35 a task that throws synchronously: 200 with status "error" (decision) in every format; message and stack stored, the stack never sent', async () => {
      let id = '';
      for (const format of FORMATS) {
        const res = await get(withFormat('/admin/task/throws-sync/run', format));
        expect(res.status, format).to.equal(200);
        expect(res.body, `${format}: no stack over HTTP`).to.not.contain('catalogue.test.ts').and.not.match(/\n\s+at /);
        if (format === 'html') {
          expect(res.body).to.contain('data-status="error"').and.contain('thrown synchronously');
          continue;
        }
        const parsed = parseBody(format, res.body) as Json | Json[];
        const record = (Array.isArray(parsed) ? parsed[0] : parsed) as Json;
        expect(record.status, format).to.equal('error');
        expect(record.error, format).to.equal('thrown synchronously');
        id = record.id as string;
      }
      const stored = await t.kernel.service.getStoredRun(id);
      expect(stored.error).to.equal('thrown synchronously');
      expect(stored.errorStack).to.match(/^Error: thrown synchronously\n\s+at /).and.contain('catalogue.test.ts');
      expect((await get('/admin/task?format=json')).status, 'server unaffected').to.equal(200);
    });

    it('#36 a task rejecting with "x", undefined, {}, a cyclic object, null or a Symbol: a normalised error text in every format, no crash', async () => {
      const expected: Record<string, string | RegExp> = {
        'rejects-string': 'x',
        'rejects-undefined': 'undefined was thrown',
        'rejects-object': 'non-error thrown: {}',
        'rejects-cyclic': /^non-error thrown: /,
        'rejects-null': 'null was thrown',
        'rejects-symbol': 'non-error thrown: Symbol(sym)',
      };
      for (const [key, error] of Object.entries(expected)) {
        for (const format of FORMATS) {
          const res = await get(withFormat(`/admin/task/${key}/run`, format));
          expect(res.status, `${key} ${format}`).to.equal(200);
          if (format === 'html') continue;
          const parsed = parseBody(format, res.body) as Json | Json[];
          const record = (Array.isArray(parsed) ? parsed[0] : parsed) as Json;
          expect(record.status, key).to.equal('error');
          if (typeof error === 'string') expect(record.error, `${key} ${format}`).to.equal(error);
          else expect(record.error, `${key} ${format}`).to.match(error);
        }
      }
    });

    it('#37 a task that never resolves: the sync request answers 202 with the run link (after 30 s; here the wait is shortened), the run ends "timeout" at its limit, its signal fires, its slot is released', async () => {
      // The kernel's own server waits 30 s (HttpServer's default); a second server on the same kernel waits 200 ms.
      const server = new HttpServer({ kernel: t.kernel, syncWaitMs: 200 });
      await server.listen(0, '127.0.0.1');
      try {
        const short = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
        const started = performance.now();
        const res = await rawRequest(short, '/admin/task/never/run?format=json');
        expect(res.status).to.equal(202);
        expect(performance.now() - started).to.be.below(1400);
        const body = JSON.parse(res.body) as Json;
        expect(body).to.deep.equal({ id: body.id, status: 'running', href: `/admin/run/${body.id as string}` });
        const browser = await rawRequest(short, '/admin/task/never/run');
        expect(browser.status, 'a browser is sent to the run page').to.equal(303);
        for (const id of [body.id as string, /\/admin\/run\/(.+)$/.exec(String(browser.headers.location))![1]!]) {
          const live = t.kernel.service.activeRun(id);
          expect(live, 'still running after the 202').to.not.equal(undefined);
          const result = await live!.done;
          expect(result).to.include({ status: 'timeout', error: 'timed out after 1500ms' });
          expect(aborted.has(id), 'the AbortSignal fired').to.equal(true);
          expect(t.kernel.service.activeRun(id), 'the slot is released').to.equal(undefined);
          expect((await t.kernel.service.getStoredRun(id)).status).to.equal('timeout');
        }
      } finally {
        await server.stop();
      }
    });

    it('#38 a task blocking the event loop: a documented limitation in-process; with isolate: "worker" the server answers while it spins', async function () {
      this.timeout(30_000);
      // In-process: the loop is held for the whole spin (measured, the limitation the docs must state).
      const histogram = monitorEventLoopDelay({ resolution: 10 });
      histogram.enable();
      await sleep(50); // the histogram's first tick only starts its clock
      const blocked = await t.kernel.service.run('block', { ms: 400 });
      await sleep(30);
      histogram.disable();
      expect(blocked.status).to.equal('ok');
      expect(histogram.max / 1e6, 'event loop delay while an in-process task spins (ms)').to.be.at.least(300);
      // Isolated: the spin runs in a worker thread; the kernel answers HTTP while the run is still running.
      const task = t.kernel.registry.require('spin');
      expect(task.isolate?.kind).to.equal('worker');
      const live = await t.kernel.service.start(task, t.kernel.service.prepareArgs(task, { typed: { ms: 4000 } }));
      await sleep(300);
      for (let i = 0; i < 3; i++) expect((await get('/admin/task?format=json')).status).to.equal(200);
      expect(live.status, 'the server answered while the worker spun').to.equal('running');
      await t.kernel.service.cancel(live.id);
      expect((await t.kernel.service.getStoredRun(live.id)).status).to.equal('cancelled');
    });

    it('#39 a task calling process.exit(): after a restart its run, and the others running then, are "interrupted"', async function () {
      this.timeout(60_000);
      const dir = makeTempDir();
      try {
        fs.mkdirSync(path.join(dir, 'plugins'));
        fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
        fs.writeFileSync(path.join(dir, 'plugins', 'exit.mjs'), "export default { key: 'exit', run: ({ log }) => { log('bye'); setTimeout(() => process.exit(7), 100); return new Promise(() => {}); } };\n");
        fs.writeFileSync(path.join(dir, 'plugins', 'hang.mjs'), "export default { key: 'hang', run: ({ signal }) => new Promise((resolve) => signal.addEventListener('abort', resolve)) };\n");
        const db = path.join(dir, 'taskdeck.db');
        const child = spawn(process.execPath, ['--import', 'tsx', 'core/main.ts', '--port', '0', '--db', db, '--plugins', path.join(dir, 'plugins'), '--no-watch'], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, TASKDECK_LOG_LEVEL: 'info' },
        });
        const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
        const childUrl = await new Promise<string>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            const match = /taskdeck is serving (http:\/\/[^/\s"]+)/.exec(out);
            if (match) resolve(match[1]!);
          });
          void exited.then((code) => reject(new Error(`exited early with ${String(code)}: ${out}`)));
        });
        const hanging = fetch(`${childUrl}/admin/task/hang/run?format=json`).catch(() => null);
        await eventually(async () => ((await (await fetch(`${childUrl}/admin/run?format=json&status=running`)).json()) as Json).runs.length === 1, 10_000, 'the hanging run');
        const exiting = fetch(`${childUrl}/admin/task/exit/run?format=json`).catch((error: unknown) => error);
        expect(await exited, 'the task took the process down').to.equal(7);
        expect(await exiting).to.be.instanceOf(Error);
        await hanging;
        const again = await bootKernel({ dir });
        try {
          const runs = (await again.kernel.service.listRuns({})).runs;
          expect(runs.map((r) => [r.taskKey, r.status]).sort()).to.deep.equal([
            ['exit', 'interrupted'],
            ['hang', 'interrupted'],
          ]);
          const exitRun = runs.find((r) => r.taskKey === 'exit')!;
          expect((await again.kernel.service.getLogs(exitRun.id)).map((l) => l.msg)).to.deep.equal(['bye']);
        } finally {
          await again.stop();
        }
      } finally {
        removeDir(dir);
      }
    });

    it('#40 a task logging past the line cap (120k lines, default cap 100k; 1M in test/hardening/load): persisted = head + tail, a marker, log_count and logs_dropped; the run page shows a tail', async function () {
      this.timeout(90_000);
      const histogram = monitorEventLoopDelay({ resolution: 10 });
      histogram.enable();
      const started = performance.now();
      const res = await get('/admin/task/flood/run?format=json&n=120000&width=0');
      const runMs = performance.now() - started;
      histogram.disable();
      expect(res.status).to.equal(200);
      const result = JSON.parse(res.body) as Json;
      const logs = result.logs as string[];
      // 120,000 lines and the completion line; the first and last 50,000 are kept.
      expect(logs).to.have.length(100_001);
      expect(logs[49_999]).to.equal('50000 ');
      expect(logs[50_000]).to.equal('… 20001 lines dropped (the log keeps its first and last lines) …');
      expect(logs[50_001]).to.equal('70002 ');
      expect(logs.at(-1)).to.match(/^task \[Flood\] completed in/);
      const stored = await t.kernel.service.getLogs(result.id as string);
      expect(stored).to.have.length(100_000);
      expect(stored[49_999]!.seq).to.equal(50_000);
      expect(stored[50_000]!.seq).to.equal(70_002);
      expect(stored.at(-1)!.seq).to.equal(120_001);
      expect(await t.kernel.service.getStoredRun(result.id as string)).to.include({ logCount: 120_001, logsDropped: 20_001 });
      // The finished run read back from history says the same, marker included.
      const again = JSON.parse((await get(`/admin/run/${result.id as string}?format=json`)).body) as Json;
      expect(again.logs).to.deep.equal(logs);
      const pageStarted = performance.now();
      const page = await get(`/admin/run/${result.id as string}`);
      const pageMs = performance.now() - pageStarted;
      expect(page.status).to.equal(200);
      expect(page.body).to.contain('120000 ').and.contain('20001 dropped by the log limit');
      expect(page.body.length, 'the page holds a window of the log, not 100k lines').to.be.below(2_000_000);
      console.log(`      #40: 120k lines in ${runMs.toFixed(0)} ms (event-loop delay p99 ${(histogram.percentile(99) / 1e6).toFixed(1)} ms, max ${(histogram.max / 1e6).toFixed(1)} ms); run page in ${pageMs.toFixed(0)} ms`);
    });

    it('#41 one 50 MB line is cut to 16 KiB with a marker; binary garbage is replaced; \\r progress bars keep their last state', async function () {
      this.timeout(30_000);
      t.kernel.registerTask({
        key: 'garbage',
        run: async ({ log, exec }) => {
          calls.hit('garbage');
          log('x'.repeat(50 * 1024 * 1024));
          log(Buffer.from([0xff, 0xfe, 0x00, 0x1b]));
          log('progress 10%\rprogress 50%\rprogress 100%');
          log('\r');
          log('crlf\r\nnext');
          await exec(process.execPath, ['-e', 'process.stdout.write(Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x00, 0x63, 0x0a])); process.stdout.write("bar 1\\rbar 2\\rbar 3\\n")']);
        },
      });
      const result = JSON.parse((await get('/admin/task/garbage/run?t=json')).body) as Json;
      expect(result.status).to.equal('ok');
      const logs = result.logs as string[];
      expect(logs[0]).to.have.length(16_384 + ' … [52412416 characters truncated]'.length);
      expect(logs[0]!.endsWith(' … [52412416 characters truncated]')).to.equal(true);
      expect(logs[1]).to.equal('<Buffer ff fe 00 1b>');
      expect(logs[2]).to.equal('progress 100%');
      expect(logs[3]).to.equal('');
      expect(logs.slice(4, 6)).to.deep.equal(['crlf', 'next']);
      expect(logs).to.include('a\uFFFD\uFFFDb\uFFFDc');
      expect(logs).to.include('bar 3').and.not.include('bar 1');
      const stored = await t.kernel.service.getLogs(result.id as string);
      expect(stored[0]!.msg).to.equal(logs[0]);
      for (const format of ['xml', 'csv', 'yaml'] as const) {
        const out = await get(`/admin/run/${result.id as string}?format=${format}`);
        expect(out.status, format).to.equal(200);
        parseBody(format, out.body);
      }
    });

    it('#43 data with a cycle, BigInt, undefined, a function, a Symbol, NaN, Infinity, a Date, a Map, a Buffer and a throwing getter: normalised, every format renders, no 500', async () => {
      t.kernel.registerTask({
        key: 'weird-data',
        run: () => {
          calls.hit('weird-data');
          const cyclic: Json = { name: 'loop' };
          cyclic.self = cyclic;
          class Sensor {
            reading = 1;
            constructor() {
              Object.defineProperty(this, 'broken', { enumerable: true, get: () => { throw new Error('sensor offline'); } });
            }
            get computed(): number {
              throw new Error('never called');
            }
          }
          return { cyclic, big: 2n ** 70n, undef: undefined, fn: () => 1, sym: Symbol('s'), nan: NaN, inf: Infinity, ninf: -Infinity, date: new Date(0), map: new Map<unknown, unknown>([['k', 1], [2, 'two']]), set: new Set([1, 1, 2]), buf: Buffer.from('hi'), sensor: new Sensor(), list: [undefined, () => 1, Symbol('x')] };
        },
      });
      const expected = {
        cyclic: { name: 'loop', self: '[Circular]' },
        big: '1180591620717411303424',
        nan: 'NaN',
        inf: 'Infinity',
        ninf: '-Infinity',
        date: '1970-01-01T00:00:00.000Z',
        map: { k: 1, 2: 'two' },
        set: [1, 2],
        buf: { type: 'Buffer', base64: 'aGk=' },
        sensor: { reading: 1, broken: '[Unserializable: sensor offline]' },
        list: [null, null, null],
      };
      let id = '';
      for (const format of FORMATS) {
        const res = await get(withFormat('/admin/task/weird-data/run', format));
        expect(res.status, format).to.equal(200);
        if (format === 'html') {
          expect(res.body).to.contain('[Circular]').and.contain('1180591620717411303424');
          continue;
        }
        const parsed = parseBody(format, res.body) as Json | Json[];
        const record = (Array.isArray(parsed) ? parsed[0] : parsed) as Json;
        expect(record.status, format).to.equal('ok');
        if (format === 'json' || format === 'yaml' || format === 'debug') expect(record.data, format).to.deep.equal(expected);
        if (format === 'csv') expect(JSON.parse(record.data as string)).to.deep.equal(expected);
        id = record.id as string;
      }
      for (const format of FORMATS) {
        const res = await get(withFormat(`/admin/run/${id}`, format));
        expect(res.status, `run page ${format}`).to.equal(200);
        if (format === 'json') expect((JSON.parse(res.body) as Json).data).to.deep.equal(expected);
      }
    });

    it('#44 a task returning 200 MB of data: the run ends "error: result too large" (decision), memory stays bounded, the server goes on', async function () {
      this.timeout(60_000);
      t.kernel.registerTask({ key: 'huge', run: () => (calls.hit('huge'), 'x'.repeat(200 * 1024 * 1024)) });
      const rssBefore = process.memoryUsage().rss;
      let peak = rssBefore;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      const res = await get('/admin/task/huge/run?format=json');
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      expect(res.status).to.equal(200);
      const result = JSON.parse(res.body) as Json;
      expect(result).to.include({ status: 'error', error: `result too large: ${200 * 1024 * 1024 + 2} bytes of JSON, the limit is ${16 * 1024 * 1024}` });
      expect(result.data ?? null).to.equal(null);
      expect(res.body.length, 'the response does not carry the data').to.be.below(10_000);
      expect((await t.kernel.service.getStoredRun(result.id as string)).dataJson).to.equal(null);
      // The string the task built and its JSON (2 x 200 MB) are the peak; nothing holds them afterwards.
      expect(peak - rssBefore, 'RSS growth while the run ends').to.be.below(800 * 1024 * 1024);
      console.log(`      #44: RSS grew by at most ${((peak - rssBefore) / 2 ** 20).toFixed(0)} MiB while a 200 MiB result was refused`);
      expect((await get('/admin/task?format=json')).status).to.equal(200);
    });

    it('#46 a log message with % and %s is stored verbatim (no printf)', async () => {
      t.kernel.registerTask({ key: 'percent', run: ({ log }) => (calls.hit('percent'), log('100% done %s %d %i %o %j %%', 'arg', 5)) });
      const result = JSON.parse((await get('/admin/task/percent/run?t=json')).body) as Json;
      expect((result.logs as string[])[0]).to.equal('100% done %s %d %i %o %j %% arg 5');
      expect((await t.kernel.service.getLogs(result.id as string))[0]!.msg).to.equal('100% done %s %d %i %o %j %% arg 5');
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('4.5 Registry, plugins, concurrency', () => {
    it('#47 plugins with a syntax error, a throw at import, an invalid shape (and a never-settling top-level await): the server starts, good plugins load, each bad file is named on /admin/task and in the log', async function () {
      this.timeout(30_000);
      const sink47 = logSink();
      const k = await bootKernel({
        listen: true,
        logger: pino({ level: 'info' }, { write: sink47.write }),
        plugins: {
          'a-good.mjs': "export default { key: 'good', run: () => 'fine' };\n",
          'b-syntax.ts': 'export default { key: "syn", run: () => { ;\n',
          'c-throws.mjs': "throw new Error('boom at import');\n",
          'd-shape.mjs': 'export default 42;\n',
          'e-good.ts': "export default [{ key: 'good-too', run: () => 'fine' }];\n",
        },
      });
      try {
        const failures = k.kernel.plugins.failures();
        expect(failures.map((f) => f.file)).to.deep.equal(['plugins/b-syntax.ts', 'plugins/c-throws.mjs', 'plugins/d-shape.mjs']);
        expect(failures[1]!.error).to.equal('plugins/c-throws.mjs: import failed: boom at import');
        expect(failures[2]!.error).to.match(/^plugins\/d-shape\.mjs: expected a default export .*got a number \(42\)$/);
        const list = JSON.parse((await rawRequest(k.kernel.url, '/admin/task?format=json')).body) as Json[];
        expect(list.map((task) => task.key)).to.deep.equal(['good', 'good-too']);
        const html = decodeEntities((await rawRequest(k.kernel.url, '/admin/task')).body);
        expect(html).to.contain('3 plugin files failed to load');
        for (const failure of failures) expect(html).to.contain(failure.file).and.contain(failure.error.split('\n')[0]!);
        for (const failure of failures) expect(sink47.lines.some((l) => JSON.stringify(l).includes(failure.file)), `${failure.file} logged`).to.equal(true);
        expect((await rawRequest(k.kernel.url, '/admin/task/good/run?format=json')).status).to.equal(200);
      } finally {
        await k.cleanup();
      }
      // The hanging import: the same loader with the 10 s import timeout shortened.
      const folder = new PluginFolder();
      try {
        folder.write('hang.mjs', 'await new Promise(() => {});\nexport default { key: "hang", run: () => 1 };\n');
        folder.write('later.mjs', "export default { key: 'later', run: () => 1 };\n");
        const { loader, registry } = newLoader(folder, { importTimeoutMs: 200 });
        await loader.loadAll();
        expect(loader.failures()).to.deep.equal([{ file: 'plugins/hang.mjs', error: 'plugins/hang.mjs: import did not settle within 200 ms (a top-level await that never settles?)' }]);
        expect(registry.has('later')).to.equal(true);
        await loader.stop();
      } finally {
        folder.cleanup();
      }
    });

    it('#48 the same key in two plugin files, or a plugin reusing a key registered in code: the first in name order (or the code) wins, the other file fails naming both', async () => {
      const k = await bootKernel({
        plugins: {
          'a-first.mjs': "export default { key: 'dup', title: 'From A', run: () => 'a' };\n",
          'b-second.mjs': "export default [{ key: 'dup', title: 'From B', run: () => 'b' }, { key: 'b-only', run: () => 'b' }];\n",
        },
      });
      try {
        expect(k.kernel.registry.require('dup').title).to.equal('From A');
        expect(k.kernel.registry.has('b-only'), 'a file loads all or nothing').to.equal(false);
        const [failure] = k.kernel.plugins.failures();
        expect(failure!.file).to.equal('plugins/b-second.mjs');
        expect(failure!.error).to.contain('"dup"').and.contain('plugins/a-first.mjs');
        // A key registered from code ("built in" for taskdeck) is never overridden by a file.
        k.kernel.registerTask({ key: 'builtin', title: 'Built In', run: () => 'code' });
        fs.writeFileSync(path.join(k.pluginsDir, 'c-steal.mjs'), "export default { key: 'builtin', title: 'Stolen', run: () => 'file' };\n");
        await k.kernel.plugins.loadAll();
        expect(k.kernel.registry.require('builtin').title).to.equal('Built In');
        const steal = k.kernel.plugins.failures().find((f) => f.file === 'plugins/c-steal.mjs');
        expect(steal?.error).to.contain('"builtin"');
        expect((await k.kernel.service.run('builtin')).data).to.equal('code');
      } finally {
        await k.cleanup();
      }
    });

    it('#49 a symlink pointing outside plugins/ is refused; a world-writable plugins folder logs a loud warning; editor temp files, .d.ts and .map are ignored', async function () {
      const outside = makeTempDir('taskdeck-outside-');
      const dir = makeTempDir();
      const sink49 = logSink();
      try {
        fs.writeFileSync(path.join(outside, 'evil.mjs'), "export default { key: 'evil', run: () => 'pwned' };\n");
        const plugins = path.join(dir, 'plugins');
        fs.mkdirSync(plugins);
        fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
        fs.symlinkSync(path.join(outside, 'evil.mjs'), path.join(plugins, 'evil.mjs'));
        fs.writeFileSync(path.join(plugins, 'good.mjs'), "export default { key: 'good', run: () => 1 };\n");
        for (const name of ['good.mjs~', '.#good.mjs', '#good.mjs#', 'good.mjs.swp', 'types.d.ts', 'good.mjs.map', '.hidden.mjs', '_helper.mjs']) {
          fs.writeFileSync(path.join(plugins, name), "export default { key: 'ignored', run: () => 1 };\nthrow new Error('should never load');\n");
        }
        fs.chmodSync(plugins, 0o777);
        const k = await bootKernel({ dir, logger: pino({ level: 'info' }, { write: sink49.write }) });
        try {
          expect(k.kernel.registry.list().map((task) => task.key)).to.deep.equal(['good']);
          expect(k.kernel.plugins.failures().map((f) => f.file)).to.deep.equal(['plugins/evil.mjs']);
          expect(k.kernel.plugins.failures()[0]!.error).to.contain('expected a symlink to a file inside the plugins folder');
          expect(k.kernel.plugins.warnings().join('\n')).to.contain('is writable by every user');
          expect(sink49.lines.some((l) => l.level >= 40 && JSON.stringify(l).includes('writable by every user')), 'a warning in the log').to.equal(true);
        } finally {
          await k.stop();
        }
      } finally {
        removeDir(outside);
        removeDir(dir);
      }
    });

    it('#50 remove: a file task is 409 naming the file, unknown or twice is 404, only the named task goes, a running run finishes and history keeps its key; remove is guarded', async () => {
      const before = t.kernel.registry.list().map((task) => task.key);
      const owned = await get('/admin/task/owned/remove?format=json');
      expect(owned.status).to.equal(409);
      expect(JSON.parse(owned.body)).to.include({ code: 'ERR_TASK_NOT_REMOVABLE', task: 'owned' });
      expect(t.kernel.registry.has('owned')).to.equal(true);
      expect((await get('/admin/task/nope/remove?format=json')).status).to.equal(404);
      t.kernel.registerTask({
        key: 'doomed',
        run: async ({ log }) => {
          calls.hit('doomed');
          log('before');
          await sleep(200);
          log('after');
          return 'finished';
        },
      });
      const running = await t.kernel.service.start(t.kernel.registry.require('doomed'), {});
      const guarded = await get('/admin/task/doomed/remove?format=json', { 'Sec-Fetch-Site': 'cross-site' });
      expect(guarded.status, 'remove is a guarded GET').to.equal(403);
      expect(t.kernel.registry.has('doomed')).to.equal(true);
      const removed = await get('/admin/task/doomed/remove?format=json');
      expect(removed.status).to.equal(200);
      expect(JSON.parse(removed.body)).to.deep.equal({ removed: 'doomed' });
      expect((await get('/admin/task/doomed/remove?format=json')).status, 'twice').to.equal(404);
      expect(t.kernel.registry.list().map((task) => task.key), 'only the named task went').to.deep.equal(before);
      expect((await running.done).status).to.equal('ok');
      const history = await json('/admin/run?task=doomed&format=json');
      expect(history.runs.map((r: Json) => [r.id, r.task, r.status])).to.deep.equal([[running.id, 'doomed', 'ok']]);
      expect((await get(`/admin/run/${running.id}`)).status).to.equal(200);
    });

    it('#51 two concurrent runs of one task get distinct ids and never mix their logs; 1000 concurrent sync /run all answer 200 or 503 with distinct run ids, and the process stays up', async function () {
      this.timeout(120_000);
      // Two at once, interleaving their writes.
      const pair = await Promise.all([1, 2].map((i) => json(`/admin/task/lines/run?t=json&n=50&delay=1&category=pair-${i}`)));
      expect(pair[0]!.id).to.not.equal(pair[1]!.id);
      for (const result of pair) {
        const logs = await t.kernel.service.getLogs(result.id as string);
        expect(logs.slice(0, 50).map((l) => l.msg)).to.deep.equal(Array.from({ length: 50 }, (_, i) => `line ${i + 1}`));
        expect(logs.map((l) => l.seq)).to.deep.equal(Array.from({ length: 51 }, (_, i) => i + 1));
      }
      // A thousand at once, each on its own connection (a no-op task; single runs have no cap: all should succeed).
      t.kernel.registerTask({ key: 'noop', run: () => (calls.hit('noop'), 'ok') });
      const rssBefore = process.memoryUsage().rss;
      const agentless = Array.from({ length: 1000 }, (_, i) => rawRequest(url, `/admin/task/noop/run?t=json&category=c${i}`).catch((error: unknown): RawResponse => ({ status: 0, headers: {}, body: String(error) })));
      const answers = await Promise.all(agentless);
      const statuses = new Map<number, number>();
      for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      expect([...statuses.keys()].every((s) => s === 200 || s === 503), `statuses ${JSON.stringify([...statuses])}`).to.equal(true);
      const oks = answers.filter((a) => a.status === 200).map((a) => JSON.parse(a.body) as Json);
      const ids = new Set(oks.map((r) => r.id as string));
      expect(ids.size, 'distinct run ids').to.equal(oks.length);
      expect([...ids].every((id) => UUID.test(id))).to.equal(true);
      expect(oks.every((r) => r.status === 'ok')).to.equal(true);
      expect(calls.of('noop')).to.equal(oks.length);
      expect(await countRuns(t, { task: ['noop'] })).to.equal(oks.length);
      for (const busy of answers.filter((a) => a.status === 503)) expect(busy.headers['retry-after'], '503 says when to retry').to.not.equal(undefined);
      console.log(`      #51: 1000 concurrent sync runs: ${JSON.stringify(Object.fromEntries(statuses))}, RSS +${((process.memoryUsage().rss - rssBefore) / 2 ** 20).toFixed(0)} MiB`);
      expect((await get('/admin/task?format=json')).status, 'still serving').to.equal(200);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('4.6 Storage (the storage work owns these rows)', () => {
    it.skip('#52 the DB file or folder is read-only: SQLITE_READONLY naming the path at start-up, exit 1 (covered in test/storage/read-only.test.ts)');
    it.skip('#53 disk full mid-run (SQLITE_FULL): the process lives, the run ends "error: storage", recovery when space returns (covered in test/storage/disk-full.test.ts and test/storage/write-faults.test.ts)');
    it.skip('#54 a corrupt DB (random bytes, truncated, "file is not a database"): refuses to start naming the path, never overwrites (covered in test/storage/corrupt-database.test.ts)');
    it.skip('#55 leftover -wal/-shm after a crash: recovered on open, never deleted (covered in test/storage/wal-recovery.test.ts and test/crash/kill-nine.test.ts)');
    it.skip('#56 a second instance on the same DB refuses to start (covered in test/storage/instance-lock.test.ts)');
    it.skip('#57 the DB on NFS/SMB: a warning naming the file system at start-up (covered in test/storage/database-file.test.ts "storage: a database on a network file system": nfs, smb/cifs and fuse recognised by their statfs type, local file systems silent)');
  });
});

/**
 * Fuzzing the HTTP surface: 10,000 random and mutated paths and query strings (TASKDECK_FUZZ_CASES) sent
 * to a real server on loopback, one at a time on a keep-alive connection, from a seeded PRNG: the seed is
 * printed, and TASKDECK_FUZZ_SEED=<seed> replays a failure exactly. Bounded in time too
 * (TASKDECK_FUZZ_MS, default 150 s): past it the run stops early and says how far it got.
 *
 * For every request: an answer (no dropped connection), never a 5xx. The task behind the fuzzed routes
 * counts its calls; requests go one at a time, so each run is traced to the request that made it: a run
 * happens only on a 200 whose body names that run, the task only ever sees arguments of its field types,
 * requests whose arguments are known to be invalid never run it, and at the end the calls, the runs in
 * the history and the 200s that ran it are the same number. The server still answers afterwards.
 */
import http from 'node:http';
import { expect } from 'chai';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { countRuns } from './helpers/probe.js';
import { Prng, fuzzSeed } from './helpers/prng.js';

const CASES = Number(process.env.TASKDECK_FUZZ_CASES ?? 10_000);
const BUDGET_MS = Number(process.env.TASKDECK_FUZZ_MS ?? 150_000);

interface FuzzCase {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The generator knows these arguments cannot pass the fields: no run may happen. */
  invalid: boolean;
}

interface Answer {
  status: number;
  body: string;
}

const FIELDS = ['count', 'ratio', 'loud', 'names', 'when', 'colour', 'text'];
const RESERVED = ['format', 't', 'async', 'category', 'download', '_checkboxes', 'from', 'presetKey'];
const HISTORY_KEYS = ['cursor', 'limit', 'before', 'after', 'q', 'task', 'status', 'run', 'tag', 'since', 'until', 'arg.count', 'arg.', 'window', 'a', 'b', 'previous', 'removed', 'minMs', 'maxMs'];
const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', '__proto__[x]', 'a[b]', '', '=', '&', 'x'.repeat(300), 'ключ', '😀'];
const FORMATS = ['json', 'csv', 'xml', 'yaml', 'debug', 'html', 'pdf', 'JSON', '', 'json ', 'toml'];
const ACCEPTS = ['application/json', 'text/csv', 'application/xml', 'application/yaml', 'text/plain', 'text/html', '*/*', 'image/png', 'application/json;q=0', 'a/b/c', ''];
const PRINTABLE = '!"#$\'()*,-./0123456789:;<>@ABCXYZ[\\]^_`abcxyz{|}~';

/** Values each field refuses whatever else the query holds. */
const INVALID_VALUES: Readonly<Record<string, readonly string[]>> = {
  count: ['abc', '1.5', '0x10', '1e3', ' 1', '9007199254740992', '--1', '١'],
  ratio: ['NaN', 'inf', '-Infinity', '1e400', 'one', '0x1p3', '1,5'],
  loud: ['maybe', 'tru', '2', 'yes!', ' true'],
  when: ['yesterday', '2024-02-30', '2024-13-01', '25:00', '12345678901234', 'T'],
  colour: ['purple', 'RED', 'red ', 'réd'],
  text: ['a\u0000b', '\u001b[31m', 'x\u0007'],
};

function valid(prng: Prng, field: string): string {
  switch (field) {
    case 'count':
      return prng.pick(['0', '42', '-7', '+3', '007', String(prng.int(-1e6, 1e6)), '9007199254740991']);
    case 'ratio':
      return prng.pick(['0.1', '1e39', '-0', '.5', '5.', '3', '-2.5e-3']);
    case 'loud':
      return prng.pick(['true', 'false', 'TRUE', '1', '0', 'on', 'off', 'yes', 'no']);
    case 'names':
      return prng.pick(['a,b', '["x","y"]', 'one', '', 'a\nb', '[]', '[1,null,"z"]']);
    case 'when':
      return prng.pick(['2024-01-02', '2024-01-02T03:04:05Z', '2024-01-02T03:04', '1700000000', '1700000000000', '2024-02-29']);
    case 'colour':
      return prng.pick(['red', 'green', 'blue']);
    default:
      return prng.pick(['hello', '', 'ünïcödé', '<script>', '=1+1', 'a b', '😀', 'x'.repeat(prng.int(0, 500))]);
  }
}

/** Any text, percent-encoded or raw: unicode, bytes that are not UTF-8, broken escapes. */
function noise(prng: Prng): string {
  switch (prng.int(0, 9)) {
    case 0:
      return encodeURIComponent(prng.string(prng.int(0, 20), 'aé😀\u202E\u0000\t\n\r "<>&=+%'));
    case 1:
      return Array.from({ length: prng.int(1, 6) }, () => `%${prng.int(0, 255).toString(16).padStart(2, '0')}`).join('');
    case 2:
      return prng.pick(['%', '%G1', '%E0%A4', '%ED%A0%80', '%C0%AF', '%FF', '%%', '%2', '%u0041', '%00']);
    case 3:
      return prng.string(prng.int(0, 30), PRINTABLE);
    case 4:
      // Raw bytes 0x80-0xFF: Node sends them as Latin-1, which is not UTF-8.
      return prng.string(prng.int(1, 4), '\u0080\u00a0\u00e9\u00ff\u00c0');
    case 5:
      return 'y'.repeat(prng.int(100, 3000));
    case 6:
      return prng.pick(['00000000-0000-4000-8000-000000000000', 'not-a-uuid', '../../etc/passwd', '..%2F..%2Fetc', 'null', 'undefined', '[]', '{}', 'true', '-1', '0']);
    case 7:
      return encodeURIComponent(JSON.stringify({ a: [1, { b: prng.string(5, 'xyz"\\') }] }));
    case 8:
      return prng.string(prng.int(0, 10), '+&=;#?');
    default:
      return '';
  }
}

function encode(text: string): string {
  return encodeURIComponent(text);
}

function makeQuery(prng: Prng, onRunRoute: boolean): { query: string; invalid: boolean } {
  const pairs: string[] = [];
  let invalid = false;
  const n = prng.int(0, 8);
  for (let i = 0; i < n; i++) {
    const kind = prng.int(0, 9);
    if (kind <= 3) {
      const field = prng.pick(FIELDS);
      if (prng.chance(0.3) && INVALID_VALUES[field]) {
        pairs.push(`${field}=${encode(prng.pick(INVALID_VALUES[field]!))}`);
        if (onRunRoute) invalid = true;
      } else {
        pairs.push(`${field}=${prng.chance(0.85) ? encode(valid(prng, field)) : noise(prng)}`);
      }
    } else if (kind === 4) {
      const key = prng.pick(RESERVED);
      pairs.push(`${key}=${prng.chance(0.6) ? encode(prng.pick(key === 'format' || key === 't' ? FORMATS : ['true', 'false', 'x', '1', ''])) : noise(prng)}`);
    } else if (kind === 5) {
      pairs.push(`${encode(prng.pick(HISTORY_KEYS))}=${prng.chance(0.5) ? encode(valid(prng, prng.pick(FIELDS))) : noise(prng)}`);
    } else if (kind === 6) {
      pairs.push(`${prng.chance(0.7) ? encode(prng.pick(HOSTILE_KEYS)) : noise(prng)}=${noise(prng)}`);
    } else if (kind === 7) {
      pairs.push(noise(prng));
    } else {
      pairs.push(`${encode(prng.string(prng.int(1, 12), 'abcxyz_.-0'))}=${noise(prng)}`);
    }
  }
  if (prng.chance(0.01)) for (let i = 0; i < 1001; i++) pairs.push(`p${i}=1`);
  let query = pairs.join(prng.chance(0.05) ? '&&' : '&');
  if (prng.chance(0.05)) {
    query = mutate(prng, query);
    invalid = false; // the edit may have cut the invalid value out
  }
  return { query, invalid };
}

/** One random edit: insert, delete, duplicate or replace a slice. */
function mutate(prng: Prng, text: string): string {
  const at = prng.int(0, text.length);
  switch (prng.int(0, 3)) {
    case 0:
      return text.slice(0, at) + noise(prng) + text.slice(at);
    case 1:
      return text.slice(0, at) + text.slice(at + prng.int(1, 5));
    case 2:
      return text.slice(0, at) + text.slice(at, at + 5).repeat(prng.int(2, 4)) + text.slice(at);
    default:
      return text.slice(0, at) + prng.pick(['/', '//', '/../', '%2f', '%2e%2e', '?', '#', ';', '\\']) + text.slice(at);
  }
}

function makeCase(prng: Prng, ids: { run: string; running: string }): FuzzCase {
  const routes = [
    '/',
    '/admin',
    '/admin/task',
    '/admin/task/fz',
    '/admin/task/fz/run',
    '/admin/task/fz/run',
    '/admin/task/fz/run',
    '/admin/task/fz/run?async=true',
    '/admin/task/fz/start',
    '/admin/task/fz/remove',
    '/admin/task/fz/stats',
    '/admin/task/fz-strict/run',
    '/admin/run',
    `/admin/run/${ids.run}`,
    `/admin/run/${ids.run}/logs`,
    `/admin/run/${ids.run}/log.txt`,
    `/admin/run/${ids.running}/cancel`,
    `/admin/run/${ids.run}/watch`,
    `/admin/run/compare?a=${ids.run}&b=${ids.run}`,
    '/admin/static/taskdeck.css',
    '/favicon.ico',
    '/nope',
  ];
  const [route, baseQuery] = prng.pick(routes).split('?') as [string, string | undefined];
  let path = route;
  const canonicalRun = route === '/admin/task/fz/run' || route === '/admin/task/fz-strict/run';
  let pathMutated = false;
  if (prng.chance(0.3)) {
    pathMutated = true;
    const segments = path.split('/');
    const i = prng.int(1, Math.max(1, segments.length - 1));
    switch (prng.int(0, 6)) {
      case 0:
        segments[i] = noise(prng);
        path = segments.join('/');
        break;
      case 1:
        segments[i] = (segments[i] ?? '').toUpperCase();
        path = segments.join('/');
        break;
      case 2:
        segments.splice(i, 0, prng.pick(['..', '.', '', '%2e%2e', 'admin', 'x'.repeat(prng.int(1, 3000))]));
        path = segments.join('/');
        break;
      case 3:
        segments[i] = (segments[i] ?? '').replace(/[a-z]/g, (c) => (prng.chance(0.3) ? `%${c.charCodeAt(0).toString(16)}` : c));
        path = segments.join('/');
        break;
      case 4:
        path = `${path}${prng.pick(['/', '//', '/x', '.json', '%00', ';a=b', '/..'])}`;
        break;
      case 5:
        path = mutate(prng, path);
        break;
      default:
        segments[i] = `${segments[i] ?? ''}${noise(prng)}`;
        path = segments.join('/');
    }
    if (!path.startsWith('/')) path = `/${path}`;
  }
  const { query, invalid } = makeQuery(prng, canonicalRun && !pathMutated);
  const fullQuery = [baseQuery, query].filter((q) => q !== undefined && q !== '').join('&');
  const method = prng.chance(0.9) ? 'GET' : prng.pick(['HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND']);
  const headers: Record<string, string> = {};
  if (prng.chance(0.2)) headers.Accept = prng.pick(ACCEPTS);
  if (prng.chance(0.03)) headers['Sec-Fetch-Site'] = prng.pick(['cross-site', 'same-site', 'same-origin', 'none']);
  if (prng.chance(0.02)) headers['Sec-Purpose'] = 'prefetch';
  // Only characters Node's client sends in a request line (it refuses the rest before sending).
  const target = `${path}${fullQuery ? `?${fullQuery}` : ''}`.replace(/[^\u0021-\u00ff]/g, (c) => encodeURIComponent(c));
  // A `#` ends the query (the rest is a fragment the server never sees), which may drop the invalid value.
  const seen = fullQuery.split('#')[0]!;
  return { method, path: target.startsWith('/') ? target : `/${target}`, headers, invalid: invalid && !fullQuery.includes('#') && method === 'GET' && !/(^|&)async=true(&|$)/.test(seen) };
}

/**
 * The only 5xx answers that are right: 501 Not Implemented for a method the server does not know at
 * all (RFC 9110 15.6.2; TRACE, PROPFIND), and 503 to a prefetch of a route that changes state.
 */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
function expected5xx(fuzz: FuzzCase, status: number): boolean {
  if (status === 501) return !KNOWN_METHODS.has(fuzz.method);
  if (status === 503) return fuzz.headers['Sec-Purpose'] === 'prefetch';
  return false;
}

describe('fuzzing 10,000 random and mutated paths and query strings against a running server', function () {
  this.timeout(BUDGET_MS + 60_000);
  let t: TestKernel;
  const seed = fuzzSeed();
  let calls = 0;
  const ranIds: string[] = [];
  const typeErrors: string[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  const register = (k: TestKernel, key: string, strict = false) =>
    k.kernel.registerTask({
      key,
      strictArgs: strict,
      fields: [
        { key: 'count', type: 'int', default: 1 },
        { key: 'ratio', type: 'float' },
        { key: 'loud', type: 'bool' },
        { key: 'names', type: '[]string' },
        { key: 'when', type: 'time' },
        { key: 'colour', choices: ['red', 'green', 'blue'], default: 'red' },
        { key: 'text', type: 'string' },
      ],
      run: ({ args, runId }) => {
        calls += 1;
        ranIds.push(runId);
        // The fields' promise: whatever arrived, the task sees its declared types.
        const problems = [
          Number.isSafeInteger(args.count) ? '' : `count ${String(args.count)}`,
          args.ratio === undefined || Number.isFinite(args.ratio) ? '' : `ratio ${String(args.ratio)}`,
          typeof args.loud === 'boolean' ? '' : `loud ${String(args.loud)}`,
          Array.isArray(args.names) && (args.names as unknown[]).every((n) => typeof n === 'string') ? '' : `names ${JSON.stringify(args.names)}`,
          args.when === null || args.when === undefined || (args.when instanceof Date && !Number.isNaN(args.when.getTime())) ? '' : `when ${String(args.when)}`,
          ['red', 'green', 'blue'].includes(args.colour as string) ? '' : `colour ${String(args.colour)}`,
          args.text === undefined || (typeof args.text === 'string' && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(args.text)) ? '' : `text ${JSON.stringify(args.text)}`,
          Object.hasOwn(args, '__proto__') || Object.hasOwn(args, 'constructor') ? 'a prototype key' : '',
        ].filter(Boolean);
        if (problems.length) typeErrors.push(`${runId}: ${problems.join(', ')}`);
        return 'ok';
      },
    });

  before(async () => {
    t = await bootKernel({ listen: true, config: { retention: { intervalMinutes: 0 } } });
    register(t, 'fz');
    register(t, 'fz-strict', true);
    t.kernel.registerTask({ key: 'hang', run: ({ signal }) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })) });
  });
  after(async () => {
    agent.destroy();
    await t.cleanup();
  });

  function send(fuzz: FuzzCase): Promise<Answer> {
    const { port } = new URL(t.kernel.url);
    return new Promise((resolve, reject) => {
      const req = http.request({ hostname: '127.0.0.1', port, path: fuzz.path, method: fuzz.method, headers: fuzz.headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
      req.on('error', reject);
      req.end();
    });
  }

  it(`answers every case without a 5xx, runs the task only on a 200 that names the run, never on invalid arguments (seed printed)`, async () => {
    console.log(`      fuzz seed ${seed} (replay: TASKDECK_FUZZ_SEED=${seed}), ${CASES} cases, budget ${BUDGET_MS} ms`);
    const prng = new Prng(seed);
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let ranOn200 = 0;
    let invalidCases = 0;
    let removals = 0;
    let done = 0;
    const started = performance.now();
    const ids = { run: (await t.kernel.service.run('fz')).id, running: '' };
    calls = 0;
    ranIds.length = 0;
    const fzRunsBefore = await countRuns(t, { task: ['fz', 'fz-strict'] });
    ids.running = (await t.kernel.service.start(t.kernel.registry.require('hang'), {})).id;

    for (; done < CASES && performance.now() - started < BUDGET_MS; done++) {
      const fuzz = makeCase(prng, ids);
      const before = calls;
      let answer: Answer;
      try {
        answer = await send(fuzz);
      } catch (error) {
        failures.push(`#${done} ${fuzz.method} ${fuzz.path.slice(0, 300)}: no answer (${String(error)})`);
        agent.destroy();
        continue;
      }
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      const ran = calls - before;
      const where = `#${done} ${fuzz.method} ${fuzz.path.slice(0, 300)} -> ${answer.status}`;
      if ((answer.status >= 500 && !expected5xx(fuzz, answer.status)) || answer.status === 0) failures.push(`${where}: ${answer.body.slice(0, 300)}`);
      if (ran > 1) failures.push(`${where}: ${ran} runs from one request`);
      if (ran === 1) {
        ranOn200 += 1;
        if (answer.status !== 200) failures.push(`${where}: ran the task but answered ${answer.status}`);
        else if (fuzz.method !== 'HEAD' && !answer.body.includes(ranIds.at(-1)!)) failures.push(`${where}: ran the task but the answer does not name run ${ranIds.at(-1)!}`);
        if (fuzz.invalid) failures.push(`${where}: ran the task with arguments known to be invalid`);
      }
      if (fuzz.invalid) invalidCases += 1;
      // A fuzzed remove or cancel may land: put things back, so later cases still reach a task.
      for (const key of ['fz', 'fz-strict']) {
        if (!t.kernel.registry.has(key)) {
          removals += 1;
          if (answer.status >= 400) failures.push(`${where}: the task "${key}" was removed by a refused request`);
          register(t, key, key === 'fz-strict');
        }
      }
      if (!t.kernel.service.activeRun(ids.running)) ids.running = (await t.kernel.service.start(t.kernel.registry.require('hang'), {})).id;
      if (failures.length > 20) break;
    }
    const elapsed = performance.now() - started;
    const histogram = [...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}: ${n}`).join(', ');
    console.log(`      ${done} cases in ${(elapsed / 1000).toFixed(1)} s (${(done / (elapsed / 1000)).toFixed(0)}/s); statuses ${histogram}; ${ranOn200} runs, ${invalidCases} cases with invalid arguments, ${removals} fuzzed removals`);
    if (failures.length) console.log(`      failures (seed ${seed}):\n${failures.map((f) => `        ${JSON.stringify(f)}`).join('\n')}`);
    expect(failures.length, `failures with seed ${seed} (listed above)`).to.equal(0);
    expect(typeErrors, `seed ${seed}: args of the wrong type reached the task`).to.deep.equal([]);
    expect(calls, 'task calls = runs traced to a 200').to.equal(ranOn200);
    expect((await countRuns(t, { task: ['fz', 'fz-strict'] })) - fzRunsBefore, 'runs in the history = task calls').to.equal(calls);
    if (done < CASES) console.log(`      stopped early at the time budget: ${done} of ${CASES} cases`);
    expect(done, 'cases sent within the budget').to.be.at.least(Math.min(CASES, 1000));
  });

  it('answers the cases fuzzing found, fixed since: a target the URL parser reads as a host (404, was 500), an unknown method (501 that says so)', async () => {
    for (const path of ['//?a#b@c', '//?arg.=1&when=T&presetKey=Ya-[#9@_@93bbb', '//x?y#@z']) {
      const res = await send({ method: 'GET', path, headers: { Accept: 'application/json' }, invalid: false });
      expect(res.status, path).to.equal(404);
    }
    for (const method of ['TRACE', 'PROPFIND']) {
      const res = await send({ method, path: '/admin/task/fz/run?format=json', headers: { Accept: 'application/json' }, invalid: false });
      expect(res.status, method).to.equal(501);
      expect(JSON.parse(res.body)).to.include({ code: 'ERR_METHOD_NOT_ALLOWED', message: `method ${method} is not allowed on this route: use HEAD, GET` });
    }
  });

  it('still answers afterwards: the process is alive and the history intact', async () => {
    const res = await fetch(`${t.kernel.url}/admin/task?format=json`);
    expect(res.status).to.equal(200);
    const runs = await fetch(`${t.kernel.url}/admin/run?format=json&limit=5`);
    expect(runs.status).to.equal(200);
    expect(((await runs.json()) as { runs: unknown[] }).runs.length).to.be.greaterThan(0);
  });
});

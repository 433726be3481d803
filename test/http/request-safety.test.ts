import { expect } from 'chai';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { errorMessage, rawRequest, type RawResponse } from './http-client.js';

const UUID = '00000000-0000-4000-8000-000000000000';

describe('request safety (hostile-inputs 4.3)', () => {
  let t: TestKernel;
  let url: string;
  let calls = 0;
  let runningId: string;

  before(async () => {
    t = await bootKernel({ listen: true });
    url = t.kernel.url;
    t.kernel.registerTask({
      key: 'spy',
      fields: [{ key: 'n', type: 'int', default: 1 }],
      run: () => {
        calls += 1;
        return 'ran';
      },
    });
    t.kernel.registerTask({ key: 'victim', run: () => 'still here' });
    t.kernel.registerTask({ key: 'wait', run: ({ signal }) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })) });
    runningId = (await t.kernel.service.start(t.kernel.registry.require('wait'), {})).id;
  });
  after(() => t.cleanup());

  const request = (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> => rawRequest(url, path, { method, headers });
  const runCount = async () => (await t.kernel.service.listRuns({}, { limit: 500 })).runs.length;

  /** Asserts that nothing changed: no task call, no new run, the victim still registered, the waiting run still running. */
  async function expectNothingHappened(before: { calls: number; runs: number }): Promise<void> {
    expect(calls, 'task calls').to.equal(before.calls);
    expect(await runCount(), 'history rows').to.equal(before.runs);
    expect(t.kernel.registry.has('victim'), 'victim still registered').to.equal(true);
    expect(t.kernel.service.activeRun(runningId), 'waiting run still running').to.not.equal(undefined);
  }

  const mutating = (): [string, string][] => [
    ['run', '/admin/task/spy/run?n=2'],
    ['the live page that starts a run', '/admin/task/spy/run?async=true'],
    ['start', '/admin/task/spy/start'],
    ['remove', '/admin/task/victim/remove'],
    ['cancel', `/admin/run/${runningId}/cancel`],
  ];

  const refusals: [string, Record<string, string>, number][] = [
    ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site' }, 403],
    ['Sec-Fetch-Site: same-site', { 'Sec-Fetch-Site': 'same-site' }, 403],
    ['Sec-Fetch-Dest: image', { 'Sec-Fetch-Site': 'same-origin', 'Sec-Fetch-Dest': 'image' }, 403],
    ['Sec-Fetch-Dest: script', { 'Sec-Fetch-Dest': 'script' }, 403],
    ['Sec-Fetch-Dest: iframe', { 'Sec-Fetch-Site': 'same-origin', 'Sec-Fetch-Dest': 'iframe' }, 403],
    ['Origin: https://evil.example', { Origin: 'https://evil.example' }, 403],
    ['Origin: null', { Origin: 'null' }, 403],
    ['Sec-Purpose: prefetch', { 'Sec-Purpose': 'prefetch' }, 503],
    ['Purpose: prefetch', { Purpose: 'prefetch' }, 503],
    ['Sec-Purpose: prefetch;prerender', { 'Sec-Purpose': 'prefetch;prerender' }, 503],
    ['Host: evil.example', { Host: 'evil.example' }, 421],
    ['Host: evil.example:80', { Host: 'evil.example:80' }, 421],
  ];

  for (const [name, headers, status] of refusals) {
    it(`refuses ${name} with ${status} on run, the live page, start, remove and cancel, and nothing runs`, async () => {
      const before = { calls, runs: await runCount() };
      for (const [route, path] of mutating()) {
        for (const suffix of ['', path.includes('?') ? '&format=json' : '?format=json']) {
          const res = await request(path + suffix, headers);
          expect(res.status, `${route}${suffix}`).to.equal(status);
          if (status === 503) expect(res.headers['cache-control'], route).to.equal('no-store');
          if (suffix && status !== 421) {
            const body = JSON.parse(res.body) as { status: number; message: string };
            expect(body.status, route).to.equal(status);
            expect(body.message, route).to.match(status === 503 ? /^prefetch and prerender requests do not run tasks$/ : /refused/);
          }
        }
      }
      await expectNothingHappened(before);
    });
  }

  it('answers HEAD with 405 on run, start, remove and cancel, and nothing runs', async () => {
    const before = { calls, runs: await runCount() };
    for (const [route, path] of mutating()) {
      const res = await request(path, {}, 'HEAD');
      expect(res.status, route).to.equal(405);
      expect(res.headers.allow, route).to.contain('GET');
      expect(res.body).to.equal('');
    }
    await expectNothingHappened(before);
  });

  it('answers POST, PUT and DELETE with 405 and an Allow header naming GET, and nothing runs', async () => {
    const before = { calls, runs: await runCount() };
    for (const method of ['POST', 'PUT', 'DELETE']) {
      for (const [route, path] of mutating()) {
        const res = await request(path, {}, method);
        expect(res.status, `${method} ${route}`).to.equal(405);
        expect(res.headers.allow, `${method} ${route}`).to.match(/\bGET\b/);
      }
    }
    await expectNothingHappened(before);
  });

  it('still runs a same-origin request from our own page (the guards are not over-eager)', async () => {
    const host = new URL(url).host;
    const res = await request('/admin/task/spy/run?t=json', { 'Sec-Fetch-Site': 'same-origin', 'Sec-Fetch-Dest': 'document', 'Sec-Fetch-Mode': 'navigate', Origin: url, Host: host });
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.body).status).to.equal('ok');
    const typed = await request('/admin/task/spy/run?t=json', { 'Sec-Fetch-Site': 'none', 'Sec-Fetch-Dest': 'document', Host: `localhost:${new URL(url).port}` });
    expect(typed.status).to.equal(200);
  });

  it('answers Host: evil.example with 421 on every route, including the static files', async () => {
    for (const path of ['/', '/admin', '/admin/task', '/admin/task/spy', '/admin/run', `/admin/run/${runningId}`, `/admin/run/${runningId}/watch`, '/admin/static/taskdeck.css', '/nope']) {
      const res = await request(path, { Host: 'evil.example' });
      expect(res.status, path).to.equal(421);
      expect(errorMessage('html', res.body), path).to.contain('host "evil.example" is not served here');
    }
  });

  it('sends no Access-Control-Allow-Origin header anywhere, even to a foreign Origin', async () => {
    const paths = ['/', '/admin/task', '/admin/task?format=json', '/admin/task/spy', '/admin/task/spy/run?t=json', '/admin/run?format=csv', `/admin/run/${runningId}?format=json`, '/admin/static/taskdeck.js', '/admin/task/nope'];
    for (const path of paths) {
      for (const method of ['GET', 'OPTIONS']) {
        const res = await request(path, { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' }, method);
        expect(res.headers['access-control-allow-origin'], `${method} ${path}`).to.equal(undefined);
        expect(res.headers['access-control-allow-credentials'], `${method} ${path}`).to.equal(undefined);
      }
    }
  });

  it('sends a Content-Security-Policy on every HTML page, errors included', async () => {
    const finished = (await t.kernel.service.run('spy', {})).id;
    for (const path of ['/admin/task', '/admin/task/spy', '/admin/task/spy/run', '/admin/task/spy/run?async=true', '/admin/task/spy/run?n=abc', '/admin/run', `/admin/run/${finished}`, '/admin/task/nope', '/nope']) {
      const res = await request(path);
      expect(res.headers['content-type'], path).to.match(/^text\/html/);
      const csp = String(res.headers['content-security-policy']);
      expect(csp, path).to.contain("default-src 'self'").and.contain("frame-ancestors 'none'").and.match(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+'/);
      expect(csp, path).to.not.contain('unsafe-inline');
      expect(res.headers['x-frame-options'], path).to.equal('DENY');
      expect(res.headers['x-content-type-options'], path).to.equal('nosniff');
    }
  });

  describe('malformed and hostile URLs', () => {
    it('answers malformed percent-encoding in the path with 400, not 500, in the requested format', async () => {
      const before = { calls, runs: await runCount() };
      for (const path of ['/admin/task/%E0%A4%A/run', '/admin/task/%/run', '/admin/task/%ED%A0%80/run', '/admin/run/%zz']) {
        const html = await request(path);
        expect(html.status, path).to.equal(400);
        expect(errorMessage('html', html.body)).to.equal('malformed URL encoding in the path');
        const json = await request(`${path}?format=json`);
        expect(json.status, path).to.equal(400);
        expect(JSON.parse(json.body)).to.include({ status: 400, message: 'malformed URL encoding in the path' });
      }
      await expectNothingHappened(before);
    });

    it('answers malformed percent-encoding in the query with 400, not 500', async () => {
      const before = { calls, runs: await runCount() };
      for (const query of ['n=%E0%A4%A', 'n=%', '%zz=1', 'n=%ED%A0%80']) {
        const res = await request(`/admin/task/spy/run?${query}`, { Accept: 'application/json' });
        expect(res.status, query).to.equal(400);
        expect(JSON.parse(res.body).message, query).to.match(/^malformed URL encoding in the query string/);
      }
      await expectNothingHappened(before);
    });

    const longKey = 'a'.repeat(10 * 1024);
    const hostileKeys: [string, string][] = [
      ['..%2F..%2Fetc', '../../etc'],
      ['%2e%2e', '..'],
      ['..%2f..%2fetc%2fpasswd', '../../etc/passwd'],
      ['a%5Cb', 'a\\b'],
      ['%00', '\u0000'],
      ['SPY', 'SPY'],
      ['spy%20', 'spy '],
      [longKey, longKey],
    ];
    for (const [raw, decoded] of hostileKeys) {
      const label = raw.length > 40 ? 'a 10 KB key' : raw;
      it(`answers 404 for the key ${label} on every task route, echoing at most 200 characters of it`, async () => {
        const before = { calls, runs: await runCount() };
        for (const suffix of ['', '/run', '/run?async=true', '/remove', '/start']) {
          for (const format of ['html', 'json'] as const) {
            const path = `/admin/task/${raw}${suffix}`;
            const res = await request(format === 'json' ? `${path}${suffix.includes('?') ? '&' : '?'}format=json` : path);
            expect(res.status, `${label}${suffix} ${format}`).to.equal(404);
            expect(res.body.length, 'response size').to.be.below(8000);
            expect(res.body).to.not.match(/a{201}/);
            if (format === 'json') {
              const body = JSON.parse(res.body) as { task: string; message: string };
              expect(body.task).to.equal(decoded.length > 200 ? `${decoded.slice(0, 200)}…` : decoded);
            }
          }
        }
        await expectNothingHappened(before);
      });
    }

    it('answers a key with a slash in it (a/b) with 404', async () => {
      for (const path of ['/admin/task/a/b', '/admin/task/a/b/run', '/admin/task/..%2f/run']) {
        const res = await request(path);
        expect(res.status, path).to.equal(404);
      }
    });

    it('refuses 1001 query parameters with 400 "too many parameters", and accepts 1000', async () => {
      const before = { calls, runs: await runCount() };
      const params = (n: number) => Array.from({ length: n }, (_, i) => `p${i}=1`).join('&');
      const tooMany = await request(`/admin/task/spy/run?${params(1001)}`, { Accept: 'application/json' });
      expect(tooMany.status).to.equal(400);
      expect(JSON.parse(tooMany.body).message).to.equal('too many parameters: at most 1000, got 1001');
      const html = await request(`/admin/task?${params(1001)}`);
      expect(html.status).to.equal(400);
      expect(errorMessage('html', html.body)).to.contain('too many parameters');
      await expectNothingHappened(before);
      const enough = await request(`/admin/task/spy?${params(999)}&format=json`);
      expect(enough.status).to.equal(200);
    });

    it('answers a 20 KB query string with 431, and nothing runs', async () => {
      const before = { calls, runs: await runCount() };
      const res = await request(`/admin/task/spy/run?x=${'y'.repeat(20 * 1024)}`);
      expect(res.status).to.equal(431);
      await expectNothingHappened(before);
      // The server is still up.
      expect((await request('/admin/task?format=json')).status).to.equal(200);
    });

    it('never answers 500 to __proto__, constructor or prototype in the query', async () => {
      const query = '__proto__=x&constructor=y&prototype=z&__proto__[polluted]=1&toString=1&hasOwnProperty=1';
      for (const path of ['/', '/admin/task', '/admin/task/spy', '/admin/task/spy/run', '/admin/task/spy/run?async=true', '/admin/run', `/admin/run/${runningId}`, `/admin/run/${UUID}`]) {
        for (const format of ['', 'json', 'csv', 'xml', 'yaml', 'debug']) {
          const sep = path.includes('?') ? '&' : '?';
          const res = await request(`${path}${sep}${query}${format ? `&t=${format}` : ''}`);
          expect(res.status, `${path} ${format}`).to.be.oneOf([200, 302, 400, 404]);
        }
      }
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
      expect(t.kernel.service.activeRun(runningId)).to.not.equal(undefined);
    });
  });
});

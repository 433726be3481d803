import { expect } from 'chai';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { openSocket } from '../helpers/ws-client.js';
import { decodeEntities } from '../http/http-client.js';
import { bearer, fromOurPage, loginBody, makeToken, send, signIn, type Sent } from './auth-helpers.js';

const TOKEN = makeToken();
const FORMATS = ['html', 'json', 'csv', 'xml', 'yaml', 'debug'] as const;
/** Enough for every kind of page the admin has, a few times over. */
const MAX_PATHS = 120;

const PLUGIN = `
export default [
  { key: 'report', category: 'reports', description: 'A report', tags: ['weekly'],
    fields: [{ key: 'weeks', type: 'int', default: 2 }, { key: 'format', type: 'string', choices: ['pdf', 'csv'], default: 'pdf' }],
    run: ({ args, log }) => { log('building', args.weeks); return { rows: 3, args }; } },
  { key: 'fails', dangerous: 'It fails', run: () => { throw new Error('always fails'); } },
];
`;

describe('auth: the token never appears in any response (a crawl of every route)', () => {
  let t: TestKernel;
  let url: string;
  const responses: { what: string; text: string }[] = [];
  const record = (what: string, res: Sent) => responses.push({ what, text: res.raw });

  before(async function () {
    this.timeout(120_000);
    t = await bootKernel({ config: { token: TOKEN }, listen: true, plugins: { 'tasks.ts': PLUGIN } });
    url = t.kernel.url;
    const report = await t.kernel.service.run('report', { weeks: 3 }, { label: 'nightly' });
    await t.kernel.service.run('fails');
    const { cookie } = await signIn(url, TOKEN);
    const asCookie = { Cookie: cookie, ...fromOurPage(url) };

    // Every page reachable from the start pages, in every format, signed in by Bearer and by cookie.
    const seen = new Set<string>();
    const queue = ['/', '/admin', '/admin/task', '/admin/run', '/admin/run?q=building', '/admin/task/report?weeks=5', '/admin/task/report/run?weeks=4&format=csv', '/admin/task/report/run?async=true', `/admin/run/${report.id}/logs?limit=1`];
    while (queue.length && seen.size < MAX_PATHS) {
      const path = queue.shift()!;
      if (seen.has(path)) continue;
      seen.add(path);
      for (const format of FORMATS) {
        const withT = format === 'html' ? path : `${path}${path.includes('?') ? '&' : '?'}t=${format}`;
        const res = await send(url, withT, { headers: bearer(TOKEN) });
        record(`Bearer ${withT}`, res);
        if (format === 'html' && res.headers['content-type']?.startsWith('text/html')) {
          for (const link of linksOf(res.body)) if (!seen.has(link) && !/\/remove(\?|$)/.test(link)) queue.push(link);
        }
      }
      record(`cookie ${path}`, await send(url, path, { headers: asCookie }));
      record(`anonymous ${path}`, await send(url, path));
      record(`anonymous json ${path}`, await send(url, path, { headers: { Accept: 'application/json' } }));
    }
    expect(seen.size, 'the crawl found the pages').to.be.greaterThan(25);

    // The refusals and the login flow, with the token (or near misses) in every place a client might put it.
    const tries: [string, string, Parameters<typeof send>[2]][] = [
      ['query token', `/admin/task?token=${TOKEN}`, {}],
      ['query token debug', `/admin/task?token=${TOKEN}&t=debug`, {}],
      ['query token, signed in', `/admin/task?token=${TOKEN}&t=json`, { headers: bearer(TOKEN) }],
      ['wrong bearer', '/admin/task?t=debug', { headers: bearer(`${TOKEN}0`) }],
      ['token as cookie', '/admin/task?t=debug', { headers: { Cookie: `taskdeck_session=${TOKEN}` } }],
      ['token header', '/admin/run?t=debug', { headers: { 'X-Taskdeck-Token': TOKEN, ...bearer(TOKEN) } }],
      ['login page', '/admin/login', {}],
      ['login page with next', `/admin/login?next=${encodeURIComponent('/admin/run?x=1')}`, {}],
      ['login post', '/admin/login', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...fromOurPage(url) }, body: loginBody(TOKEN, '/admin/run') }],
      ['login post json', '/admin/login?t=json', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: loginBody(TOKEN) }],
      ['login post debug', '/admin/login?t=debug', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: loginBody(TOKEN) }],
      ['login wrong', '/admin/login', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...fromOurPage(url) }, body: loginBody(`${TOKEN}!`) }],
      ['login cross-site', '/admin/login', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'cross-site' }, body: loginBody(TOKEN) }],
      ['login in the query', `/admin/login?token=${TOKEN}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '' }],
      ['logout', '/admin/logout', { headers: asCookie }],
      ['logout debug', '/admin/logout?t=debug', { headers: { Cookie: cookie } }],
    ];
    for (const [what, path, options] of tries) record(`${what}: ${path}`, await send(url, path, options));

    // The live protocol: a run started and one watched, over Bearer and over the session cookie.
    const { cookie: live } = await signIn(url, TOKEN);
    const ws = url.replace(/^http/, 'ws');
    for (const [what, headers] of [['Bearer', bearer(TOKEN)], ['cookie', { Cookie: live, 'Sec-Fetch-Site': 'same-origin' }]] as const) {
      const started = await openSocket(`${ws}/admin/task/report/start?weeks=7`, { headers });
      await started.closed;
      const id = started.messages[0]!.param.id as string;
      const watched = await openSocket(`${ws}/admin/run/${id}/watch`, { headers });
      await watched.closed;
      responses.push({ what: `ws ${what}`, text: JSON.stringify([started.messages, watched.messages]) });
    }
  });
  after(() => t?.cleanup());

  it('crawled every kind of page in every format', () => {
    const kinds = ['/admin/task/report', '/admin/task/report/stats', '/admin/run/compare', '/admin/run/', '/logs', '/log.txt', '/admin/login'];
    for (const kind of kinds) expect(responses.some((r) => r.what.includes(kind)), kind).to.equal(true);
    expect(responses.filter((r) => r.text.startsWith('200 ')).length).to.be.greaterThan(150);
    expect(responses.filter((r) => r.text.startsWith('401 ')).length).to.be.greaterThan(10);
  });

  it('never returns the token, in the status line, a header or a body', () => {
    const variants = [TOKEN, encodeURIComponent(TOKEN), Buffer.from(TOKEN).toString('base64'), TOKEN.slice(4, 36)];
    const leaks = responses.filter((r) => variants.some((v) => r.text.includes(v))).map((r) => r.what);
    expect(leaks).to.deep.equal([]);
  });
});

/** Same-origin paths in href, src, action and the live card's data attributes. */
function linksOf(html: string): string[] {
  const links: string[] = [];
  for (const match of html.matchAll(/\s(?:href|src|action|data-start-path|data-watch-path|data-load-earlier|data-copy)="([^"]*)"/g)) {
    const value = decodeEntities(match[1]!);
    if (value.startsWith('/') && !value.startsWith('//')) links.push(value.replace(/#.*$/, ''));
  }
  return links.filter((link) => !/\/(start|watch)(\?|$)/.test(link));
}

import { expect } from 'chai';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { csvObjects, decodeEntities, parseBody, type TestFormat } from './http-client.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 1);

interface Preview {
  policy: { maxAgeDays: number; keepPerTask: number; maxBytes: number; intervalMinutes: number };
  cutoff: string;
  byAge: number;
  perTask: { task: string; count: number }[];
  oldest: { id: string; task: string; started: string; status: string }[];
  bytes: number;
  overBudget: boolean;
  nextPruneAt: string | null;
}

describe('retention preview over HTTP (/admin/retention)', () => {
  let t: TestKernel;
  let clock = NOW;
  const old: string[] = [];
  const busy: string[] = [];

  before(async function () {
    this.timeout(20_000);
    t = await bootKernel({ listen: true, now: () => clock, config: { retention: { maxAgeDays: 30, keepPerTask: 2, maxBytes: 1, intervalMinutes: 60 } } });
    t.kernel.registerTask({ key: 'old', run: () => undefined });
    t.kernel.registerTask({ key: 'busy', run: ({ log }) => log('y') });
    // old: 5 runs 60..56 days ago (3 go, its latest 2 stay); busy: 6 runs 40..35 days ago and 2 recent (6 go).
    for (let i = 0; i < 5; i++) {
      clock = NOW - (60 - i) * DAY;
      old.push((await t.kernel.service.run('old')).id);
    }
    for (let i = 0; i < 8; i++) {
      clock = i < 6 ? NOW - (40 - i) * DAY : NOW - (2 - (i - 6)) * DAY;
      busy.push((await t.kernel.service.run('busy')).id);
    }
    clock = NOW;
  });
  after(() => t?.cleanup());

  const get = async (query: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${t.kernel.url}/admin/retention${query}`, { headers });
    return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
  };

  it('answers the policy, the exact count by age per task, the oldest candidates and the next prune in JSON', async () => {
    const { status, text } = await get('?format=json');
    expect(status).to.equal(200);
    const preview = parseBody('json', text) as Preview;
    expect(preview.policy).to.deep.equal({ maxAgeDays: 30, keepPerTask: 2, maxBytes: 1, intervalMinutes: 60 });
    expect(preview.cutoff).to.equal(new Date(NOW - 30 * DAY).toISOString());
    expect(preview.byAge).to.equal(9);
    expect(preview.perTask).to.deep.equal([{ task: 'busy', count: 6 }, { task: 'old', count: 3 }]);
    expect(preview.oldest.map((c) => c.id)).to.deep.equal([...old.slice(0, 3), ...busy.slice(0, 6)]);
    expect(preview.oldest[0]).to.deep.equal({ id: old[0], task: 'old', started: new Date(NOW - 60 * DAY).toISOString(), status: 'ok' });
    expect(preview.bytes).to.be.greaterThan(1);
    expect(preview.overBudget).to.equal(true);
    // The first prune comes a minute after start-up.
    expect(preview.nextPruneAt).to.equal(new Date(NOW + 60_000).toISOString());
  });

  it('shows the same in the HTML page, escaped, linked from the dashboard and the history page', async () => {
    const { status, text } = await get('');
    expect(status).to.equal(200);
    const page = decodeEntities(text);
    expect(page).to.match(/<strong>9<\/strong>\s*run\(s\) started before/);
    expect(page).to.include('latest 2');
    expect(page).to.include('over budget');
    expect(page).to.include(`/admin/run/${old[0]}`);
    expect(text).to.match(/<tr data-task="busy">[\s\S]*?<td class="num">6<\/td>/);
    for (const path of ['/admin', '/admin/run']) {
      const html = await (await fetch(`${t.kernel.url}${path}`)).text();
      expect(html, path).to.include('href="/admin/retention"');
    }
  });

  for (const format of ['csv', 'yaml', 'xml'] as TestFormat[]) {
    it(`answers ?format=${format} with the same candidates`, async () => {
      const { status, text } = await get(`?format=${format}`);
      expect(status).to.equal(200);
      if (format === 'csv') {
        expect(csvObjects(text).map((r) => r.id)).to.deep.equal([...old.slice(0, 3), ...busy.slice(0, 6)]);
        expect(text.split('\n')[0]).to.equal('id,task,started,status');
      } else {
        expect(text).to.include(old[0]!).and.to.include('keepPerTask');
      }
    });
  }

  it('deletes nothing: every run is still there after the previews', async () => {
    await get('');
    await get('?format=json');
    const all = await t.kernel.service.listRuns({}, { limit: 500 });
    expect(all.runs).to.have.length(13);
  });

  it('prunes now only as a same-origin request: refused cross-site, cross-origin and as a prefetch, deleting nothing', async () => {
    const refused: Record<string, string>[] = [{ 'Sec-Fetch-Site': 'cross-site' }, { 'Sec-Purpose': 'prefetch' }, { Origin: 'https://evil.example' }, { 'Sec-Fetch-Site': 'same-origin', 'Sec-Fetch-Dest': 'image' }];
    for (const headers of refused) {
      const response = await fetch(`${t.kernel.url}/admin/retention/prune?format=json`, { headers });
      expect(response.status, JSON.stringify(headers)).to.be.oneOf([403, 503]);
    }
    expect((await t.kernel.service.listRuns({}, { limit: 500 })).runs).to.have.length(13);
  });

  it('refuses to change anything: POST is not a route', async () => {
    const response = await fetch(`${t.kernel.url}/admin/retention`, { method: 'POST' });
    expect(response.status).to.equal(405);
  });

  it('says there is no age limit when maxAgeDays is 0', async () => {
    const none = await bootKernel({ listen: true, config: { retention: { maxAgeDays: 0, keepPerTask: 2, maxBytes: 0, intervalMinutes: 0 } } });
    try {
      const json = parseBody('json', await (await fetch(`${none.kernel.url}/admin/retention?format=json`)).text()) as Preview;
      expect(json).to.deep.include({ cutoff: null, byAge: 0, perTask: [], oldest: [], overBudget: false, nextPruneAt: null });
      const html = decodeEntities(await (await fetch(`${none.kernel.url}/admin/retention`)).text());
      expect(html).to.include('No age limit').and.to.include('no budget');
    } finally {
      await none.cleanup();
    }
  });

  // Last: it deletes.
  it('prunes now from the page (same origin): the form redirects back to the preview, which then shows nothing to go', async () => {
    const response = await fetch(`${t.kernel.url}/admin/retention/prune`, { redirect: 'manual', headers: { 'Sec-Fetch-Site': 'same-origin', 'Sec-Fetch-Dest': 'document' } });
    expect(response.status).to.equal(302);
    expect(response.headers.get('location')).to.equal('/admin/retention');
    const remaining = (await t.kernel.service.listRuns({}, { limit: 500 })).runs.map((r) => r.id);
    expect(remaining).to.deep.equal([busy[7], busy[6], old[4], old[3]]);
    const preview = parseBody('json', (await get('?format=json')).text) as Preview & { lastPrune: { byAge: number } };
    expect(preview).to.deep.include({ byAge: 0, perTask: [], oldest: [] });
    expect(preview.lastPrune.byAge).to.equal(9);
    const again = parseBody('json', await (await fetch(`${t.kernel.url}/admin/retention/prune?format=json`)).text()) as { byAge: number; bySize: number };
    // Over the 1-byte budget, nothing more can go: each task keeps its latest 2.
    expect(again).to.deep.include({ byAge: 0, bySize: 0 });
  });
});

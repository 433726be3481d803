import { expect } from 'chai';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { rawRequest } from './http-client.js';

describe('presets over HTTP', () => {
  let t: TestKernel;
  let calls = 0;
  before(async () => {
    t = await bootKernel({ listen: true });
    t.kernel.registerTask({
      key: 'export',
      strictArgs: true,
      fields: [{ key: 'format', choices: ['csv', 'json'], default: 'csv' }, { key: 'rows', type: 'int', default: 10 }, { key: 'gzip', type: 'bool' }],
      run: ({ args }) => {
        calls += 1;
        return args;
      },
    });
  });
  after(() => t.cleanup());

  it('saves the form values as a new task (redirecting a browser to it) that runs with them as defaults', async () => {
    const res = await rawRequest(t.kernel.url, '/admin/task/export/preset?format=json&rows=500&gzip=on&_checkboxes=1&presetKey=export-big&presetTitle=Big+export&category=x', { headers: { 'Sec-Fetch-Site': 'same-origin' } });
    expect(res.status).to.equal(302);
    expect(res.headers.location).to.equal('/admin/task/export-big');
    const task = JSON.parse((await rawRequest(t.kernel.url, '/admin/task/export-big?t=json')).body) as { title: string; source: unknown; fields: { key: string; default: unknown }[] };
    expect(task.title).to.equal('Big export');
    expect(task.source).to.deep.equal({ kind: 'preset', base: 'export' });
    expect(task.fields.map((f) => [f.key, f.default])).to.deep.equal([['format', 'json'], ['rows', 500], ['gzip', true]]);
    // presetKey, presetTitle and category are not arguments: the strict task runs.
    const run = JSON.parse((await rawRequest(t.kernel.url, '/admin/task/export-big/run?t=json')).body) as { status: string; data: unknown };
    expect(run).to.deep.include({ status: 'ok', data: { format: 'json', rows: 500, gzip: true } });
  });

  it('answers JSON with the new task (201), and refuses a taken or invalid key naming it', async () => {
    const created = await rawRequest(t.kernel.url, '/admin/task/export/preset?t=json&presetKey=export-small&rows=1');
    expect(created.status).to.equal(201);
    expect(JSON.parse(created.body)).to.deep.include({ key: 'export-small', title: 'export-small' });
    const taken = await rawRequest(t.kernel.url, '/admin/task/export/preset?t=json&presetKey=export');
    expect(taken.status).to.equal(409);
    const bad = await rawRequest(t.kernel.url, '/admin/task/export/preset?t=json&presetKey=Not+OK');
    expect(bad.status).to.equal(400);
    expect(JSON.parse(bad.body).message).to.match(/preset key/);
    const badArg = await rawRequest(t.kernel.url, '/admin/task/export/preset?t=json&presetKey=export-x&rows=abc');
    expect(badArg.status).to.equal(400);
    expect(JSON.parse(badArg.body).message).to.contain('field "rows"');
  });

  it('is a state change: refused cross-site and as a prefetch, and nothing is saved', async () => {
    const refused: Record<string, string>[] = [{ 'Sec-Fetch-Site': 'cross-site' }, { 'Sec-Purpose': 'prefetch' }, { Origin: 'https://evil.example' }];
    for (const headers of refused) {
      const res = await rawRequest(t.kernel.url, '/admin/task/export/preset?t=json&presetKey=export-evil', { headers });
      expect(res.status).to.be.oneOf([403, 503]);
    }
    expect(t.kernel.registry.has('export-evil')).to.equal(false);
  });

  it('is removed with /remove, and then 404', async () => {
    const before = calls;
    const removed = await rawRequest(t.kernel.url, '/admin/task/export-small/remove?t=json');
    expect(removed.status).to.equal(200);
    expect((await rawRequest(t.kernel.url, '/admin/task/export-small?t=json')).status).to.equal(404);
    expect(calls).to.equal(before);
  });
});

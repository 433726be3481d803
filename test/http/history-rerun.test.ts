import { expect } from 'chai';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { decodeEntities } from './http-client.js';

/** The "Run again with these args" href of a run page, decoded; null when the page has none. */
function runAgainHref(html: string): string | null {
  const match = /<a class="btn btn-primary" href="([^"]+)"><span class="icon"[^>]*>[\s\S]*?<\/span><span>Run again with these args<\/span><\/a>/.exec(html);
  return match ? decodeEntities(match[1]!) : null;
}

const WARNING = "The task's code changed since";

describe('run again as then: the task version of a past run', () => {
  let t: TestKernel;
  let url: string;
  const fields = [{ key: 'name' }, { key: 'times', type: 'int' as const, default: 1 }];

  before(async () => {
    t = await bootKernel({ listen: true });
    url = t.kernel.url;
  });
  after(() => t.cleanup());

  const page = async (path: string) => {
    const res = await fetch(url + path);
    return { status: res.status, html: await res.text() };
  };

  it('warns on the form reached from a run whose task code has changed since, naming both versions', async () => {
    const v1 = t.kernel.registerTask({ key: 'greet', fields, run: ({ args }) => `hi ${String(args.name)}` });
    const old = await t.kernel.service.run('greet', { name: 'ada', times: 2 }, { label: 'then' });
    t.kernel.removeTask('greet');
    const v2 = t.kernel.registerTask({ key: 'greet', fields, run: ({ args }) => `hello ${String(args.name)}` });
    expect(v2.version).to.not.equal(v1.version);

    const run = await page(`/admin/run/${old.id}`);
    expect(run.status).to.equal(200);
    const href = runAgainHref(run.html)!;
    expect(href).to.not.equal(null);
    const link = new URL(href, url);
    expect(link.pathname).to.equal('/admin/task/greet');
    expect(Object.fromEntries(link.searchParams)).to.deep.equal({ name: 'ada', times: '2', category: 'then', from: old.id });
    // The run page itself says so next to the button.
    expect(decodeEntities(run.html)).to.contain(`${WARNING} this run (version <code>${v1.version}</code> → <code>${v2.version}</code>).`);

    const form = await page(href);
    expect(form.status).to.equal(200);
    const text = decodeEntities(form.html.replace(/<[^>]+>/g, ''));
    expect(text).to.contain(`${WARNING} this run (version ${v1.version} → ${v2.version}).`);
    // Before running: the form holds the old run's args, and nothing ran.
    expect(form.html).to.match(/<input type="text" id="[^"]+" name="name" value="ada"/);
    expect((await t.kernel.service.listRuns({ task: ['greet'] })).runs).to.have.length(1);
  });

  it('does not warn when the code is the same, for another task\'s run, or for a run id that does not exist', async () => {
    const same = await t.kernel.service.run('greet', { name: 'bob' });
    const runHtml = (await page(`/admin/run/${same.id}`)).html;
    expect(runHtml).to.not.contain(WARNING);
    const form = await page(runAgainHref(runHtml)!);
    expect(form.status).to.equal(200);
    expect(form.html).to.not.contain(WARNING);

    t.kernel.registerTask({ key: 'other', run: () => 1 });
    const other = await t.kernel.service.run('other', {});
    for (const from of [other.id, '00000000-0000-4000-8000-000000000000', 'not-a-run', '']) {
      const res = await page(`/admin/task/greet?from=${encodeURIComponent(from)}`);
      expect(res.status, from).to.equal(200);
      expect(res.html, from).to.not.contain(WARNING);
    }
  });

  it('answers taskVersion and currentTaskVersion in the JSON of a run', async () => {
    const runs = (await t.kernel.service.listRuns({ task: ['greet'] })).runs;
    const oldest = runs.at(-1)!;
    const body = (await (await fetch(`${url}/admin/run/${oldest.id}?format=json`)).json()) as Record<string, unknown>;
    expect(body.taskVersion).to.equal(oldest.taskVersion);
    expect(body.currentTaskVersion).to.equal(t.kernel.registry.require('greet').version);
    expect(body.taskVersion).to.not.equal(body.currentTaskVersion);
    expect((body.metadata as Record<string, unknown>).taskVersion).to.equal(oldest.taskVersion);
  });

  it('says the task no longer exists instead of linking to it, and answers currentTaskVersion null', async () => {
    t.kernel.registerTask({ key: 'gone', fields: [{ key: 'x' }], run: () => 'bye' });
    const run = await t.kernel.service.run('gone', { x: '1' });
    t.kernel.removeTask('gone');
    const { status, html } = await page(`/admin/run/${run.id}`);
    expect(status).to.equal(200);
    expect(runAgainHref(html)).to.equal(null);
    expect(html).to.not.contain('/admin/task/gone?');
    expect(html).to.not.contain('data-copy-text');
    expect(decodeEntities(html.replace(/<[^>]+>/g, ''))).to.contain('The task gone no longer exists, so this run cannot be run again.');
    const body = (await (await fetch(`${url}/admin/run/${run.id}?format=json`)).json()) as Record<string, unknown>;
    expect(body).to.include({ taskVersion: run.metadata.taskVersion, currentTaskVersion: null });
  });

  it('keeps `from` out of a task\'s args (a reserved key), unless the task declares a field named from', async () => {
    t.kernel.registerTask({ key: 'loose', run: ({ args }) => args });
    const loose = (await (await fetch(`${url}/admin/task/loose/run?from=abc&x=1&t=json`)).json()) as { args: Record<string, unknown> };
    expect(loose.args).to.deep.equal({ x: '1' });
    t.kernel.registerTask({ key: 'range', fields: [{ key: 'from' }, { key: 'to' }], run: ({ args }) => args });
    const range = (await (await fetch(`${url}/admin/task/range/run?from=2024-01-01&to=2024-02-01&t=json`)).json()) as { id: string; args: Record<string, unknown> };
    expect(range.args).to.deep.equal({ from: '2024-01-01', to: '2024-02-01' });
    // Its run-again link carries its own `from` only.
    const href = runAgainHref((await page(`/admin/run/${range.id}`)).html)!;
    expect(new URL(href, url).searchParams.getAll('from')).to.deep.equal(['2024-01-01']);
  });
});

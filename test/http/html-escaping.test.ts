import { expect } from 'chai';
import { bootKernel, type TestKernel } from '../helpers/boot-kernel.js';
import { parseBody, rawRequest } from './http-client.js';

const SCRIPT = '<script>alert(1)</script>';
const IMG = '"><img src=x onerror=alert(1)>';
const SCRIPT_ESCAPED = '&lt;script&gt;alert(1)&lt;/script&gt;';
const IMG_ESCAPED = '&quot;&gt;&lt;img src=x onerror=alert(1)&gt;';

/** No markup from a payload made it into the page as markup. */
function expectNoInjectedMarkup(html: string, where: string): void {
  expect(html, where).to.not.contain(SCRIPT);
  expect(html, where).to.not.contain(IMG);
  expect(html, where).to.not.match(/<img\b/i);
  // The only script element is ours, loaded from a file with the request's nonce.
  for (const tag of html.match(/<script\b[^>]*>/gi) ?? []) expect(tag, where).to.match(/^<script src="\/admin\/static\/taskdeck\.js" nonce="[^"]+" defer>$/);
  // No event-handler attribute on any element (attribute values are quoted, so strip them first).
  for (const tag of html.match(/<[a-z][^>]*>/gi) ?? []) expect(tag.replace(/="[^"]*"/g, ''), where).to.not.match(/\son[a-z]+/i);
  expect(html, where).to.not.match(/href="\s*javascript:/i);
}

describe('HTML escaping of everything a task, a run or a request carries', () => {
  let t: TestKernel;
  let url: string;
  let okRun: string;
  let failedRun: string;

  before(async () => {
    t = await bootKernel({
      listen: true,
      plugins: {
        'broken.ts': `throw new Error(${JSON.stringify(`${SCRIPT} ${IMG}`)});`,
        [`${IMG}.ts`]: `throw new Error('from a file with a hostile name');`,
      },
    });
    url = t.kernel.url;
    t.kernel.registerTask({
      key: 'hostile',
      title: `${SCRIPT} ${IMG}`,
      category: `${SCRIPT} cat`,
      icon: `${IMG}`,
      description: `${SCRIPT} ${IMG} description`,
      tags: [SCRIPT, IMG],
      dangerous: `${SCRIPT} ${IMG} danger`,
      // A javascript: webURL is refused at registration (test/tasks/registry.test.ts); a path can still carry quotes.
      webURL: '/host"><img src=x onerror=alert(1)>',
      fields: [
        { key: 'pick', title: `${SCRIPT} title`, description: `${IMG} help`, choices: [SCRIPT, IMG, 'plain'], default: 'plain' },
        { key: 'n', type: 'int', default: 1, description: IMG },
        { key: 'many', type: '[]string', choices: [SCRIPT, IMG] },
      ],
      run: ({ log, result }) => {
        log(`${SCRIPT} ${IMG}`);
        log(`\u001b[31m${SCRIPT}\u001b[0m`);
        result.addTags(`${IMG} tag`);
        return { [SCRIPT]: IMG, nested: [SCRIPT, { deeper: IMG }] };
      },
    });
    t.kernel.registerTask({
      key: 'hostile-fail',
      title: 'Fails',
      run: () => {
        throw new Error(`${SCRIPT} ${IMG}`);
      },
    });
    const hostile = await (await fetch(`${url}/admin/task/hostile/run?format=json&pick=${encodeURIComponent(IMG)}&category=${encodeURIComponent(SCRIPT)}&extra=${encodeURIComponent(IMG)}`)).json();
    okRun = (hostile as { id: string }).id;
    failedRun = (await t.kernel.service.run('hostile-fail')).id;
  });
  after(() => t.cleanup());

  const page = async (path: string): Promise<string> => {
    const res = await fetch(url + path, { redirect: 'manual' });
    expect(res.headers.get('content-type'), path).to.match(/^text\/html/);
    return res.text();
  };

  it('escapes the task list: titles, descriptions, categories, tags and plugin failures', async () => {
    const html = await page('/admin/task');
    expectNoInjectedMarkup(html, 'task list');
    expect(html).to.contain(SCRIPT_ESCAPED).and.contain(IMG_ESCAPED);
    expect(t.kernel.plugins.failures().length).to.be.greaterThan(0);
    expect(html).to.contain('from a file with a hostile name');
  });

  it('escapes the task page: fields, choices, help text, the danger warning and links', async () => {
    const html = await page('/admin/task/hostile');
    expectNoInjectedMarkup(html, 'task detail');
    expect(html).to.contain(SCRIPT_ESCAPED).and.contain(IMG_ESCAPED);
    expect(html).to.contain('danger');
  });

  it('escapes a form filled from the query string', async () => {
    const html = await page(`/admin/task/hostile?pick=${encodeURIComponent(SCRIPT)}&category=${encodeURIComponent(IMG)}&n=${encodeURIComponent(IMG)}`);
    expectNoInjectedMarkup(html, 'task detail with query');
  });

  it('escapes the form re-rendered for a bad value, and its error message', async () => {
    const res = await fetch(`${url}/admin/task/hostile/run?n=${encodeURIComponent(IMG)}&pick=${encodeURIComponent(SCRIPT)}`);
    expect(res.status).to.equal(400);
    const html = await res.text();
    expectNoInjectedMarkup(html, 'form with errors');
    expect(html).to.contain('expected an integer');
  });

  it('escapes a sync run result: data, logs, label, tags and args', async () => {
    const html = await page(`/admin/task/hostile/run?pick=${encodeURIComponent(IMG)}&category=${encodeURIComponent(SCRIPT)}&extra=${encodeURIComponent(SCRIPT)}`);
    expectNoInjectedMarkup(html, 'run result');
    expect(html).to.contain(SCRIPT_ESCAPED);
    // The ANSI colour survives as a class span around the escaped text.
    expect(html).to.contain(`<span class="ansi-red-fg">${SCRIPT_ESCAPED}</span>`);
  });

  it('escapes the live page, including the start path it embeds', async () => {
    const html = await page(`/admin/task/hostile/run?async=true&pick=${encodeURIComponent(IMG)}&category=${encodeURIComponent(SCRIPT)}`);
    expectNoInjectedMarkup(html, 'live page');
  });

  it('escapes a finished run page and a failed one', async () => {
    const ok = await page(`/admin/run/${okRun}`);
    expectNoInjectedMarkup(ok, 'run detail');
    expect(ok).to.contain(SCRIPT_ESCAPED);
    const failed = await page(`/admin/run/${failedRun}`);
    expectNoInjectedMarkup(failed, 'failed run detail');
    expect(failed).to.contain(SCRIPT_ESCAPED).and.contain(IMG_ESCAPED);
  });

  it('escapes the history page and its filter form', async () => {
    expectNoInjectedMarkup(await page('/admin/run'), 'history');
    expectNoInjectedMarkup(await page(`/admin/run?run=${encodeURIComponent(SCRIPT)}&tag=${encodeURIComponent(IMG)}&task=${encodeURIComponent(IMG)}`), 'filtered history');
  });

  it('escapes error pages that echo the request', async () => {
    for (const path of [`/admin/task/${encodeURIComponent(IMG)}`, `/admin/run/${encodeURIComponent(SCRIPT)}`, `/nope/${encodeURIComponent(SCRIPT)}`, `/admin/run?status=${encodeURIComponent(IMG)}`, `/admin/task?format=${encodeURIComponent(SCRIPT)}`]) {
      const res = await rawRequest(url, path);
      expect(res.status, path).to.be.oneOf([400, 404]);
      expectNoInjectedMarkup(res.body, path);
    }
  });

  it('escapes the payloads in XML and keeps them intact in JSON', async () => {
    const xml = await (await fetch(`${url}/admin/run/${okRun}?format=xml`)).text();
    expect(xml).to.not.contain(SCRIPT).and.not.contain('<img');
    const fromXml = parseBody('xml', xml) as { run: string };
    expect(fromXml.run).to.equal(SCRIPT);
    const json = (await (await fetch(`${url}/admin/run/${okRun}?format=json`)).json()) as { run: string; data: Record<string, unknown>; args: Record<string, unknown> };
    expect(json.run).to.equal(SCRIPT);
    expect(json.data[SCRIPT]).to.equal(IMG);
    expect(json.args).to.deep.include({ pick: IMG, extra: IMG });
  });
});

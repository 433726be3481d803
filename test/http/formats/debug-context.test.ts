import { expect } from 'chai';
import { REDACTED, debugContext, type DebugInput } from '../../../core/http/formats/debug-context.js';

function input(overrides: Partial<DebugInput> = {}): DebugInput {
  return {
    method: 'GET',
    url: '/admin/task/backup?format=debug',
    path: '/admin/task/backup',
    query: { format: 'debug' },
    headers: { host: '127.0.0.1:4000', accept: 'text/plain' },
    data: { key: 'backup' },
    action: 'task.detail',
    ...overrides,
  };
}

describe('debugContext', () => {
  it('shows the action, the request and the data', () => {
    expect(debugContext(input())).to.deep.equal({
      action: 'task.detail',
      request: {
        method: 'GET',
        url: '/admin/task/backup?format=debug',
        path: '/admin/task/backup',
        query: { format: 'debug' },
        headers: { host: '127.0.0.1:4000', accept: 'text/plain' },
      },
      data: { key: 'backup' },
    });
  });

  it('redacts cookies, authorization and the taskdeck token, in any case', () => {
    const headers = {
      cookie: 'sid=secret',
      authorization: 'Bearer secret',
      'proxy-authorization': 'Basic secret',
      'set-cookie': ['a=secret', 'b=secret'],
      'X-Taskdeck-Token': 'secret',
      'user-agent': 'curl/8',
      'x-missing': undefined,
    };
    const context = debugContext(input({ headers }));
    expect(context.request.headers).to.deep.equal({
      cookie: REDACTED,
      authorization: REDACTED,
      'proxy-authorization': REDACTED,
      'set-cookie': REDACTED,
      'X-Taskdeck-Token': REDACTED,
      'user-agent': 'curl/8',
    });
    expect(JSON.stringify(context)).to.not.contain('secret');
  });

  it('redacts a query parameter named token, in the query and in the URL', () => {
    const context = debugContext(
      input({
        url: '/admin/run?token=secret&q=a%20b&Token=secret2&%74oken=secret3&tokenish=kept#frag',
        query: { token: 'secret', q: 'a b', Token: ['secret2', 'x'], tokenish: 'kept' },
      }),
    );
    expect(context.request.query).to.deep.equal({ token: REDACTED, q: 'a b', Token: REDACTED, tokenish: 'kept' });
    expect(context.request.url).to.equal(
      `/admin/run?token=${REDACTED}&q=a%20b&Token=${REDACTED}&%74oken=${REDACTED}&tokenish=kept#frag`,
    );
    expect(JSON.stringify(context)).to.not.contain('secret');
  });

  it('leaves a URL without a query, or with malformed escapes, intact', () => {
    expect(debugContext(input({ url: '/admin/task' })).request.url).to.equal('/admin/task');
    expect(debugContext(input({ url: '/a?%E0%A4%A=1&token' })).request.url).to.equal(`/a?%E0%A4%A=1&token=${REDACTED}`);
  });

  it('normalises the data so the body always serialises', () => {
    const data: Record<string, unknown> = { big: 1n, when: new Date(0) };
    data.self = data;
    const context = debugContext(input({ data, query: { n: 2n } }));
    expect(JSON.parse(JSON.stringify(context))).to.deep.include({
      data: { big: '1', when: '1970-01-01T00:00:00.000Z', self: '[Circular]' },
    });
    expect(context.request.query).to.deep.equal({ n: '2' });
  });

  it('keeps a "__proto__" query key as data', () => {
    const query = JSON.parse('{"__proto__": "x"}') as Record<string, unknown>;
    const context = debugContext(input({ query }));
    expect(Object.keys(context.request.query)).to.deep.equal(['__proto__']);
    expect(Object.getPrototypeOf(context.request.query)).to.equal(Object.prototype);
  });
});

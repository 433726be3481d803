import { expect } from 'chai';
import { serialize, serializeStream, type DataFormat } from '../../../core/http/formats/serialize.js';
import { RESULT, TASK_LIST, collect, fromArray, hostileList, parseCsv, parseYamlBoth } from './fixtures.js';

const FORMATS: readonly DataFormat[] = ['json', 'csv', 'xml', 'yaml'];

function runRows(count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `run-${i}`,
    task: i % 3 ? 'backup' : 'testbed',
    status: i % 5 ? 'ok' : 'error',
    started: new Date(Date.UTC(2024, 0, 1, 0, 0, i)),
    elapsed: i * 1000,
    args: { n: i, tags: ['a', `b${i}`] },
    error: i % 5 ? null : `failed: <${i}> & "quoted"`,
  }));
}

const DATASETS: Array<[string, Record<string, unknown>[]]> = [
  ['an empty list', []],
  ['one row', [{ id: 'only' }]],
  ['the task list', TASK_LIST],
  ['Results with nested data', [RESULT, RESULT]],
  ['hostile values', hostileList()],
  ['2 000 runs, across many chunks', runRows(2000)],
];

describe('serializeStream', () => {
  for (const format of FORMATS) {
    for (const [name, rows] of DATASETS) {
      it(`${format}: writes exactly what serialize writes, for ${name}`, async () => {
        const streamed = await collect(serializeStream(format, 'runs', fromArray(rows)));
        expect(streamed).to.equal(serialize(format, 'runs', rows));
      });
    }
  }

  for (const format of ['json', 'xml', 'yaml'] as const) {
    for (const [name, rows] of DATASETS) {
      it(`${format}: with wrapKey, writes what serialize writes for { runs, next: null }, for ${name}`, async () => {
        const streamed = await collect(serializeStream(format, 'runs', fromArray(rows), { wrapKey: 'runs' }));
        expect(streamed).to.equal(serialize(format, 'runs', { runs: rows, next: null }));
      });
    }
  }

  it('json: the wrapped shape parses as { runs: [...], next: null }', async () => {
    const text = await collect(serializeStream('json', 'runs', fromArray([{ id: 1 }, { id: 2 }]), { wrapKey: 'runs' }));
    expect(JSON.parse(text)).to.deep.equal({ runs: [{ id: 1 }, { id: 2 }], next: null });
  });

  it('yaml: the wrapped shape parses as { runs: [...], next: null }', async () => {
    const text = await collect(serializeStream('yaml', 'runs', fromArray([{ id: 'yes' }]), { wrapKey: 'runs' }));
    expect(parseYamlBoth(text)).to.deep.equal({ runs: [{ id: 'yes' }], next: null });
  });

  it('csv: ignores wrapKey, rows are rows', async () => {
    const rows = runRows(3);
    const text = await collect(serializeStream('csv', 'runs', fromArray(rows), { wrapKey: 'runs' }));
    expect(text).to.equal(serialize('csv', 'runs', rows));
  });

  it('csv: takes the header from columns, for rows of different shapes', async () => {
    const rows = [{ a: 1 }, { b: 2, c: 3 }, { a: 4, d: 5 }];
    const columns = ['a', 'b', 'c'];
    const text = await collect(serializeStream('csv', 'runs', fromArray(rows), { columns }));
    expect(text).to.equal(serialize('csv', 'runs', rows, { columns }));
    expect(text).to.equal('a,b,c\n1,,\n,2,3\n4,,\n');
  });

  it('csv: writes the header alone for no rows when columns are given', async () => {
    expect(await collect(serializeStream('csv', 'runs', fromArray([]), { columns: ['id', 'status'] }))).to.equal('id,status\n');
  });

  it('csv: without columns, the header is the first row\'s keys (later extra keys are left out)', async () => {
    const text = await collect(serializeStream('csv', 'runs', fromArray([{ a: 1 }, { a: 2, extra: 3 }])));
    expect(parseCsv(text)).to.deep.equal([['a'], ['1'], ['2']]);
  });

  it('refuses wrapKey "next", which the cursor takes', async () => {
    const error = await serializeStream('json', 'runs', fromArray([]), { wrapKey: 'next' })
      .next()
      .then(() => undefined, (thrown: unknown) => thrown);
    expect(error).to.be.instanceOf(TypeError);
  });

  it('stops with the error of a source that fails midway', async () => {
    async function* failing(): AsyncGenerator<Record<string, unknown>> {
      yield { id: 1 };
      throw new Error('database gone');
    }
    const error = await collect(serializeStream('json', 'runs', failing())).then(() => undefined, (thrown: unknown) => thrown);
    expect(error).to.be.instanceOf(Error).with.property('message', 'database gone');
  });

  for (const format of FORMATS) {
    it(`${format}: yields before the source is exhausted`, async () => {
      const total = 100_000;
      let pulled = 0;
      async function* source(): AsyncGenerator<Record<string, unknown>> {
        for (let i = 0; i < total; i++) {
          pulled++;
          yield { id: `run-${i}`, status: 'ok', args: { n: i } };
        }
      }
      const chunks = serializeStream(format, 'runs', source(), { columns: ['id', 'status', 'args'] });
      const first = await chunks.next();
      expect(first.done).to.equal(false);
      expect(pulled).to.be.above(0).and.below(1000);
      await chunks.return(undefined);
    });

    it(`${format}: reads an endless source chunk by chunk and closes it when the reader stops`, async () => {
      let closed = false;
      async function* endless(): AsyncGenerator<Record<string, unknown>> {
        try {
          for (let i = 0; ; i++) yield { id: i, note: 'x'.repeat(100) };
        } finally {
          closed = true;
        }
      }
      let chunks = 0;
      for await (const chunk of serializeStream(format, 'runs', endless())) {
        expect(chunk.length).to.be.below(64 * 1024);
        if (++chunks === 3) break;
      }
      expect(closed).to.equal(true);
    });
  }
});

import { expect } from 'chai';
import { CIRCULAR, MAX_DEPTH, TOO_DEEP, toPlain } from '../../core/tasks/to-plain.js';

describe('toPlain', () => {
  it('returns plain JSON data unchanged in value', () => {
    const data = { a: 1, b: 'two', c: [true, false, null], d: { e: { f: [1.5, -2] } } };
    expect(toPlain(data)).to.deep.equal(data);
  });

  it('writes a BigInt as its decimal string', () => {
    expect(toPlain({ big: 9007199254740993n, neg: -12n, boxed: Object(5n) })).to.deep.equal({
      big: '9007199254740993',
      neg: '-12',
      boxed: '5',
    });
  });

  it('replaces a cycle by "[Circular]" but copies an object shared by two paths', () => {
    const shared = { s: 1 };
    const node: Record<string, unknown> = { name: 'root', shared, again: shared };
    node.self = node;
    node.list = [node, { back: node }];
    expect(toPlain(node)).to.deep.equal({
      name: 'root',
      shared: { s: 1 },
      again: { s: 1 },
      self: CIRCULAR,
      list: [CIRCULAR, { back: CIRCULAR }],
    });
  });

  it('drops undefined, functions and symbols in objects and nulls them in arrays', () => {
    const value = { u: undefined, f: () => 1, s: Symbol('x'), [Symbol('k')]: 1, keep: 0, list: [undefined, () => 1, Symbol('y'), 1] };
    expect(toPlain(value)).to.deep.equal({ keep: 0, list: [null, null, null, 1] });
  });

  it('turns a top-level undefined, function or symbol into null', () => {
    expect(toPlain(undefined)).to.equal(null);
    expect(toPlain(() => 1)).to.equal(null);
    expect(toPlain(Symbol('x'))).to.equal(null);
  });

  it('spells NaN and the infinities as strings and -0 as 0', () => {
    expect(toPlain([NaN, Infinity, -Infinity, -0, Object(NaN)])).to.deep.equal(['NaN', 'Infinity', '-Infinity', 0, 'NaN']);
    expect(Object.is((toPlain([-0]) as number[])[0], 0)).to.equal(true);
  });

  it('writes a Date as ISO 8601 and an invalid one as null', () => {
    expect(toPlain({ at: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)), bad: new Date('nope') })).to.deep.equal({
      at: '2024-01-02T03:04:05.006Z',
      bad: null,
    });
  });

  it('turns a Map into an object with string keys and a Set into an array', () => {
    const map = new Map<unknown, unknown>([
      ['a', 1],
      [2, new Set(['x', 'y'])],
      [{ k: 1 }, 'object key'],
      ['gone', undefined],
    ]);
    expect(toPlain(map)).to.deep.equal({ a: 1, '2': ['x', 'y'], '{"k":1}': 'object key' });
  });

  it('writes a Buffer, a TypedArray view and an ArrayBuffer as base64', () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 251, 252, 253]);
    expect(toPlain({ buffer: Buffer.from('hi') })).to.deep.equal({ buffer: { type: 'Buffer', base64: 'aGk=' } });
    expect(toPlain(bytes.subarray(3))).to.deep.equal({ type: 'Buffer', base64: Buffer.from([250, 251, 252, 253]).toString('base64') });
    expect(toPlain(bytes.buffer)).to.deep.equal({ type: 'Buffer', base64: Buffer.from(bytes).toString('base64') });
    expect(toPlain(new Float64Array([1]))).to.deep.equal({ type: 'Buffer', base64: Buffer.from(new Float64Array([1]).buffer).toString('base64') });
  });

  it('writes an Error as its name and message', () => {
    expect(toPlain({ error: new TypeError('bad thing') })).to.deep.equal({ error: { name: 'TypeError', message: 'bad thing' } });
  });

  it('reads a class instance by its own enumerable properties; a prototype getter is not called', () => {
    class Point {
      hidden = 0;
      constructor(
        public x: number,
        public y: number,
      ) {}
      get explodes(): number {
        throw new Error('never read');
      }
    }
    expect(toPlain(new Point(1, 2))).to.deep.equal({ hidden: 0, x: 1, y: 2 });
  });

  it('marks an own getter that throws, and keeps the other properties', () => {
    const value = { ok: 1 };
    Object.defineProperty(value, 'boom', {
      enumerable: true,
      get() {
        throw new Error('no access');
      },
    });
    expect(toPlain(value)).to.deep.equal({ ok: 1, boom: '[Unserializable: no access]' });
  });

  it('survives a Proxy whose traps throw', () => {
    const hostile = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('trap');
        },
      },
    );
    expect(toPlain({ hostile })).to.deep.equal({ hostile: '[Unserializable: trap]' });
  });

  it('honours toJSON, and survives one that throws or returns itself', () => {
    const self = {
      a: 1,
      toJSON() {
        return this;
      },
    };
    const value = {
      custom: { toJSON: (key: string) => `custom at ${key}` },
      throws: {
        toJSON() {
          throw new Error('toJSON failed');
        },
      },
      self,
      url: new URL('https://example.com/a?b=1'),
    };
    const plain = toPlain(value) as Record<string, unknown>;
    expect(plain.custom).to.equal('custom at custom');
    expect(plain.throws).to.equal('[Unserializable: toJSON failed]');
    expect(plain.self).to.deep.equal({ a: 1 });
    expect(plain.url).to.equal('https://example.com/a?b=1');
  });

  it('cuts nesting deeper than 64 levels, 1000 levels deep, without throwing', () => {
    let deep: Record<string, unknown> = { bottom: true };
    for (let i = 0; i < 1000; i++) deep = { next: deep };
    let plain = toPlain(deep);
    let depth = 0;
    while (typeof plain === 'object' && plain !== null) {
      plain = (plain as Record<string, unknown>).next;
      depth++;
    }
    expect(plain).to.equal(TOO_DEEP);
    expect(depth).to.equal(MAX_DEPTH + 1);
    expect(() => JSON.stringify(toPlain(deep))).to.not.throw();
  });

  it('cuts deep arrays and endless toJSON chains the same way', () => {
    let deep: unknown[] = [];
    for (let i = 0; i < 1000; i++) deep = [deep];
    expect(JSON.stringify(toPlain(deep))).to.contain(TOO_DEEP);
    const endless = { toJSON: (): unknown => ({ toJSON: endless.toJSON }) };
    expect(toPlain(endless)).to.equal(TOO_DEEP);
  });

  it('keeps a "__proto__" key as data, never as a prototype', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as unknown;
    const plain = toPlain(value) as Record<string, unknown>;
    expect(Object.getPrototypeOf(plain)).to.equal(Object.prototype);
    expect(Object.keys(plain)).to.deep.equal(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    expect(JSON.stringify(plain)).to.equal('{"__proto__":{"polluted":true},"a":1}');
  });

  it('keeps every string as is (lone surrogates included); formats repair them', () => {
    expect(toPlain(['\uD800', '\u0000', '😀'])).to.deep.equal(['\uD800', '\u0000', '😀']);
  });

  it('unboxes String and Boolean objects, writes a RegExp as its source', () => {
    expect(toPlain([Object('s'), Object(false), /a+b/gi])).to.deep.equal(['s', false, '/a+b/gi']);
  });

  it('is fast on plain data: 100 000 rows in well under a second', () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => ({ id: i, key: `task-${i}`, tags: ['a', 'b'], args: { n: i } }));
    const started = performance.now();
    const plain = toPlain(rows) as unknown[];
    expect(plain).to.have.length(100_000);
    expect(performance.now() - started).to.be.below(1000);
  });
});

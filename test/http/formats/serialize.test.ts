import { expect } from 'chai';
import { create, type fragment } from 'xmlbuilder2';
import { serialize, type DataFormat } from '../../../core/http/formats/serialize.js';
import { toPlain } from '../../../core/tasks/to-plain.js';
import {
  HOSTILE_KEYS,
  HOSTILE_STRINGS,
  ONE_MB,
  RESULT,
  TASK_LIST,
  define,
  expectWellFormedXml,
  hostileList,
  hostileRecord,
  mapStrings,
  parseCsv,
  parseXml,
  parseYamlBoth,
  wellFormed,
  xmlSafe,
  xmlView,
} from './fixtures.js';

const FORMATS: readonly DataFormat[] = ['json', 'csv', 'xml', 'yaml'];

/** What a spreadsheet-safe cell holds for a string. */
function guarded(text: string): string {
  const safe = wellFormed(text);
  return /^[=+\-@\t\r]/.test(safe) ? `'${safe}` : safe;
}

describe('serialize: json', () => {
  it('writes a task list as a two-space indented array', () => {
    const text = serialize('json', 'tasks', TASK_LIST);
    expect(text).to.equal(JSON.stringify(TASK_LIST, null, 2));
    expect(JSON.parse(text)).to.deep.equal(TASK_LIST);
  });

  it('round-trips a Result with nested data', () => {
    expect(JSON.parse(serialize('json', 'result', RESULT))).to.deep.equal(RESULT);
  });

  it('writes an empty list as []', () => {
    expect(serialize('json', 'tasks', [])).to.equal('[]');
  });

  it('keeps every hostile string exactly, lone surrogates escaped', () => {
    const record = hostileRecord();
    const text = serialize('json', 'result', record);
    expect(JSON.parse(text)).to.deep.equal(record);
    expect(text).to.contain('\\ud800').and.contain('\\udc00');
    expect(text).to.not.match(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(text).to.not.contain('<script>alert(1)</script>\\u');
  });

  it('carries a 1 MB string', () => {
    expect(JSON.parse(serialize('json', 'result', { big: ONE_MB }))).to.deep.equal({ big: ONE_MB });
  });
});

describe('serialize: yaml', () => {
  const expected = (data: unknown): unknown => mapStrings(toPlain(data), wellFormed);

  it('round-trips a task list through YAML 1.1 and 1.2 readers', () => {
    expect(parseYamlBoth(serialize('yaml', 'tasks', TASK_LIST))).to.deep.equal(TASK_LIST);
  });

  it('round-trips a Result with nested data', () => {
    expect(parseYamlBoth(serialize('yaml', 'result', RESULT))).to.deep.equal(RESULT);
  });

  it('writes an empty list as []', () => {
    expect(serialize('yaml', 'tasks', [])).to.equal('[]\n');
    expect(parseYamlBoth(serialize('yaml', 'tasks', []))).to.deep.equal([]);
  });

  it('reads every hostile string back as the same string in both YAML versions', () => {
    const values = [...HOSTILE_STRINGS];
    expect(parseYamlBoth(serialize('yaml', 'tasks', values))).to.deep.equal(values.map(wellFormed));
  });

  it('reads hostile keys and values back in both YAML versions', () => {
    const record = hostileRecord();
    expect(parseYamlBoth(serialize('yaml', 'result', record))).to.deep.equal(expected(record));
    expect(parseYamlBoth(serialize('yaml', 'tasks', hostileList()))).to.deep.equal(expected(hostileList()));
  });

  it('quotes strings a YAML 1.1 reader would turn into booleans, numbers, dates or null', () => {
    const text = serialize('yaml', 'tasks', ['yes', 'no', 'on', 'off', 'y', 'n', 'null', '~', '0x10', '1e3', '012', '.inf', '2024-01-02', '1:20', '<<', '=']);
    expect(text).to.equal(
      ['yes', 'no', 'on', 'off', 'y', 'n', 'null', '~', '0x10', '1e3', '012', '.inf', '2024-01-02', '1:20', '<<', '=']
        .map((s) => `- "${s}"\n`)
        .join(''),
    );
  });

  it('quotes a key that would not read back as a string', () => {
    const text = serialize('yaml', 'result', { yes: 1, n: 2, '012': 3, plain: 4 });
    expect(text).to.equal('"yes": 1\n"n": 2\n"012": 3\nplain: 4\n');
  });

  it('keeps real booleans, numbers and null as such', () => {
    const value = { t: true, f: false, n: null, i: -5, x: 0.1, big: 1e21, small: 5e-7 };
    expect(parseYamlBoth(serialize('yaml', 'result', value))).to.deep.equal(value);
  });

  it('escapes characters outside the YAML printable set', () => {
    const text = serialize('yaml', 'result', { c1: 'a\u0080b\u009fc', del: '\u007f', nonchar: '\uFFFE\uFFFF', bom: '\uFEFFx' });
    expect(text).to.not.match(/[\u007F-\u0084\u0086-\u009F\uFEFF\uFFFE\uFFFF]/);
  });

  it('replaces lone surrogates with U+FFFD', () => {
    expect(serialize('yaml', 'result', { s: 'a\uD800b' })).to.equal('s: a\uFFFDb\n');
  });

  it('never writes anchors or aliases for a repeated object', () => {
    const shared = { a: 1, list: [1, 2] };
    const text = serialize('yaml', 'result', { one: shared, two: shared });
    expect(text).to.not.match(/[&*]a\d/);
    expect(parseYamlBoth(text)).to.deep.equal({ one: shared, two: shared });
  });

  it('keeps a 1 MB string on one line', () => {
    const text = serialize('yaml', 'result', { big: ONE_MB });
    expect(text).to.equal(`big: ${ONE_MB}\n`);
  });
});

describe('serialize: xml', () => {
  it('writes a task list as <tasks> of <task>, lists as <item>', () => {
    const text = serialize('xml', 'tasks', TASK_LIST);
    expectWellFormedXml(text);
    expect(text).to.contain('<tasks>\n  <task>\n    <key>backup</key>');
    expect(text).to.contain('<tags>\n      <item>db</item>\n      <item>maintenance</item>\n    </tags>');
    const { root, value } = parseXml(text);
    expect(root).to.equal('tasks');
    expect(value).to.deep.equal(xmlView(TASK_LIST));
  });

  it('writes a Result under <result> with nested maps and lists', () => {
    const { root, value } = parseXml(serialize('xml', 'result', RESULT));
    expect(root).to.equal('result');
    expect(value).to.deep.equal(xmlView(RESULT));
  });

  it('writes a runs list as <runs> of <run>', () => {
    const text = serialize('xml', 'runs', [{ id: 'r1' }, { id: 'r2' }]);
    expect(text).to.equal('<?xml version="1.0" encoding="UTF-8"?>\n<runs>\n  <run>\n    <id>r1</id>\n  </run>\n  <run>\n    <id>r2</id>\n  </run>\n</runs>');
  });

  it('writes an empty list as an empty root', () => {
    const text = serialize('xml', 'tasks', []);
    expect(text).to.equal('<?xml version="1.0" encoding="UTF-8"?>\n<tasks/>');
    expectWellFormedXml(text);
  });

  it('marks null with null="true", and writes booleans and numbers as text', () => {
    const text = serialize('xml', 'result', { none: null, yes: true, no: false, n: -5.5, empty: '' });
    expect(text).to.contain('<none null="true"/>');
    expect(text).to.contain('<yes>true</yes>');
    expect(text).to.contain('<no>false</no>');
    expect(text).to.contain('<n>-5.5</n>');
    expect(text).to.contain('<empty/>');
  });

  it('writes a key that is not an XML name as <entry key="...">', () => {
    const record: Record<string, unknown> = {};
    for (const key of HOSTILE_KEYS) define(record, key, 'v');
    const text = serialize('xml', 'result', record);
    expect(text).to.contain('<entry key="1abc">v</entry>');
    expect(text).to.contain('<entry key="a b">v</entry>');
    expect(text).to.contain('<entry key="xmlfoo">v</entry>');
    expect(text).to.contain('<entry key="XMLbar">v</entry>');
    expect(text).to.contain('<entry key="">v</entry>');
    expect(text).to.contain('<entry key="a:b">v</entry>');
    expect(text).to.contain('<entry key="=key">v</entry>');
    expect(text).to.contain('<entry key="__proto__">v</entry>');
    expect(text).to.contain('<entry key="constructor">v</entry>');
    expect(text).to.contain('<entry key="toString">v</entry>');
    expect(text).to.contain('<ok_key>v</ok_key>');
    expect(text).to.contain('<ключ>v</ключ>');
    expect(parseXml(text).value).to.deep.equal(xmlView(record));
  });

  it('reads every hostile string back, forbidden characters replaced by U+FFFD', () => {
    const record = hostileRecord();
    const text = serialize('xml', 'result', record);
    expectWellFormedXml(text);
    expect(parseXml(text).value).to.deep.equal(mapStrings(xmlView(toPlain(record)), xmlSafe));
    expect(parseXml(serialize('xml', 'tasks', hostileList())).value).to.deep.equal(mapStrings(xmlView(hostileList()), xmlSafe));
  });

  it('escapes markup and entity-looking text instead of passing it through', () => {
    const text = serialize('xml', 'result', { s: '<script>&amp;&nbsp;&#60;</script>' });
    expect(text).to.contain('<s>&lt;script&gt;&amp;amp;&amp;nbsp;&amp;#60;&lt;/script&gt;</s>');
  });

  it('keeps CR, and tab and newline in keys, as character references', () => {
    const text = serialize('xml', 'result', { s: 'a\r\nb\rc', ['k\t\n\r"<>&']: 1 });
    expect(text).to.contain('<s>a&#13;\nb&#13;c</s>');
    expect(text).to.contain('<entry key="k&#9;&#10;&#13;&quot;&lt;&gt;&amp;">1</entry>');
    expect(parseXml(text).value).to.deep.equal({ s: 'a\r\nb\rc', 'k\t\n\r"<>&': '1' });
  });

  it('writes a scalar or null root', () => {
    expect(serialize('xml', 'result', 'OK')).to.equal('<?xml version="1.0" encoding="UTF-8"?>\n<result>OK</result>');
    expect(serialize('xml', 'result', null)).to.equal('<?xml version="1.0" encoding="UTF-8"?>\n<result null="true"/>');
  });

  it('names the items of a list under an Object.prototype key plainly', () => {
    const value = JSON.parse('{"constructor": [1], "toString": [2], "__proto__": [3]}') as unknown;
    const text = serialize('xml', 'result', value);
    expect(text).to.contain('<entry key="constructor">\n    <item>1</item>\n  </entry>');
    expect(parseXml(text).value).to.deep.equal(xmlView(value));
  });

  it('writes nested lists as items of items', () => {
    expect(parseXml(serialize('xml', 'result', { grid: [[1, 2], [3]] })).value).to.deep.equal({ grid: [['1', '2'], ['3']] });
  });

  it('carries a 1 MB string', () => {
    expect(parseXml(serialize('xml', 'result', { big: ONE_MB })).value).to.deep.equal({ big: ONE_MB });
  });

  it('refuses a root that is not an element name: that is a programming error', () => {
    expect(() => serialize('xml', '1 bad', {})).to.throw(TypeError, /XML root/);
  });
});

describe('serialize: xml, against xmlbuilder2 as a reference writer', () => {
  type Builder = ReturnType<typeof fragment>;
  const items: Record<string, string> = { tasks: 'task', runs: 'run' };
  function fill(element: Builder, name: string, value: unknown): void {
    if (value === null) element.att('null', 'true');
    else if (Array.isArray(value)) for (const item of value) fill(element.ele(items[name] ?? 'item'), items[name] ?? 'item', item);
    else if (typeof value === 'object') for (const [key, item] of Object.entries(value)) fill(element.ele(key), key, item);
    else if (String(value) !== '') element.txt(String(value));
  }
  function reference(root: string, value: unknown): string {
    const doc = create({ version: '1.0', encoding: 'UTF-8' });
    fill(doc.ele(root), root, value);
    return doc.end({ prettyPrint: true });
  }

  // Ordinary data only: xmlbuilder2 passes entity-like text through and leaves CR unescaped.
  it('writes the same bytes as xmlbuilder2 pretty-printing for a task list, a Result and runs', () => {
    expect(serialize('xml', 'tasks', TASK_LIST)).to.equal(reference('tasks', TASK_LIST));
    expect(serialize('xml', 'result', RESULT)).to.equal(reference('result', RESULT));
    const runs = { runs: [{ id: 'r1', tags: [], args: { n: 1 } }], next: null };
    expect(serialize('xml', 'runs', runs)).to.equal(reference('runs', runs));
    expect(serialize('xml', 'tasks', [])).to.equal(reference('tasks', []));
  });
});

describe('serialize: csv', () => {
  it('writes a task list as one row per task, header = union of keys, nested values as JSON', () => {
    const rows = parseCsv(serialize('csv', 'tasks', TASK_LIST));
    expect(rows[0]).to.deep.equal(Object.keys(TASK_LIST[0] ?? {}));
    expect(rows).to.have.length(3);
    expect(rows[1]?.[0]).to.equal('backup');
    expect(JSON.parse(rows[1]?.[5] ?? '')).to.deep.equal(['db', 'maintenance']);
    expect(JSON.parse(rows[1]?.[6] ?? '')).to.deep.equal(TASK_LIST[0]?.fields);
    expect(rows[1]?.[8]).to.equal('true');
    expect(rows[2]?.[10]).to.equal('0');
  });

  it('writes a Result as a single row', () => {
    const rows = parseCsv(serialize('csv', 'result', RESULT));
    expect(rows[0]).to.deep.equal(Object.keys(RESULT));
    expect(rows).to.have.length(2);
    const cells = Object.fromEntries((rows[0] ?? []).map((key, i) => [key, rows[1]?.[i]]));
    expect(cells.id).to.equal(RESULT.id);
    expect(JSON.parse(cells.data ?? '')).to.deep.equal(RESULT.data);
    expect(JSON.parse(cells.task ?? '')).to.deep.equal(RESULT.task);
    expect(cells.error).to.equal('');
  });

  it('takes the header from the union of keys in first-seen order; missing cells are empty', () => {
    const text = serialize('csv', 'runs', [{ a: 1, b: 2 }, { c: 3, a: 4 }, { d: null }]);
    expect(text).to.equal('a,b,c,d\n1,2,,\n4,,3,\n,,,\n');
  });

  it('uses the given columns, in order', () => {
    expect(serialize('csv', 'runs', [{ a: 1, b: 2, c: 3 }], { columns: ['c', 'a', 'x'] })).to.equal('c,a,x\n3,1,\n');
  });

  it('writes a scalar, or a list of scalars, in a value column', () => {
    expect(serialize('csv', 'result', 'OK')).to.equal('value\nOK\n');
    expect(serialize('csv', 'result', ['a', 'b'])).to.equal('value\na\nb\n');
    expect(parseCsv(serialize('csv', 'result', [1, { k: 2 }]))).to.deep.equal([['value', 'k'], ['1', ''], ['', '2']]);
  });

  it('writes an empty list as nothing, or just the header when columns are given', () => {
    expect(serialize('csv', 'tasks', [])).to.equal('');
    expect(serialize('csv', 'tasks', [], { columns: ['key', 'title'] })).to.equal('key,title\n');
  });

  it('prefixes formula-like strings with a quote, but not numbers', () => {
    const text = serialize('csv', 'runs', [{ n: -5, s: '-5', f: '=1+1', p: '+1', at: '@SUM(1)', m: '-2+3', t: '\t=1', r: '\r=1', ok: 'a=b' }]);
    expect(parseCsv(text)).to.deep.equal([
      ['n', 's', 'f', 'p', 'at', 'm', 't', 'r', 'ok'],
      ['-5', "'-5", "'=1+1", "'+1", "'@SUM(1)", "'-2+3", "'\t=1", "'\r=1", 'a=b'],
    ]);
  });

  it('guards the header too: keys come from task data', () => {
    expect(serialize('csv', 'runs', [{ '=HYPERLINK("x")': 1 }])).to.equal(`"'=HYPERLINK(""x"")"\n1\n`);
  });

  it('reads every hostile string back exactly (guarded, lone surrogates replaced)', () => {
    const rows = parseCsv(serialize('csv', 'tasks', hostileList()));
    expect(rows[0]).to.deep.equal(['i', 'value', 'negative', 'flag', 'nested']);
    expect(rows.slice(1)).to.deep.equal(
      HOSTILE_STRINGS.map((value, i) => [String(i), guarded(value), String(-5 - i), String(i % 2 === 0), JSON.stringify({ value, list: [value] })]),
    );
  });

  it('reads hostile keys back as the header', () => {
    const record = hostileRecord();
    const rows = parseCsv(serialize('csv', 'result', record));
    expect(rows[0]).to.deep.equal(Object.keys(record).map(guarded));
    expect(rows[1]).to.deep.equal(Object.values(record).map((value) => guarded(String(value))));
  });

  it('ends records with \\n and quotes any field holding a line break', () => {
    const text = serialize('csv', 'runs', [{ a: 'x\ry', b: 'p\nq' }]);
    expect(text).to.equal('a,b\n"x\ry","p\nq"\n');
  });

  it('carries a 1 MB string', () => {
    expect(parseCsv(serialize('csv', 'result', { big: ONE_MB }))).to.deep.equal([['big'], [ONE_MB]]);
  });
});

describe('serialize: anything a task may return (hostile row 43)', () => {
  class Account {
    id = 7;
    constructor() {
      Object.defineProperty(this, 'secret', {
        enumerable: true,
        get() {
          throw new Error('locked');
        },
      });
    }
  }
  function awkward(): Record<string, unknown> {
    const data: Record<string, unknown> = {
      big: 12345678901234567890n,
      missing: undefined,
      fn: () => 1,
      sym: Symbol('s'),
      nan: NaN,
      inf: Infinity,
      when: new Date(Date.UTC(2024, 0, 2)),
      map: new Map([['k', 1]]),
      set: new Set([1, 2]),
      bytes: Buffer.from('hi'),
      account: new Account(),
      error: new RangeError('out'),
    };
    data.self = data;
    return data;
  }
  const plain = {
    big: '12345678901234567890',
    nan: 'NaN',
    inf: 'Infinity',
    when: '2024-01-02T00:00:00.000Z',
    map: { k: 1 },
    set: [1, 2],
    bytes: { type: 'Buffer', base64: 'aGk=' },
    account: { id: 7, secret: '[Unserializable: locked]' },
    error: { name: 'RangeError', message: 'out' },
    self: '[Circular]',
  };

  for (const format of FORMATS) {
    it(`renders in ${format} without throwing`, () => {
      expect(() => serialize(format, 'result', awkward())).to.not.throw();
      expect(() => serialize(format, 'tasks', [awkward(), awkward()])).to.not.throw();
    });
  }

  it('reads back as the normalised data in json, yaml and xml', () => {
    expect(JSON.parse(serialize('json', 'result', awkward()))).to.deep.equal(plain);
    expect(parseYamlBoth(serialize('yaml', 'result', awkward()))).to.deep.equal(plain);
    expect(parseXml(serialize('xml', 'result', awkward())).value).to.deep.equal(xmlView(plain));
  });

  it('reads back as one row in csv', () => {
    const rows = parseCsv(serialize('csv', 'result', awkward()));
    expect(rows[0]).to.deep.equal(Object.keys(plain));
    expect(rows[1]?.[0]).to.equal('12345678901234567890');
    expect(JSON.parse(rows[1]?.[7] ?? '')).to.deep.equal(plain.account);
  });
});

/**
 * Shared data and real-parser helpers for the format tests: a task list, a Result, hostile values, and
 * readers that turn each format back into data (csv-parse, fast-xml-parser, yaml in 1.1 and 1.2 modes).
 */
import { expect } from 'chai';
import { parse as parseCsvText } from 'csv-parse/sync';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parse as parseYamlText } from 'yaml';

export const TASK_LIST = [
  {
    key: 'backup',
    title: 'Database Backup',
    category: 'maintenance',
    icon: 'database',
    description: '',
    tags: ['db', 'maintenance'],
    fields: [{ key: 'format', title: 'Format', type: 'string', default: 'sql', choices: ['sql', 'tar'] }],
    dangerous: 'May lock tables',
    expensive: true,
    webURL: '',
    maxConcurrent: 4,
  },
  {
    key: 'testbed',
    title: 'Testbed',
    category: 'utility',
    icon: 'star',
    description: "Who knows what it'll do?",
    tags: [],
    fields: [{ key: 'project', title: 'Project' }],
    dangerous: '',
    expensive: false,
    webURL: '',
    maxConcurrent: 0,
  },
];

export const RESULT = {
  id: '6f1c7c1e-8a7b-4c1d-9a55-2f0e7d1b9c3a',
  task: TASK_LIST[1],
  run: 'ad-hoc',
  args: { project: 'foo', count: 3, flags: ['a', 'b'] },
  started: '2026-06-25T17:19:12.123Z',
  elapsed: 154,
  status: 'ok',
  summary: '',
  logs: ['Testbed!', 'task [Testbed] completed in [0.154ms]'],
  data: { nested: { deeper: { list: [1, 2.5, -3, { x: null }], ok: true } }, empty: {}, none: [] },
  tags: ['db'],
  metadata: {},
  success: true,
  error: null,
};

/** Strings each format must carry (or visibly repair) without breaking. */
export const HOSTILE_STRINGS: readonly string[] = [
  '<script>alert(1)</script>',
  "=cmd|' /C calc'!A0",
  '+1',
  '@SUM(1)',
  '-2+3',
  '\t=1+1',
  '\r=1+1',
  'NUL\u0000 BEL\u0007 ESC\u001b[31m VT\u000b FF\u000c US\u001f',
  'lone \uD800 high, lone \uDC00 low',
  'emoji 😀 and 👩‍👩‍👧',
  'RTL \u202Egnp.exe',
  'yes', 'no', 'on', 'off', 'y', 'n', 'Yes', 'NO', 'True', '=',
  'null', '~', '', ' ', 'true', 'false',
  '012', '0x10', '1e3', '0o12', '0b101', '1_000', '1:20', '.inf', '-.inf', '.nan', '2024-01-02', '<<',
  '&amp; &lt;b&gt; &nbsp; &#60; &#x3C;',
  'quotes " and \' and \\ and ,;',
  'lines\nand\r\nreturns\rand\ttabs',
  '  leading and trailing  ',
  'C1 \u0080\u0085\u009f DEL \u007f BOM \uFEFF nonchars \uFFFE\uFFFF',
  'line sep \u2028 para sep \u2029 zero width \u200b',
];

export const HOSTILE_KEYS: readonly string[] = ['1abc', 'a b', 'xmlfoo', 'XMLbar', '__proto__', 'constructor', 'toString', '', 'a:b', 'ok_key', '=key', 'ключ'];

export const ONE_MB = 'x'.repeat(1024 * 1024);

/** A record whose keys are hostile and whose values are `HOSTILE_STRINGS` in order. */
export function hostileRecord(): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  HOSTILE_KEYS.forEach((key, i) => define(record, key, HOSTILE_STRINGS[i]));
  HOSTILE_STRINGS.forEach((value, i) => define(record, `s${i}`, value));
  return record;
}

export function hostileList(): Record<string, unknown>[] {
  return HOSTILE_STRINGS.map((value, i) => ({ i, value, negative: -5 - i, flag: i % 2 === 0, nested: { value, list: [value] } }));
}

/** Sets a key even when it is `__proto__`. */
export function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

// ---------- expected text repairs, written independently of the code under test ----------

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

export function xmlSafe(text: string): string {
  return wellFormed(text).replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD');
}

/** Applies `repair` to every string and key of JSON data. */
export function mapStrings(value: unknown, repair: (text: string) => string): unknown {
  if (typeof value === 'string') return repair(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, repair));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) define(out, repair(key), mapStrings(item, repair));
  return out;
}

// ---------- readers ----------

export function parseYamlBoth(text: string): unknown {
  const v11: unknown = parseYamlText(text, { version: '1.1' });
  const v12: unknown = parseYamlText(text, { version: '1.2' });
  expect(v11, 'YAML 1.1 and 1.2 readers disagree').to.deep.equal(v12);
  return v12;
}

export function parseCsv(text: string): string[][] {
  return parseCsvText(text, { bom: false, relax_quotes: false, skip_empty_lines: false }) as string[][];
}

const XML_CHAR = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
const ENTITY = /&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);)/;

/** fast-xml-parser's validator is lenient about characters and entities, so those are checked here. */
export function expectWellFormedXml(text: string): void {
  expect(XMLValidator.validate(text), 'XMLValidator').to.equal(true);
  expect(XML_CHAR.test(text), 'only XML 1.0 characters').to.equal(true);
  expect(ENTITY.test(text), 'only predefined entities and character references').to.equal(false);
  expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n'), 'declaration').to.equal(true);
}

type OrderedNode = Record<string, unknown>;

const xmlParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  htmlEntities: true,
});

/**
 * Reads our XML back into data: `null="true"` is null, repeated `<item>` (or `<task>`/`<run>`) children
 * a list, other children an object (`<entry key>` gives the key), text a string. XML has no types, so
 * compare with `xmlView(data)`.
 */
export function parseXml(text: string): { root: string; value: unknown } {
  expectWellFormedXml(text);
  const nodes = xmlParser.parse(text) as OrderedNode[];
  const rootNode = nodes.find((node) => elementName(node) !== undefined);
  if (!rootNode) throw new Error('no root element');
  const root = elementName(rootNode) ?? '';
  return { root, value: decode(rootNode, root) };
}

function elementName(node: OrderedNode): string | undefined {
  return Object.keys(node).find((key) => key !== ':@' && key !== '#text');
}

function decode(node: OrderedNode, name: string): unknown {
  const attributes = (node[':@'] ?? {}) as Record<string, string>;
  if (attributes['@_null'] === 'true') return null;
  const children = (node[name] ?? []) as OrderedNode[];
  const elements = children.filter((child) => elementName(child) !== undefined);
  if (elements.length === 0) return children.map((child) => String(child['#text'] ?? '')).join('');
  const names = elements.map((child) => elementName(child) ?? '');
  const key = keyOf(node, name);
  const item = key === 'tasks' ? 'task' : key === 'runs' ? 'run' : 'item';
  if (names.every((n) => n === item)) return elements.map((child) => decode(child, item));
  const out: Record<string, unknown> = {};
  for (const child of elements) {
    const childName = elementName(child) ?? '';
    define(out, keyOf(child, childName), decode(child, childName));
  }
  return out;
}

function keyOf(node: OrderedNode, name: string): string {
  const attributes = (node[':@'] ?? {}) as Record<string, string>;
  return name === 'entry' && attributes['@_key'] !== undefined ? attributes['@_key'] : name;
}

/** What `parseXml` gives back for plain data: scalars as text, empty lists and maps as "". */
export function xmlView(plain: unknown): unknown {
  if (plain === null) return null;
  if (Array.isArray(plain)) return plain.length ? plain.map(xmlView) : '';
  if (typeof plain === 'object') {
    const entries = Object.entries(plain);
    if (!entries.length) return '';
    const out: Record<string, unknown> = {};
    for (const [key, value] of entries) define(out, key, xmlView(value));
    return out;
  }
  return String(plain);
}

export async function collect(chunks: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const chunk of chunks) text += chunk;
  return text;
}

export async function* fromArray<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) {
    await Promise.resolve();
    yield item;
  }
}

/**
 * XML for plain data (see `toPlain`) whose strings are already valid XML characters (see `xmlText`).
 * A map becomes child elements named by key, or `<entry key="...">` when the key is not an XML name;
 * an array becomes repeated children named after the parent (`tasks` -> `task`, `runs` -> `run`,
 * otherwise `item`); null is an empty element with `null="true"`. Pretty-printed, two spaces.
 *
 * Written by hand rather than with xmlbuilder2: its writer leaves an `&` alone when it looks like an
 * entity (`&lt;` in data came out as `<`, `&nbsp;` made the document ill-formed), does not escape CR or
 * attribute whitespace (which XML parsers then normalise away), and building its DOM cost ~100 µs per
 * row, over two minutes for a million-row export. The rules below are the whole of XML escaping.
 */

export const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

const ITEM_NAMES: Readonly<Record<string, string>> = { tasks: 'task', runs: 'run' };

// NCName of XML 1.0 (5th edition): a Name without `:`, whose prefix would need a namespace declaration.
// Without the 5th edition's astral range (U+10000-U+EFFFF): readers of the earlier editions, and
// fast-xml-parser, refuse a name such as `😀`, so such a key goes in `<entry key="…">`.
const NAME_START = [
  'A-Z_a-z',
  '\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D',
  '\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD',
].join('');
const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F\\u2040`;
const NCNAME = new RegExp(`^[${NAME_START}][${NAME_CHAR}]*$`, 'u');

// JavaScript XML readers refuse (fast-xml-parser throws on `__proto__`) or rename these as element names.
const OBJECT_PROPERTY_NAMES: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);

/** Names starting with `xml` (any case) are reserved by the XML specification. */
export function isElementName(name: string): boolean {
  return NCNAME.test(name) && !/^xml/i.test(name) && !OBJECT_PROPERTY_NAMES.has(name);
}

export function itemName(parent: string): string {
  return Object.hasOwn(ITEM_NAMES, parent) ? (ITEM_NAMES[parent] ?? 'item') : 'item';
}

/** The root name is the caller's choice, never data: a bad one is a programming error. */
export function assertRootName(root: string): void {
  if (!isElementName(root)) throw new TypeError(`XML root: expected an element name, got ${JSON.stringify(root)}`);
}

export function xmlDocument(root: string, value: unknown): string {
  assertRootName(root);
  return `${DECLARATION}\n${xmlElement(root, value, 0)}`;
}

/** One element for `key`, indented `level` steps, without a trailing newline. */
export function xmlElement(key: string, value: unknown, level: number): string {
  const out: string[] = [];
  write(out, key, value, level);
  return out.join('');
}

/** The tag `xmlElement` opens for `key`: its name, or `entry` with the key as an attribute. */
export function openTag(key: string): string {
  return `<${startTag(key)}>`;
}

export function closeTag(key: string): string {
  return `</${isElementName(key) ? key : 'entry'}>`;
}

function startTag(key: string): string {
  return isElementName(key) ? key : `entry key="${escapeAttribute(key)}"`;
}

function write(out: string[], key: string, value: unknown, level: number): void {
  const pad = '  '.repeat(level);
  if (value === null || value === undefined) {
    out.push(`${pad}<${startTag(key)} null="true"/>`);
    return;
  }
  if (typeof value !== 'object') {
    const text = String(value);
    out.push(text === '' ? `${pad}<${startTag(key)}/>` : `${pad}${openTag(key)}${escapeText(text)}${closeTag(key)}`);
    return;
  }
  const children: Array<[string, unknown]> = Array.isArray(value)
    ? value.map((item: unknown) => [itemName(key), item])
    : Object.entries(value);
  if (children.length === 0) {
    out.push(`${pad}<${startTag(key)}/>`);
    return;
  }
  out.push(`${pad}${openTag(key)}`);
  for (const [childKey, child] of children) {
    out.push('\n');
    write(out, childKey, child, level + 1);
  }
  out.push(`\n${pad}${closeTag(key)}`);
}

// `>` is escaped too, so `]]>` never appears in text. CR would be normalised to LF by a reader.
function escapeText(text: string): string {
  return /[&<>\r]/.test(text)
    ? text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;')
    : text;
}

// A reader normalises a literal tab, LF or CR in an attribute to a space, so they go as references.
function escapeAttribute(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

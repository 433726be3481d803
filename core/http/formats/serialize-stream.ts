import { csvCellsOfRow, csvHeader, csvLines, csvRecord, VALUE_COLUMN } from './csv-text.js';
import { jsonText } from './json-text.js';
import type { DataFormat, RootName, SerializeOptions } from './serialize.js';
import { repairFor } from './text-safety.js';
import { ENVELOPE_DEPTH, MAX_DEPTH, isRecord, toPlain } from '../../tasks/to-plain.js';
import { assertRootName, closeTag, DECLARATION, itemName, openTag, xmlDocument, xmlElement } from './xml-text.js';
import { yamlText } from './yaml-text.js';

/**
 * Streaming serializer for exports of any size: memory holds one row (and one small output buffer),
 * never the list. It writes exactly what `serialize` writes for the whole list, or, with `wrapKey`, for
 * `{ [wrapKey]: rows, next: null }` (the JSON, YAML and XML shape of `/admin/run`; CSV is always rows).
 *
 * CSV needs its header before the rows are known: it is `columns` when given, else the first row's keys
 * (a later row's extra keys are then left out, where `serialize` would add columns for them).
 */

export interface SerializeStreamOptions extends SerializeOptions {
  wrapKey?: string;
}

/** Rows are batched into chunks of about this size: one socket write per row would be slow. */
const CHUNK_CHARS = 16 * 1024;
/** CSV rows are turned into text this many at a time (csv-stringify has a per-call set-up cost). */
const CSV_ROWS_PER_CALL = 256;

interface ListCodec {
  /** Written before the first item, which it may look at (CSV takes its header from it). */
  head(first: unknown): string;
  item(row: unknown, index: number): string;
  tail(): string;
  /** The whole text when there are no rows. */
  empty(): string;
}

export async function* serializeStream(
  format: DataFormat,
  root: RootName,
  rows: AsyncIterable<Record<string, unknown>>,
  options: SerializeStreamOptions = {},
): AsyncGenerator<string, void, undefined> {
  const codec = codecFor(format, root, options);
  const depth = MAX_DEPTH + ENVELOPE_DEPTH;
  // CSV with known columns reads each cell of a plain row where it is: no copy of every row first.
  const csvColumns = format === 'csv' && options.columns?.length ? options.columns : null;
  let index = 0;
  let buffer = '';
  let csvRows: string[][] = [];
  for await (const row of rows) {
    if (csvColumns && isPlainObject(row)) {
      if (index++ === 0) buffer += csvHeader(csvColumns);
      csvRows.push(csvCellsOfRow(row, csvColumns, depth - 1));
      if (csvRows.length < CSV_ROWS_PER_CALL) continue;
      buffer += csvLines(csvRows);
      csvRows = [];
    } else {
      if (csvRows.length > 0) buffer += csvLines(csvRows.splice(0));
      const plain = repairFor(format, toPlain(row, depth));
      if (index === 0) buffer += codec.head(plain);
      buffer += codec.item(plain, index++);
    }
    if (buffer.length >= CHUNK_CHARS) {
      yield buffer;
      buffer = '';
    }
  }
  if (csvRows.length > 0) buffer += csvLines(csvRows);
  buffer += index === 0 ? codec.empty() : codec.tail();
  if (buffer) yield buffer;
}

/** An object literal (or `Object.create(null)`): its own properties are all there is to read. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function codecFor(format: DataFormat, root: RootName, options: SerializeStreamOptions): ListCodec {
  if (options.wrapKey === 'next') throw new TypeError('wrapKey: "next" is taken by the cursor');
  switch (format) {
    case 'json':
      return options.wrapKey === undefined ? jsonList() : jsonWrapped(options.wrapKey);
    case 'yaml':
      return options.wrapKey === undefined ? yamlList() : yamlWrapped(options.wrapKey);
    case 'xml':
      return options.wrapKey === undefined ? xmlList(root) : xmlWrapped(root, options.wrapKey);
    case 'csv':
      return csvList(options.columns);
  }
}

/** The object a wrapped list stands for: keyset pagination has no next page once everything is out. */
function wrapped(key: string, rows: unknown[]): Record<string, unknown> {
  return { [key]: rows, next: null };
}

function indent(text: string, pad: string): string {
  // Safe for JSON: a newline inside a JSON string is always escaped, so every raw one is layout.
  return pad + text.replace(/\n/g, `\n${pad}`);
}

function jsonList(): ListCodec {
  return {
    head: () => '[',
    item: (row, index) => `${index ? ',' : ''}\n${indent(jsonText(row), '  ')}`,
    tail: () => '\n]',
    empty: () => jsonText([]),
  };
}

function jsonWrapped(key: string): ListCodec {
  return {
    head: () => `{\n  ${JSON.stringify(key)}: [`,
    item: (row, index) => `${index ? ',' : ''}\n${indent(jsonText(row), '    ')}`,
    tail: () => '\n  ],\n  "next": null\n}',
    empty: () => jsonText(wrapped(key, [])),
  };
}

function yamlList(): ListCodec {
  return {
    head: () => '',
    item: (row) => yamlText([row]),
    tail: () => '',
    empty: () => yamlText([]),
  };
}

function yamlWrapped(key: string): ListCodec {
  // The list under its key, minus the key's own line: `runs:\n  - a\n` -> `  - a\n`.
  const itemLines = (row: unknown): [string, string] => {
    const text = yamlText({ [key]: [row] });
    const cut = text.indexOf('\n') + 1;
    return [text.slice(0, cut), text.slice(cut)];
  };
  return {
    head: (first) => itemLines(first)[0],
    item: (row) => itemLines(row)[1],
    tail: () => yamlText({ next: null }),
    empty: () => yamlText(wrapped(key, [])),
  };
}

function xmlList(root: string): ListCodec {
  assertRootName(root);
  const item = itemName(root);
  return {
    head: () => `${DECLARATION}\n${openTag(root)}`,
    item: (row) => `\n${xmlElement(item, row, 1)}`,
    tail: () => `\n${closeTag(root)}`,
    empty: () => xmlDocument(root, []),
  };
}

function xmlWrapped(root: string, key: string): ListCodec {
  assertRootName(root);
  const item = itemName(key);
  return {
    head: () => `${DECLARATION}\n${openTag(root)}\n  ${openTag(key)}`,
    item: (row) => `\n${xmlElement(item, row, 2)}`,
    tail: () => `\n  ${closeTag(key)}\n${xmlElement('next', null, 1)}\n${closeTag(root)}`,
    empty: () => xmlDocument(root, wrapped(key, [])),
  };
}

function csvList(given: readonly string[] | undefined): ListCodec {
  let columns: readonly string[] = given ?? [];
  return {
    head: (first) => {
      columns = given ?? (isRecord(first) ? Object.keys(first) : [VALUE_COLUMN]);
      return columns.length ? csvHeader(columns) : '';
    },
    item: (row) => (columns.length ? csvRecord(row, columns) : ''),
    tail: () => '',
    empty: () => (columns.length ? csvHeader(columns) : ''),
  };
}

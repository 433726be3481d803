import { csvColumns, csvHeader, csvRecord } from './csv-text.js';
import { jsonText } from './json-text.js';
import { repairFor } from './text-safety.js';
import { ENVELOPE_DEPTH, MAX_DEPTH, toPlain } from '../../tasks/to-plain.js';
import { xmlDocument } from './xml-text.js';
import { yamlText } from './yaml-text.js';

/**
 * One-shot serializers for the data formats. Everything goes through `toPlain` first, so any value a
 * task returns renders in every format. JSON keeps lone surrogates (escaped as `\ud800`); CSV, YAML and
 * XML replace them, and XML also replaces the characters XML 1.0 forbids, with U+FFFD.
 */

export { serializeStream, type SerializeStreamOptions } from './serialize-stream.js';

export type DataFormat = 'json' | 'csv' | 'xml' | 'yaml';

/** The XML root element; a list under `tasks` or `runs` holds `<task>`/`<run>` items. */
export type RootName = 'tasks' | 'task' | 'result' | 'runs' | 'error' | (string & {});

export interface SerializeOptions {
  /** CSV only: the header, in this order (keys outside it are left out). Default: the union of keys. */
  columns?: readonly string[];
}

export function serialize(format: DataFormat, root: RootName, data: unknown, options: SerializeOptions = {}): string {
  // Stored data is already within MAX_DEPTH; the page around it must not cost it its deepest level.
  const plain = repairFor(format, toPlain(data, MAX_DEPTH + ENVELOPE_DEPTH));
  switch (format) {
    case 'json':
      return jsonText(plain);
    case 'yaml':
      return yamlText(plain);
    case 'xml':
      return xmlDocument(root, plain);
    case 'csv':
      return csvText(plain, options.columns);
  }
}

/** A list is one row per item; anything else is one row (a scalar in a `value` column). */
function csvText(plain: unknown, columns: readonly string[] | undefined): string {
  const items = Array.isArray(plain) ? plain : [plain];
  const header = columns ?? csvColumns(items);
  if (header.length === 0) return '';
  let text = csvHeader(header);
  for (const item of items) text += csvRecord(item, header);
  return text;
}

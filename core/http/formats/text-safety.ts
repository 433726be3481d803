/**
 * Character-level repairs for the text formats. JSON escapes anything; CSV and YAML must not carry lone
 * surrogates (they are not encodable as UTF-8), and XML 1.0 forbids C0 controls other than tab, LF and
 * CR, and U+FFFE/U+FFFF as well. Each bad character becomes U+FFFD, so output is always well-formed.
 */

import { setOwn } from '../../tasks/to-plain.js';

export const REPLACEMENT = '\uFFFD';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const NOT_XML_CHAR = new RegExp(`[\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\uFFFE\\uFFFF]|${LONE_SURROGATE.source}`, 'g');
const HAS_SURROGATE = /[\uD800-\uDFFF]/;
const MAY_NEED_XML_REPAIR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;

export function wellFormedText(text: string): string {
  // The test is much cheaper than the replace; almost every string passes it.
  return HAS_SURROGATE.test(text) ? text.replace(LONE_SURROGATE, REPLACEMENT) : text;
}

export function xmlText(text: string): string {
  return MAY_NEED_XML_REPAIR.test(text) ? text.replace(NOT_XML_CHAR, REPLACEMENT) : text;
}

/**
 * The repairs a format needs before it writes plain data. JSON escapes anything itself; CSV repairs
 * each cell as it writes it, because a nested value's cell is JSON, which keeps its escapes.
 */
export function repairFor(format: 'json' | 'csv' | 'xml' | 'yaml', plain: unknown): unknown {
  if (format === 'yaml') return repairStrings(plain, wellFormedText);
  if (format === 'xml') return repairStrings(plain, xmlText);
  return plain;
}

/** Applies `repair` to every string (values and keys) of plain data, as produced by `toPlain`. */
export function repairStrings(value: unknown, repair: (text: string) => string): unknown {
  if (typeof value === 'string') return repair(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => repairStrings(item, repair));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    setOwn(out, repair(key), repairStrings(item, repair));
  }
  return out;
}

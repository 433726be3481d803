import { stringify } from 'csv-stringify/sync';
import { wellFormedText } from './text-safety.js';
import { isRecord, toPlain } from '../../tasks/to-plain.js';

/**
 * CSV pieces shared by the one-shot and the streaming serializer, so both write identical bytes.
 * Records end with `\n` (as the original did; every spreadsheet and CSV library accepts it), no BOM.
 * Values arrive as plain data (see `toPlain`).
 */

/** Column of a scalar list item, or of a scalar at the root. */
export const VALUE_COLUMN = 'value';

// Spreadsheets evaluate a cell starting with one of these as a formula (CSV injection).
const FORMULA_START = /^[=+\-@\t\r]/;
// csv-stringify quotes a field holding `\n` but not one holding a bare `\r`, which a reader takes for a
// line end.
const STRINGIFY_OPTIONS = { record_delimiter: '\n', quoted_match: /\r/ } as const;

/** The union of the items' top-level keys, in first-seen order. */
export function csvColumns(items: readonly unknown[]): string[] {
  const columns = new Set<string>();
  for (const item of items) {
    if (isRecord(item)) for (const key of Object.keys(item)) columns.add(key);
    else columns.add(VALUE_COLUMN);
  }
  return [...columns];
}

/** The header record: column names are text like any other (a key may be hostile too). */
export function csvHeader(columns: readonly string[]): string {
  return csvLine(columns.map(guardText));
}

export function csvRecord(item: unknown, columns: readonly string[]): string {
  const record = isRecord(item) ? item : { [VALUE_COLUMN]: item };
  return csvLine(columns.map((column) => cellText(Object.hasOwn(record, column) ? record[column] : null)));
}

/**
 * The cells of a plain row object, each normalised on its own (`toPlain` of a cell gives what `toPlain`
 * of the whole row holds there): a row of scalars, an export's usual row, costs no copy.
 */
export function csvCellsOfRow(row: Readonly<Record<string, unknown>>, columns: readonly string[], maxDepth: number): string[] {
  const cells = new Array<string>(columns.length);
  for (let i = 0; i < columns.length; i++) {
    const value = Object.hasOwn(row, columns[i]!) ? row[columns[i]!] : null;
    cells[i] = cellText(typeof value === 'string' || typeof value === 'boolean' || value === null ? value : toPlain(value, maxDepth));
  }
  return cells;
}

/** Records of cells as CSV text; an export passes many at once, since each call has a set-up cost. */
export function csvLines(records: readonly (readonly string[])[]): string {
  return stringify(records as string[][], STRINGIFY_OPTIONS);
}

function csvLine(cells: readonly string[]): string {
  return csvLines([cells]);
}

/**
 * Null is an empty cell; nested values are JSON (which starts with `[` or `{`). Only strings are guarded:
 * a number such as -5 cannot carry a formula, and prefixing it would stop it being a number.
 */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return guardText(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? '';
}

function guardText(text: string): string {
  const safe = wellFormedText(text);
  return FORMULA_START.test(safe) ? `'${safe}` : safe;
}

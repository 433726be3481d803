/**
 * Fields: a plugin's declaration is checked once, at registration (`normalizeFields`); every run's
 * arguments are then coerced by it, from a query string (`coerceArgs`) or from code (`coerceCodeArgs`).
 * Bad arguments are collected field by field and thrown once, as `ERR_INVALID_ARG`: nothing runs.
 */
import { TaskdeckError, invalidArgs, truncate, type InvalidParam } from '../errors.js';
import { titleCase } from './title-case.js';
import { FIELD_TYPES, type Field, type FieldType, type TaskArgs } from './types.js';

/** What a query string gives: one string per key, the ordered list of strings when the key is repeated. */
export type RawArgs = Record<string, string | string[]>;

/** The parts of a task that argument coercion reads. */
export interface ArgsTask {
  readonly key: string;
  readonly fields: readonly Field[];
  readonly strictArgs: boolean;
}

export interface CoerceOptions {
  /** The query comes from the run form: a browser omits an unchecked checkbox, so a missing bool is false. */
  checkboxes?: boolean;
  /**
   * A blank `int`, `float`, `bool` or `time` value counts as missing (its default applies, or "is required"),
   * since a browser form submits an empty number or date input as `key=`. Off, a blank number is refused.
   */
  blankAsMissing?: boolean;
}

export const FIELD_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/** Query keys that steer the request and never reach a task. `format` is not here: a field may take it. */
export const RESERVED_FIELD_KEYS: readonly string[] = ['category', 'async', 't', 'download'];

/** Names that reach `Object.prototype` when assigned on a plain object: never a field, never an argument. */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const FIELD_PROPERTIES: readonly string[] = ['key', 'title', 'description', 'type', 'default', 'choices', 'required'];

/** Values are quoted in messages up to this many characters. */
const QUOTE_LIMIT = 100;
/** Choices listed in a message before "and N more". */
const CHOICES_LISTED = 20;

const INT = /^[+-]?[0-9]+$/;
const INT_RANGE = `expected an integer between ${-Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`;
/** Decimal and exponent forms: `1e3`, `-0`, `.5`, `5.`. No hex, no underscores, no surrounding space. */
const DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const BOOL_TEXT: ReadonlyMap<string, boolean> = new Map([
  ['true', true],
  ['1', true],
  ['on', true],
  ['yes', true],
  ['false', false],
  ['0', false],
  ['off', false],
  ['no', false],
]);
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;
const UNIX_SECONDS = /^\d{1,11}$/;
const UNIX_MILLIS = /^\d{12,13}$/;
/**
 * Text we refuse in string values: C0 controls other than tab, LF and CR (NUL, ESC for ANSI sequences, ...),
 * which have no business in an argument and break terminals, logs and XML 1.0; and lone surrogates, which
 * SQLite's UTF-8 cannot store (they would come back as U+FFFD). C1 controls, bidi and zero-width characters
 * are accepted and stored verbatim; rendering escapes them.
 */
// With the `u` flag a well-formed pair is one code point, so the surrogate range only matches lone halves.
const FORBIDDEN_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF]/u;

const EXPECTED: Readonly<Record<FieldType, string>> = {
  string: 'a string',
  int: 'an integer',
  float: 'a finite number',
  bool: 'true or false (also 1/0, on/off, yes/no)',
  '[]string': 'a list of strings',
  time: 'an ISO 8601 date or date-time, or unix seconds/milliseconds',
};

/** Expected failures are data here; they become one `ERR_INVALID_ARG` (or `ERR_INVALID_TASK`) at the end. */
type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

// ---------------------------------------------------------------------------------------------------------------
// Declaration

/**
 * Checks a task's `fields` as a plugin wrote them and fills in every optional part. Throws
 * `ERR_INVALID_TASK` naming the task, the field and the problem.
 */
export function normalizeFields(input: unknown, taskKey: string): Field[] {
  if (input === undefined) return [];
  if (!Array.isArray(input)) {
    throw declarationError(taskKey, `expected fields to be an array, got ${describeValue(input)}`);
  }
  const seen = new Set<string>();
  return input.map((item: unknown, index) => {
    const field = normalizeField(item, index, taskKey);
    if (seen.has(field.key)) throw declarationError(taskKey, `field "${field.key}": is declared more than once`);
    seen.add(field.key);
    return field;
  });
}

function normalizeField(item: unknown, index: number, taskKey: string): Field {
  if (!isRecord(item)) {
    throw declarationError(taskKey, `field #${index + 1}: expected an object with a key, got ${describeValue(item)}`);
  }
  const key = item.key;
  if (typeof key !== 'string' || !FIELD_KEY_PATTERN.test(key)) {
    throw declarationError(
      taskKey,
      `field #${index + 1}: expected key to be a letter or _ then up to 63 letters, digits, _ . or -, got ${describeValue(key)}`,
    );
  }
  const problem = (text: string): TaskdeckError => declarationError(taskKey, `field "${key}": ${text}`, key);
  if (RESERVED_FIELD_KEYS.includes(key)) {
    throw problem(`the key is reserved for the query string (${RESERVED_FIELD_KEYS.join(', ')})`);
  }
  if (PROTOTYPE_KEYS.has(key)) throw problem('the key is reserved (it names a property of every JavaScript object)');
  const unknown = Object.keys(item).find((name) => !FIELD_PROPERTIES.includes(name));
  if (unknown !== undefined) {
    throw problem(`unknown property ${quote(unknown)} (expected ${FIELD_PROPERTIES.join(', ')})`);
  }

  const type = item.type ?? 'string';
  if (!isFieldType(type)) throw problem(`expected type to be one of ${FIELD_TYPES.join(', ')}, got ${describeValue(type)}`);
  const title = optional(item.title, 'title', isString, 'a string', problem) ?? '';
  const description = optional(item.description, 'description', isString, 'a string', problem) ?? '';
  const required = optional(item.required, 'required', isBoolean, 'a boolean', problem) ?? false;
  const choices = normalizeChoices(item.choices, type, problem);

  const field: Field = { key, title: title || titleCase(key), description, type, default: undefined, choices, required };
  field.default = normalizeDefault(field, item.default, problem);
  return Object.freeze(field);
}

function optional<T>(
  value: unknown,
  name: string,
  guard: (value: unknown) => value is T,
  expected: string,
  problem: (text: string) => TaskdeckError,
): T | undefined {
  if (value === undefined) return undefined;
  if (!guard(value)) throw problem(`expected ${name} to be ${expected}, got ${describeValue(value)}`);
  return value;
}

function normalizeChoices(
  value: unknown,
  type: FieldType,
  problem: (text: string) => TaskdeckError,
): readonly string[] {
  const choices = optional(value, 'choices', isStringArray, 'an array of strings', problem) ?? [];
  if (choices.length === 0) return Object.freeze([]);
  if (type === 'bool' || type === 'time') throw problem(`choices are not supported on a ${type} field`);
  const seen = new Set<string>();
  for (const choice of choices) {
    if (seen.has(choice)) throw problem(`choices: ${quote(choice)} is listed more than once`);
    seen.add(choice);
    const parsed = type === 'int' || type === 'float' ? parseText(type, choice) : checkText(choice);
    if (!parsed.ok) throw problem(`choices: ${quote(choice)}: ${parsed.reason}`);
  }
  return Object.freeze([...choices]);
}

/** A string default is read like a query value; a typed one must already fit. Both must be among the choices. */
function normalizeDefault(field: Field, value: unknown, problem: (text: string) => TaskdeckError): unknown {
  if (value === undefined || value === null) return undefined;
  // Required-ness is about the caller's arguments, not the default: a blank default string is checked as a value.
  const optionalField = { ...field, required: false };
  const parsed =
    typeof value === 'string'
      ? coerceQueryValue(optionalField, value, {})
      : checkValue(optionalField, coerceTypedValue(optionalField, value));
  if (!parsed.ok) throw problem(`invalid default: ${parsed.reason}`);
  const typed = parsed.value;
  // A default is handed to every run: never let a run mutate it for the next one.
  return Array.isArray(typed) ? Object.freeze(typed) : (typed ?? undefined);
}

function declarationError(taskKey: string, message: string, field?: string): TaskdeckError {
  return new TaskdeckError('ERR_INVALID_TASK', `task "${taskKey}": ${message}`, {
    details: field === undefined ? { task: taskKey } : { task: taskKey, field },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Arguments

/**
 * Applies a task's fields to query-string arguments: coerces each value by its field's type, fills defaults,
 * checks required-ness and choices. Undeclared keys pass through as strings (lists when repeated), or are
 * refused when the task has `strictArgs`. Throws one `ERR_INVALID_ARG` listing every problem.
 */
export function coerceArgs(task: ArgsTask, raw: RawArgs, options: CoerceOptions = {}): TaskArgs {
  const args: TaskArgs = {};
  const problems: InvalidParam[] = [];
  for (const field of task.fields) {
    const given = Object.hasOwn(raw, field.key) ? raw[field.key] : undefined;
    collect(args, problems, field.key, coerceQueryValue(field, given, options));
  }
  for (const key of undeclaredKeys(task, raw, problems)) {
    const given = raw[key];
    if (given === undefined) continue;
    const values = typeof given === 'string' ? [given] : given;
    const bad = firstProblem(values);
    if (bad === undefined) setArg(args, key, typeof given === 'string' ? given : [...given]);
    else problems.push({ name: paramName(key), reason: bad });
  }
  if (problems.length > 0) throw invalidArgs(task.key, problems);
  return args;
}

/**
 * Applies a task's fields to arguments given in code (`kernel.run()`, presets): a value already of the
 * field's type is taken as is, a string is read like a query value. `undefined` and `null` mean missing.
 * Undeclared keys pass through unchanged, or are refused when the task has `strictArgs`.
 */
export function coerceCodeArgs(task: ArgsTask, args: Record<string, unknown>): TaskArgs {
  const coerced: TaskArgs = {};
  const problems: InvalidParam[] = [];
  for (const field of task.fields) {
    const given = Object.hasOwn(args, field.key) ? args[field.key] : undefined;
    const parsed =
      given === undefined || given === null
        ? missingValue(field, {})
        : typeof given === 'string'
          ? coerceQueryValue(field, given, {})
          : checkValue(field, coerceTypedValue(field, given));
    collect(coerced, problems, field.key, parsed);
  }
  for (const key of undeclaredKeys(task, args, problems)) {
    const unstorable = jsonProblem(args[key]);
    if (unstorable === undefined) setArg(coerced, key, args[key]);
    else problems.push({ name: key, reason: unstorable });
  }
  if (problems.length > 0) throw invalidArgs(task.key, problems);
  return coerced;
}

/**
 * Arguments are stored as JSON with their run: an undeclared value JSON cannot write (a BigInt, a
 * cycle, a throwing toJSON) is refused here, naming the argument, instead of failing in the store.
 */
function jsonProblem(value: unknown): string | undefined {
  try {
    JSON.stringify(value);
    return undefined;
  } catch (error) {
    const why = String((error as Error)?.message ?? error).split('\n')[0];
    return `expected a value JSON can store, got ${describeValue(value)} (${why})`;
  }
}

/**
 * Turns a typed argument back into query-string values, for re-filling the form and "run again" links:
 * `42` -> `["42"]`, `true` -> `["true"]`, a Date -> its ISO string, a list -> its items, nothing -> `[]`.
 */
export function formatFieldValue(field: Field, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) {
    const items = value.filter((item) => item !== undefined && item !== null).map(valueText);
    // One value alone is split on commas when read back: send it as a JSON array when that would change it.
    const [only] = items;
    if (items.length !== 1 || only === undefined) return items;
    const reread = parseList(only);
    return reread.ok && reread.value.length === 1 && reread.value[0] === only ? items : [JSON.stringify(items)];
  }
  // -0 is a float the user typed; "0" would not give it back.
  if (field.type === 'float' && Object.is(value, -0)) return ['-0'];
  if (value instanceof Date && Number.isNaN(value.getTime())) return [];
  return [valueText(value)];
}

function undeclaredKeys(task: ArgsTask, given: object, problems: InvalidParam[]): string[] {
  const declared = new Set(task.fields.map((field) => field.key));
  return Object.keys(given).filter((key) => {
    if (declared.has(key)) return false;
    const name = paramName(key);
    const problem = PROTOTYPE_KEYS.has(key)
      ? 'is a reserved name and cannot be an argument'
      : task.strictArgs
        ? 'is not a field of this task'
        : textProblem(key, 'its name');
    if (problem !== undefined) problems.push({ name, reason: problem });
    return problem === undefined;
  });
}

function collect(args: TaskArgs, problems: InvalidParam[], key: string, parsed: Parsed<unknown>): void {
  if (!parsed.ok) problems.push({ name: key, reason: parsed.reason });
  else if (parsed.value !== undefined) setArg(args, key, parsed.value);
}

/** Defines rather than assigns, so no key can ever reach a prototype, whatever a caller passes as fields. */
function setArg(args: TaskArgs, key: string, value: unknown): void {
  Object.defineProperty(args, key, { value, enumerable: true, writable: true, configurable: true });
}

/** `undefined` in a successful result means "leave the key out". */
function coerceQueryValue(field: Field, given: string | readonly string[] | undefined, options: CoerceOptions): Parsed<unknown> {
  const values = given === undefined ? [] : typeof given === 'string' ? [given] : given;
  const [first] = values;
  if (first === undefined) return missingValue(field, options);
  if (values.length > 1) {
    if (field.type !== '[]string') return fail(`expected a single value, got ${values.length} values`);
    const bad = firstProblem(values);
    return bad === undefined ? checkValue(field, ok([...values])) : fail(bad);
  }
  if (first.trim() === '') {
    if (options.blankAsMissing && BLANK_MEANS_MISSING.has(field.type)) return missingValue(field, options);
    if (field.required) return fail('is required');
  }
  return checkValue(field, parseText(field.type, first));
}

const BLANK_MEANS_MISSING: ReadonlySet<FieldType> = new Set(['int', 'float', 'bool', 'time']);

function missingValue(field: Field, options: CoerceOptions): Parsed<unknown> {
  if (field.type === 'bool' && options.checkboxes) return ok(false);
  if (field.default !== undefined) return ok(copyValue(field.default));
  if (field.required) return fail('is required');
  // Types with a natural "nothing" get it, so a task can read them without a check; others stay absent.
  if (field.type === 'bool') return ok(false);
  if (field.type === '[]string') return ok([]);
  if (field.type === 'time') return ok(null);
  return ok(undefined);
}

function copyValue(value: unknown): unknown {
  if (Array.isArray(value)) return [...value];
  if (value instanceof Date) return new Date(value.getTime());
  return value;
}

/** Required-ness of an empty list, then choices: every value (every item of a list) must be one of them. */
function checkValue(field: Field, parsed: Parsed<unknown>): Parsed<unknown> {
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (field.required && Array.isArray(value) && value.length === 0) return fail('is required (got an empty list)');
  if (field.choices.length === 0 || value === null) return parsed;
  const items: unknown[] = Array.isArray(value) ? value : [value];
  const outside = items.find((item) => !isChoice(field, item));
  if (outside === undefined) return parsed;
  return fail(`expected one of ${listChoices(field.choices)}, got ${quote(valueText(outside))}`);
}

function isChoice(field: Field, value: unknown): boolean {
  if (typeof value === 'number') {
    return field.choices.some((choice) => {
      const parsed = parseText(field.type, choice);
      return parsed.ok && parsed.value === value;
    });
  }
  return field.choices.includes(valueText(value));
}

function listChoices(choices: readonly string[]): string {
  const listed = choices.slice(0, CHOICES_LISTED).map(quote).join(', ');
  return choices.length > CHOICES_LISTED ? `${listed} and ${choices.length - CHOICES_LISTED} more` : listed;
}

// ---------------------------------------------------------------------------------------------------------------
// One value of one type

/** Reads one query string as a value of `type`. */
function parseText(type: FieldType, text: string): Parsed<unknown> {
  switch (type) {
    case 'string':
      return checkText(text);
    case 'int':
      return parseInteger(text);
    case 'float':
      return parseFloatText(text);
    case 'bool':
      return parseBool(text);
    case '[]string':
      return parseList(text);
    case 'time':
      return parseTime(text);
  }
}

/**
 * Strict base-10. The range is JavaScript's safe integers, ±(2^53-1), not int64: beyond it a number silently
 * rounds (`9007199254740993` would arrive as ...992), and refusing is better than running with another value.
 */
function parseInteger(text: string): Parsed<number> {
  if (!INT.test(text)) return fail(`expected an integer, got ${quote(text)}`);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    return fail(`${INT_RANGE}, got ${quote(text)}`);
  }
  return ok(value === 0 ? 0 : value);
}

/** Full double precision. NaN and infinities are refused: they are not numbers a task can compute with or store. */
function parseFloatText(text: string): Parsed<number> {
  if (!DECIMAL.test(text)) return fail(`expected a finite number, got ${quote(text)}`);
  const value = Number(text);
  // Only a decimal beyond ±1.8e308 gets here (`1e400`): it would be Infinity.
  if (!Number.isFinite(value)) return fail(`expected a finite number (out of range), got ${quote(text)}`);
  return ok(value);
}

function parseBool(text: string): Parsed<boolean> {
  const value = BOOL_TEXT.get(text.toLowerCase());
  return value === undefined ? fail(`expected ${EXPECTED.bool}, got ${quote(text)}`) : ok(value);
}

/**
 * One query value as a list: blank or JSON `null` -> empty; a JSON array -> its items as text; a value with
 * line breaks -> one item a line (the form's textarea); otherwise comma-separated. Items are trimmed and
 * empty ones dropped, except JSON items, which are kept as written.
 */
function parseList(text: string): Parsed<string[]> {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'null') return ok([]);
  const json = trimmed.startsWith('[') ? parseJsonArray(trimmed) : undefined;
  const items = json ?? splitList(text);
  const bad = firstProblem(items);
  return bad === undefined ? ok(items) : fail(bad);
}

function parseJsonArray(text: string): string[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  return parsed.filter((item: unknown) => item !== null).map((item: unknown) => (typeof item === 'string' ? item : valueText(item)));
}

function splitList(text: string): string[] {
  return text
    .split(/\r\n|\r|\n/.test(text) ? /\r\n|\r|\n/ : ',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** ISO 8601 date (UTC midnight) or date-time (no offset = UTC), or unix seconds (<= 11 digits) / ms (12-13). */
function parseTime(text: string): Parsed<Date | null> {
  if (text.trim() === '') return ok(null);
  const value = UNIX_SECONDS.test(text)
    ? new Date(Number(text) * 1000)
    : UNIX_MILLIS.test(text)
      ? new Date(Number(text))
      : parseIsoTime(text);
  return value === undefined ? fail(`expected ${EXPECTED.time}, got ${quote(text)}`) : ok(value);
}

function parseIsoTime(text: string): Date | undefined {
  const date = DATE_ONLY.exec(text);
  if (date) return utcDate(date.slice(1, 4).map(Number));
  const match = DATE_TIME.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second = '0', fraction = '', , sign, offsetHours, offsetMinutes = '0'] = match;
  // Date keeps milliseconds: further digits are truncated, not rounded (rounding could carry into the next day).
  const millis = Number(fraction.slice(0, 3).padEnd(3, '0'));
  const local = utcDate([year, month, day, hour, minute, second].map(Number), millis);
  if (local === undefined || sign === undefined) return local;
  if (Number(offsetHours) > 23 || Number(offsetMinutes) > 59) return undefined;
  const offset = Number(offsetHours) * 60 + Number(offsetMinutes);
  return new Date(local.getTime() - (sign === '-' ? -offset : offset) * 60_000);
}

/** Builds a UTC date and refuses one whose parts do not survive (month 13, February 30, hour 24). */
function utcDate(parts: number[], millis = 0): Date | undefined {
  const [year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0] = parts;
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  const survived =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  return survived ? date : undefined;
}

/** A value given in code: taken as is when it already has the field's type. */
function coerceTypedValue(field: Field, value: unknown): Parsed<unknown> {
  if (typeof value === 'string') return parseText(field.type, value);
  const wrongType = fail(`expected ${EXPECTED[field.type]}, got ${describeValue(value)}`);
  switch (field.type) {
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) return wrongType;
      if (!Number.isSafeInteger(value)) return fail(`${INT_RANGE}, got ${value}`);
      return ok(value === 0 ? 0 : value);
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) ? ok(value) : wrongType;
    case 'bool':
      return typeof value === 'boolean' ? ok(value) : wrongType;
    case '[]string': {
      if (!isStringArray(value)) return wrongType;
      const bad = firstProblem(value);
      return bad === undefined ? ok([...value]) : fail(bad);
    }
    case 'time':
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? wrongType : ok(new Date(value.getTime()));
      // A number follows the query's digits rule, so `Date.now()` and `Date.now() / 1000 | 0` both work.
      if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return parseTime(String(value));
      return wrongType;
    case 'string':
      return wrongType;
  }
}

function checkText(text: string): Parsed<string> {
  const problem = textProblem(text);
  return problem === undefined ? ok(text) : fail(problem);
}

function firstProblem(texts: readonly string[]): string | undefined {
  for (const [index, text] of texts.entries()) {
    const problem = textProblem(text, texts.length > 1 ? `item ${index + 1}` : 'the value');
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function textProblem(text: string, what = 'the value'): string | undefined {
  const match = FORBIDDEN_TEXT.exec(text);
  if (!match) return undefined;
  const code = `U+${(match[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  if (match[0] >= '\uD800') return `${what} has a lone surrogate (${code}) at index ${match.index}; expected well-formed Unicode text`;
  return `${what} has a control character (${code}) at index ${match.index}; only tab, line feed and carriage return are allowed`;
}

// ---------------------------------------------------------------------------------------------------------------
// Guards and wording

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function isBoolean(value: unknown): value is boolean {
  return typeof value === 'boolean';
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every(isString);
}

export function isFieldType(value: unknown): value is FieldType {
  return typeof value === 'string' && (FIELD_TYPES as readonly string[]).includes(value);
}

/** A value as the text a query string would carry. */
function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (typeof value === 'object' && value !== null) return JSON.stringify(value) ?? String(value);
  return String(value);
}

/** `"abc"`, JSON-escaped (control characters and quotes stay visible) and cut at 100 characters. */
function quote(text: string): string {
  return JSON.stringify(truncate(text, QUOTE_LIMIT));
}

/** An undeclared key as it may appear in a message: escaped and cut like a value, without the quotes. */
function paramName(key: string): string {
  return quote(key).slice(1, -1);
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Date) return `a Date (${valueText(value)})`;
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  return 'an object';
}

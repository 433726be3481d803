import { expect } from 'chai';
import { TaskdeckError, type InvalidParam } from '../../core/errors.js';
import {
  coerceArgs,
  coerceCodeArgs,
  formatFieldValue,
  normalizeFields,
  type ArgsTask,
  type CoerceOptions,
  type RawArgs,
} from '../../core/tasks/fields.js';
import type { Field, TaskArgs } from '../../core/tasks/types.js';

function task(fields: unknown, strictArgs = false): ArgsTask {
  return { key: 'demo', fields: normalizeFields(fields, 'demo'), strictArgs };
}

function field(declaration: Record<string, unknown>): Field {
  const [normalized] = normalizeFields([declaration], 'demo');
  if (normalized === undefined) throw new Error('no field');
  return normalized;
}

/** Coerces one query value for one field, returning the field's value. */
function coerceOne(declaration: Record<string, unknown>, value?: string | string[], options?: CoerceOptions): unknown {
  const raw: RawArgs = value === undefined ? {} : { v: value };
  return coerceArgs(task([{ key: 'v', ...declaration }]), raw, options).v;
}

function refusal(run: () => unknown): TaskdeckError {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(TaskdeckError);
    return error as TaskdeckError;
  }
  return expect.fail('expected a TaskdeckError');
}

/** The invalid params of an ERR_INVALID_ARG refusal. */
function problems(run: () => unknown): InvalidParam[] {
  const error = refusal(run);
  expect(error.code).to.equal('ERR_INVALID_ARG');
  expect(error.status).to.equal(400);
  return error.details.invalid_params as InvalidParam[];
}

/** The one reason given for field `v`. */
function reasonFor(declaration: Record<string, unknown>, value?: string | string[], options?: CoerceOptions): string {
  const found = problems(() => coerceOne(declaration, value, options));
  expect(found).to.have.length(1);
  expect(found[0]?.name).to.equal('v');
  return found[0]?.reason ?? '';
}

function declarationMessage(fields: unknown): string {
  const error = refusal(() => normalizeFields(fields, 'x'));
  expect(error.code).to.equal('ERR_INVALID_TASK');
  return error.message;
}

describe('fields', () => {
  describe('normalizeFields', () => {
    it('gives no fields for a task that declares none', () => {
      expect(normalizeFields(undefined, 'x')).to.deep.equal([]);
      expect(normalizeFields([], 'x')).to.deep.equal([]);
    });

    it('fills every optional part of a field', () => {
      expect(normalizeFields([{ key: 'db_name' }], 'x')).to.deep.equal([
        {
          key: 'db_name',
          title: 'Db Name',
          description: '',
          type: 'string',
          default: undefined,
          choices: [],
          required: false,
        },
      ]);
    });

    it('falls back to the title-cased key when there is no title (seed: TitleSafe of {Key:"x"})', () => {
      expect(field({ key: 'x' }).title).to.equal('X');
      expect(field({ key: 'user_id' }).title).to.equal('User ID');
      expect(field({ key: 'user_id', title: '' }).title).to.equal('User ID');
    });

    it('keeps what the plugin declared', () => {
      const declared = {
        key: 'mode',
        title: 'Dump mode',
        description: 'How to dump',
        type: 'string',
        default: 'sql',
        choices: ['sql', 'tar'],
        required: true,
      };
      expect(field(declared)).to.deep.equal(declared);
    });

    it('freezes each field and its choices, so a registered task cannot change under a run', () => {
      const normalized = field({ key: 'mode', choices: ['a'] });
      expect(Object.isFrozen(normalized)).to.equal(true);
      expect(Object.isFrozen(normalized.choices)).to.equal(true);
    });

    it('does not keep a reference to the plugin\'s choices array', () => {
      const choices = ['a', 'b'];
      const normalized = field({ key: 'mode', choices });
      choices.push('c');
      expect(normalized.choices).to.deep.equal(['a', 'b']);
    });

    it('refuses fields that are not an array, naming the task', () => {
      expect(declarationMessage({ key: 'n' })).to.equal('task "x": expected fields to be an array, got an object');
      expect(declarationMessage(null)).to.equal('task "x": expected fields to be an array, got null');
    });

    it('refuses a field that is not an object, naming its position', () => {
      expect(declarationMessage([{ key: 'a' }, 'b'])).to.equal(
        'task "x": field #2: expected an object with a key, got "b"',
      );
    });

    it('refuses a missing or malformed key', () => {
      for (const key of [undefined, '', '1abc', 'a b', 'a/b', 'ä', 'a'.repeat(65), 42]) {
        expect(declarationMessage([{ key }])).to.match(/^task "x": field #1: expected key to be a letter or _/);
      }
    });

    it('accepts keys of letters, digits, _ . - up to 64 characters', () => {
      for (const key of ['a', '_x', 'A.b-c_d9', 'a'.repeat(64)]) {
        expect(field({ key }).key).to.equal(key);
      }
    });

    it('refuses a key declared twice', () => {
      expect(declarationMessage([{ key: 'n' }, { key: 'n', type: 'int' }])).to.equal(
        'task "x": field "n": is declared more than once',
      );
    });

    it('refuses the reserved query keys category, async, t and download as field keys', () => {
      for (const key of ['category', 'async', 't', 'download']) {
        expect(declarationMessage([{ key }])).to.include(`field "${key}": the key is reserved for the query string`);
      }
    });

    it('allows a field named format (the response format then comes from t= or Accept)', () => {
      expect(field({ key: 'format', choices: ['sql', 'tar'] }).key).to.equal('format');
    });

    it('refuses __proto__, constructor and prototype as field keys', () => {
      for (const key of ['__proto__', 'constructor', 'prototype']) {
        expect(declarationMessage([{ key }])).to.include(`field "${key}": the key is reserved`);
      }
    });

    it('refuses an unknown type, listing the known ones', () => {
      expect(declarationMessage([{ key: 'n', type: 'number' }])).to.equal(
        'task "x": field "n": expected type to be one of string, int, float, bool, []string, time, got "number"',
      );
    });

    it('refuses an unknown property, so a typo like "require" does not silently do nothing', () => {
      expect(declarationMessage([{ key: 'n', require: true }])).to.equal(
        'task "x": field "n": unknown property "require" (expected key, title, description, type, default, choices, required)',
      );
    });

    it('refuses a title, description or required of the wrong type', () => {
      expect(declarationMessage([{ key: 'n', title: 5 }])).to.equal(
        'task "x": field "n": expected title to be a string, got 5',
      );
      expect(declarationMessage([{ key: 'n', description: ['a'] }])).to.equal(
        'task "x": field "n": expected description to be a string, got an array of 1 item',
      );
      expect(declarationMessage([{ key: 'n', required: 'yes' }])).to.equal(
        'task "x": field "n": expected required to be a boolean, got "yes"',
      );
    });

    it('refuses choices that are not an array of distinct strings', () => {
      expect(declarationMessage([{ key: 'n', choices: 'a,b' }])).to.include('expected choices to be an array of strings');
      expect(declarationMessage([{ key: 'n', choices: ['a', 1] }])).to.include('expected choices to be an array of strings');
      expect(declarationMessage([{ key: 'n', choices: ['a', 'a'] }])).to.include('choices: "a" is listed more than once');
    });

    it('refuses choices on a bool or time field', () => {
      expect(declarationMessage([{ key: 'n', type: 'bool', choices: ['true'] }])).to.include(
        'choices are not supported on a bool field',
      );
      expect(declarationMessage([{ key: 'n', type: 'time', choices: ['2024-01-01'] }])).to.include(
        'choices are not supported on a time field',
      );
    });

    it('refuses choices of an int field that are not integers', () => {
      expect(declarationMessage([{ key: 'n', type: 'int', choices: ['1', 'two'] }])).to.equal(
        'task "x": field "n": choices: "two": expected an integer, got "two"',
      );
    });

    it('refuses a control character in a choice', () => {
      expect(declarationMessage([{ key: 'n', choices: ['a\u0000'] }])).to.include('control character (U+0000)');
    });

    describe('defaults', () => {
      it('coerces a string default like a query value (seed: DefaultBool, DefaultInt, DefaultFloat)', () => {
        expect(field({ key: 'n', type: 'bool', default: 'true' }).default).to.equal(true);
        expect(field({ key: 'n', type: 'int', default: '12' }).default).to.equal(12);
        expect(field({ key: 'n', type: 'float', default: '2.5' }).default).to.equal(2.5);
        expect(field({ key: 'n', type: '[]string', default: 'a,b' }).default).to.deep.equal(['a', 'b']);
        expect(field({ key: 'n', type: 'time', default: '2024-01-02' }).default).to.deep.equal(
          new Date('2024-01-02T00:00:00Z'),
        );
        expect(field({ key: 'n', default: '1' }).default).to.equal('1');
      });

      it('keeps a typed default that fits the type', () => {
        const when = new Date('2024-05-06T07:08:09Z');
        expect(field({ key: 'n', type: 'int', default: 5 }).default).to.equal(5);
        expect(field({ key: 'n', type: 'float', default: 0.1 }).default).to.equal(0.1);
        expect(field({ key: 'n', type: 'bool', default: false }).default).to.equal(false);
        expect(field({ key: 'n', type: '[]string', default: ['a', 'b'] }).default).to.deep.equal(['a', 'b']);
        expect(field({ key: 'n', type: 'time', default: when }).default).to.deep.equal(when);
      });

      it('keeps an empty string default on a string field', () => {
        expect(field({ key: 'n', default: '' }).default).to.equal('');
      });

      it('treats a null default, or a blank time default, as no default', () => {
        expect(field({ key: 'n', type: 'int', default: null }).default).to.equal(undefined);
        expect(field({ key: 'n', type: 'time', default: '' }).default).to.equal(undefined);
      });

      it('refuses a string default that does not coerce', () => {
        expect(declarationMessage([{ key: 'n', type: 'int', default: 'abc' }])).to.equal(
          'task "x": field "n": invalid default: expected an integer, got "abc"',
        );
        expect(declarationMessage([{ key: 'n', type: 'bool', default: 'maybe' }])).to.include(
          'field "n": invalid default: expected true or false',
        );
        expect(declarationMessage([{ key: 'n', type: 'float', default: 'NaN' }])).to.include(
          'invalid default: expected a finite number',
        );
      });

      it('refuses a typed default of the wrong type', () => {
        expect(declarationMessage([{ key: 'n', type: 'int', default: 1.5 }])).to.equal(
          'task "x": field "n": invalid default: expected an integer, got 1.5',
        );
        expect(declarationMessage([{ key: 'n', type: 'string', default: 5 }])).to.equal(
          'task "x": field "n": invalid default: expected a string, got 5',
        );
        expect(declarationMessage([{ key: 'n', type: 'bool', default: 1 }])).to.include('invalid default');
        expect(declarationMessage([{ key: 'n', type: '[]string', default: [1] }])).to.include(
          'invalid default: expected a list of strings',
        );
        expect(declarationMessage([{ key: 'n', type: 'time', default: new Date(Number.NaN) }])).to.include(
          'invalid default',
        );
      });

      it('refuses a default outside the choices, typed or not', () => {
        expect(declarationMessage([{ key: 'n', default: 'zip', choices: ['sql', 'tar'] }])).to.equal(
          'task "x": field "n": invalid default: expected one of "sql", "tar", got "zip"',
        );
        expect(declarationMessage([{ key: 'n', type: 'int', default: 3, choices: ['1', '2'] }])).to.include(
          'invalid default: expected one of "1", "2", got "3"',
        );
        expect(declarationMessage([{ key: 'n', type: '[]string', default: ['a', 'z'], choices: ['a'] }])).to.include(
          'invalid default: expected one of "a", got "z"',
        );
      });

      it('names the task and the field in the error details', () => {
        const error = refusal(() => normalizeFields([{ key: 'n', type: 'int', default: 'abc' }], 'x'));
        expect(error.details).to.deep.equal({ task: 'x', field: 'n' });
      });
    });
  });

  describe('coerceArgs', () => {
    describe('string', () => {
      it('keeps a string as given (seed: "hello")', () => {
        expect(coerceOne({}, 'hello')).to.equal('hello');
      });

      it('keeps an empty string on an optional field', () => {
        expect(coerceOne({}, '')).to.equal('');
        expect(coerceOne({ default: 'x' }, '')).to.equal('');
      });

      it('refuses a repeated key with 400 "expected a single value"', () => {
        expect(reasonFor({}, ['a', 'b'])).to.equal('expected a single value, got 2 values');
      });

      it('takes a one-item list as the single value', () => {
        expect(coerceOne({}, ['a'])).to.equal('a');
      });

      it('refuses a blank value on a required field', () => {
        expect(reasonFor({ required: true }, '')).to.equal('is required');
        expect(reasonFor({ required: true }, '   ')).to.equal('is required');
      });

      it('refuses a NUL, naming the field and where it is', () => {
        expect(reasonFor({}, 'ab\u0000c')).to.equal(
          'the value has a control character (U+0000) at index 2; only tab, line feed and carriage return are allowed',
        );
      });

      it('refuses every C0 control character except tab, line feed and carriage return', () => {
        for (let code = 0; code < 0x20; code += 1) {
          const char = String.fromCharCode(code);
          if (char === '\t' || char === '\n' || char === '\r') {
            expect(coerceOne({}, `a${char}b`)).to.equal(`a${char}b`);
          } else {
            expect(reasonFor({}, `a${char}b`)).to.include('control character');
          }
        }
      });

      it('refuses an ANSI escape sequence', () => {
        expect(reasonFor({}, '\u001b[31mred')).to.include('(U+001B) at index 0');
      });

      it('keeps C1 controls, bidi overrides and zero-width characters verbatim (rendering escapes them)', () => {
        const text = 'a\u0085b\u202Ec\u200Bd\u007F';
        expect(coerceOne({}, text)).to.equal(text);
      });

      it('refuses a lone surrogate, which SQLite could not store', () => {
        expect(reasonFor({}, 'a\uD800')).to.equal(
          'the value has a lone surrogate (U+D800) at index 1; expected well-formed Unicode text',
        );
      });

      it('round-trips emoji, astral and right-to-left text unchanged', () => {
        const text = '👩‍👩‍👧‍👦 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 مرحبا שלום 🇫🇷';
        expect(coerceOne({}, text)).to.equal(text);
      });

      it('round-trips a 1 MB value unchanged', () => {
        const text = 'é🙂x'.repeat(262_144);
        expect(text.length).to.be.greaterThan(1_000_000);
        expect(coerceOne({}, text)).to.equal(text);
      });
    });

    describe('int', () => {
      it('reads a base-10 integer (seed: "42")', () => {
        expect(coerceOne({ type: 'int' }, '42')).to.equal(42);
      });

      it('accepts a sign and leading zeros: "+42", "-7", "007"', () => {
        expect(coerceOne({ type: 'int' }, '+42')).to.equal(42);
        expect(coerceOne({ type: 'int' }, '-7')).to.equal(-7);
        expect(coerceOne({ type: 'int' }, '007')).to.equal(7);
      });

      it('reads "-0" as 0', () => {
        expect(Object.is(coerceOne({ type: 'int' }, '-0'), 0)).to.equal(true);
      });

      it('refuses an int field given "abc", naming the field', () => {
        const found = problems(() => coerceArgs(task([{ key: 'count', type: 'int' }]), { count: 'abc' }));
        expect(found).to.deep.equal([{ name: 'count', reason: 'expected an integer, got "abc"' }]);
      });

      for (const text of ['', ' 12 ', '0x10', '1e3', '12abc', '4.0', '1_000', '1,000', '١٢']) {
        it(`refuses ${JSON.stringify(text)}`, () => {
          expect(reasonFor({ type: 'int' }, text)).to.equal(`expected an integer, got ${JSON.stringify(text)}`);
        });
      }

      it('accepts the largest safe integers', () => {
        expect(coerceOne({ type: 'int' }, '9007199254740991')).to.equal(Number.MAX_SAFE_INTEGER);
        expect(coerceOne({ type: 'int' }, '-9007199254740991')).to.equal(-Number.MAX_SAFE_INTEGER);
      });

      it('refuses an integer beyond ±(2^53-1) rather than rounding it', () => {
        const range = 'expected an integer between -9007199254740991 and 9007199254740991';
        expect(reasonFor({ type: 'int' }, '9007199254740992')).to.equal(`${range}, got "9007199254740992"`);
        expect(reasonFor({ type: 'int' }, '9223372036854775808')).to.equal(`${range}, got "9223372036854775808"`);
        expect(reasonFor({ type: 'int' }, '-9007199254740993')).to.include(range);
      });

      it('refuses a repeated int', () => {
        expect(reasonFor({ type: 'int' }, ['1', '2'])).to.equal('expected a single value, got 2 values');
      });

      it('says "is required" for a blank required int', () => {
        expect(reasonFor({ type: 'int', required: true }, '')).to.equal('is required');
      });
    });

    describe('float', () => {
      it('reads a decimal (seed: "3.5")', () => {
        expect(coerceOne({ type: 'float' }, '3.5')).to.equal(3.5);
      });

      it('keeps full double precision: "0.1" is exactly 0.1, not 0.10000000149011612', () => {
        expect(coerceOne({ type: 'float' }, '0.1')).to.equal(0.1);
      });

      it('reads 1e39, beyond float32 range', () => {
        expect(coerceOne({ type: 'float' }, '1e39')).to.equal(1e39);
      });

      it('accepts exponent and short forms: "1e3", "1E-3", ".5", "5.", "+1.5"', () => {
        expect(coerceOne({ type: 'float' }, '1e3')).to.equal(1000);
        expect(coerceOne({ type: 'float' }, '1E-3')).to.equal(0.001);
        expect(coerceOne({ type: 'float' }, '.5')).to.equal(0.5);
        expect(coerceOne({ type: 'float' }, '5.')).to.equal(5);
        expect(coerceOne({ type: 'float' }, '+1.5')).to.equal(1.5);
      });

      it('keeps the sign of "-0"', () => {
        expect(Object.is(coerceOne({ type: 'float' }, '-0'), -0)).to.equal(true);
      });

      for (const text of ['NaN', 'nan', 'inf', '+Inf', 'Infinity', '-Infinity']) {
        it(`refuses ${JSON.stringify(text)} with "expected a finite number"`, () => {
          expect(reasonFor({ type: 'float' }, text)).to.equal(`expected a finite number, got ${JSON.stringify(text)}`);
        });
      }

      it('refuses a decimal too large for a double', () => {
        expect(reasonFor({ type: 'float' }, '1e400')).to.equal('expected a finite number (out of range), got "1e400"');
      });

      for (const text of ['', ' 1', '1 ', '0x1p-2', '0x10', '1_0', '1,5', '.', 'e3', '1e', '--1', 'abc']) {
        it(`refuses ${JSON.stringify(text)}`, () => {
          expect(reasonFor({ type: 'float' }, text)).to.equal(`expected a finite number, got ${JSON.stringify(text)}`);
        });
      }
    });

    describe('bool', () => {
      it('reads "true" (seed)', () => {
        expect(coerceOne({ type: 'bool' }, 'true')).to.equal(true);
      });

      it('reads true/1/on/yes as true and false/0/off/no as false, in any case', () => {
        for (const text of ['true', 'True', 'TRUE', '1', 'on', 'ON', 'yes', 'Yes']) {
          expect(coerceOne({ type: 'bool' }, text), text).to.equal(true);
        }
        for (const text of ['false', 'False', '0', 'off', 'OFF', 'no', 'No']) {
          expect(coerceOne({ type: 'bool' }, text), text).to.equal(false);
        }
      });

      for (const text of ['maybe', '', '2', ' true', 'y', 't']) {
        it(`refuses ${JSON.stringify(text)}, listing the accepted words`, () => {
          expect(reasonFor({ type: 'bool' }, text)).to.equal(
            `expected true or false (also 1/0, on/off, yes/no), got ${JSON.stringify(text)}`,
          );
        });
      }

      it('refuses a repeated bool', () => {
        expect(reasonFor({ type: 'bool' }, ['true', 'true'])).to.equal('expected a single value, got 2 values');
      });

      it('uses the default when missing, else false', () => {
        expect(coerceOne({ type: 'bool', default: true })).to.equal(true);
        expect(coerceOne({ type: 'bool' })).to.equal(false);
      });

      it('reads a missing bool as false when the query comes from the form, whatever the default', () => {
        expect(coerceOne({ type: 'bool', default: true }, undefined, { checkboxes: true })).to.equal(false);
        expect(coerceOne({ type: 'bool', default: true }, 'on', { checkboxes: true })).to.equal(true);
      });

      it('says "is required" for a missing required bool without a default, outside the form', () => {
        expect(reasonFor({ type: 'bool', required: true })).to.equal('is required');
      });
    });

    describe('[]string', () => {
      it('splits "a,b" into two items (seed)', () => {
        expect(coerceOne({ type: '[]string' }, 'a,b')).to.deep.equal(['a', 'b']);
      });

      it('keeps repeated keys in order, without splitting them', () => {
        expect(coerceOne({ type: '[]string' }, ['z', 'a,b', 'm'])).to.deep.equal(['z', 'a,b', 'm']);
      });

      it('reads a JSON array, stringifying numbers and booleans, dropping null, keeping objects as JSON', () => {
        expect(coerceOne({ type: '[]string' }, '["a","b"]')).to.deep.equal(['a', 'b']);
        expect(coerceOne({ type: '[]string' }, '[1,2]')).to.deep.equal(['1', '2']);
        expect(coerceOne({ type: '[]string' }, '[true, null, {"a":1}, [2]]')).to.deep.equal(['true', '{"a":1}', '[2]']);
        expect(coerceOne({ type: '[]string' }, '[" spaced "]')).to.deep.equal([' spaced ']);
      });

      it('reads blank, whitespace or JSON null as an empty list', () => {
        expect(coerceOne({ type: '[]string' }, '')).to.deep.equal([]);
        expect(coerceOne({ type: '[]string' }, '   ')).to.deep.equal([]);
        expect(coerceOne({ type: '[]string' }, 'null')).to.deep.equal([]);
      });

      it('splits on commas, trimming and dropping empty pieces', () => {
        expect(coerceOne({ type: '[]string' }, ' a, b,,c ')).to.deep.equal(['a', 'b', 'c']);
        expect(coerceOne({ type: '[]string' }, '5')).to.deep.equal(['5']);
      });

      it('falls back to commas when a value only looks like JSON', () => {
        expect(coerceOne({ type: '[]string' }, '[a,b]')).to.deep.equal(['[a', 'b]']);
        expect(coerceOne({ type: '[]string' }, '{"a":1}')).to.deep.equal(['{"a":1}']);
      });

      it('reads one item a line when the value has line breaks (the form\'s textarea)', () => {
        expect(coerceOne({ type: '[]string' }, 'a, b\r\nc\n\n d ')).to.deep.equal(['a, b', 'c', 'd']);
      });

      it('gives an empty list when missing', () => {
        expect(coerceOne({ type: '[]string' })).to.deep.equal([]);
      });

      it('checks every item against the choices', () => {
        expect(coerceOne({ type: '[]string', choices: ['a', 'b'] }, ['b', 'a'])).to.deep.equal(['b', 'a']);
        expect(reasonFor({ type: '[]string', choices: ['a', 'b'] }, 'a,z')).to.equal('expected one of "a", "b", got "z"');
      });

      it('refuses an empty list on a required field', () => {
        expect(reasonFor({ type: '[]string', required: true }, '')).to.equal('is required');
        expect(reasonFor({ type: '[]string', required: true }, 'null')).to.equal('is required (got an empty list)');
      });

      it('refuses a control character in any item, saying which', () => {
        expect(reasonFor({ type: '[]string' }, ['ok', 'b\u0007'])).to.equal(
          'item 2 has a control character (U+0007) at index 1; only tab, line feed and carriage return are allowed',
        );
        expect(reasonFor({ type: '[]string' }, '["a\\u0000"]')).to.include('control character (U+0000)');
      });
    });

    describe('time', () => {
      const jan2 = new Date('2024-01-02T00:00:00Z');

      it('reads a date as UTC midnight', () => {
        expect(coerceOne({ type: 'time' }, '2024-01-02')).to.deep.equal(jan2);
      });

      it('reads a date-time with or without an offset (none means UTC)', () => {
        expect(coerceOne({ type: 'time' }, '2024-01-02T15:04:05Z')).to.deep.equal(new Date('2024-01-02T15:04:05Z'));
        expect(coerceOne({ type: 'time' }, '2024-01-02T15:04:05')).to.deep.equal(new Date('2024-01-02T15:04:05Z'));
        expect(coerceOne({ type: 'time' }, '2024-01-02 15:04:05')).to.deep.equal(new Date('2024-01-02T15:04:05Z'));
        expect(coerceOne({ type: 'time' }, '2024-01-02T15:04:05+02:00')).to.deep.equal(
          new Date('2024-01-02T13:04:05Z'),
        );
        expect(coerceOne({ type: 'time' }, '2024-01-02T15:04:05-0130')).to.deep.equal(
          new Date('2024-01-02T16:34:05Z'),
        );
      });

      it('reads a browser date-time input without seconds, and fractions of a second', () => {
        expect(coerceOne({ type: 'time' }, '2024-01-02T15:04')).to.deep.equal(new Date('2024-01-02T15:04:00Z'));
        expect(coerceOne({ type: 'time' }, '2024-01-02T15:04:05.123456Z')).to.deep.equal(
          new Date('2024-01-02T15:04:05.123Z'),
        );
      });

      it('reads years below 100 as written, not as 19xx', () => {
        expect((coerceOne({ type: 'time' }, '0042-03-04') as Date).getUTCFullYear()).to.equal(42);
      });

      it('reads unix seconds (up to 11 digits) and milliseconds (12-13 digits)', () => {
        expect(coerceOne({ type: 'time' }, '1704153600')).to.deep.equal(jan2);
        expect(coerceOne({ type: 'time' }, '1704153600000')).to.deep.equal(jan2);
        expect(coerceOne({ type: 'time' }, '0')).to.deep.equal(new Date(0));
      });

      it('reads blank as null, and missing as null', () => {
        expect(coerceOne({ type: 'time' }, '')).to.equal(null);
        expect(coerceOne({ type: 'time' })).to.equal(null);
      });

      it('refuses a blank required time', () => {
        expect(reasonFor({ type: 'time', required: true }, '')).to.equal('is required');
      });

      const invalid = [
        'tomorrow',
        '2024-13-45',
        '2024-02-30',
        '2023-02-29',
        '2024-01-02T24:00:00Z',
        '2024-01-02T12:60',
        '2024-01-02T12:00:00+24:00',
        '12:30',
        '1/2/2024',
        'Jan 2, 2024',
        '17041536000000',
        '-1',
        '2024-1-2',
      ];
      for (const text of invalid) {
        it(`refuses ${JSON.stringify(text)}, saying what it accepts`, () => {
          expect(reasonFor({ type: 'time' }, text)).to.equal(
            `expected an ISO 8601 date or date-time, or unix seconds/milliseconds, got ${JSON.stringify(text)}`,
          );
        });
      }

      it('accepts 29 February in a leap year', () => {
        expect(coerceOne({ type: 'time' }, '2024-02-29')).to.deep.equal(new Date('2024-02-29T00:00:00Z'));
      });
    });

    describe('defaults and required fields', () => {
      it('fills a missing field with its typed default', () => {
        const args = coerceArgs(
          task([
            { key: 'n', type: 'int', default: '12' },
            { key: 'f', type: 'float', default: 2.5 },
            { key: 'b', type: 'bool', default: 'true' },
            { key: 'l', type: '[]string', default: 'a,b' },
          ]),
          {},
        );
        expect(args).to.deep.equal({ n: 12, f: 2.5, b: true, l: ['a', 'b'] });
      });

      it('fills defaults beside given values (seed: the CollectMap vector, with typed defaults)', () => {
        const args = coerceArgs(task([{ key: 'a', default: '1' }, { key: 'b' }]), { b: 'x' });
        expect(args).to.deep.equal({ a: '1', b: 'x' });
      });

      it('refuses a missing required field without a default, naming it', () => {
        const found = problems(() => coerceArgs(task([{ key: 'target', required: true }]), {}));
        expect(found).to.deep.equal([{ name: 'target', reason: 'is required' }]);
      });

      it('fills a missing required field from its default', () => {
        expect(coerceArgs(task([{ key: 'target', required: true, default: 'db' }]), {})).to.deep.equal({
          target: 'db',
        });
      });

      it('leaves a missing optional string, int or float out of the args', () => {
        const args = coerceArgs(
          task([{ key: 's' }, { key: 'n', type: 'int' }, { key: 'f', type: 'float' }]),
          {},
        );
        expect(args).to.deep.equal({});
      });

      it('hands each run its own copy of a list or date default', () => {
        const fields = task([
          { key: 'l', type: '[]string', default: ['a'] },
          { key: 'd', type: 'time', default: '2024-01-02' },
        ]);
        const first = coerceArgs(fields, {});
        (first.l as string[]).push('mutated');
        (first.d as Date).setUTCFullYear(1999);
        const second = coerceArgs(fields, {});
        expect(second.l).to.deep.equal(['a']);
        expect(second.d).to.deep.equal(new Date('2024-01-02T00:00:00Z'));
      });
    });

    describe('blank values from a form', () => {
      it('refuses a blank int by default', () => {
        expect(reasonFor({ type: 'int' }, '')).to.equal('expected an integer, got ""');
      });

      it('treats a blank int, float, bool or time as missing when asked', () => {
        const options = { blankAsMissing: true };
        expect(coerceOne({ type: 'int', default: 3 }, '', options)).to.equal(3);
        expect(coerceOne({ type: 'float' }, ' ', options)).to.equal(undefined);
        expect(coerceOne({ type: 'bool', default: true }, '', options)).to.equal(true);
        expect(coerceOne({ type: 'time', default: '2024-01-02' }, '', options)).to.deep.equal(
          new Date('2024-01-02T00:00:00Z'),
        );
        expect(reasonFor({ type: 'int', required: true }, '', options)).to.equal('is required');
      });

      it('still keeps a blank string as an empty string when asked', () => {
        expect(coerceOne({ default: 'x' }, '', { blankAsMissing: true })).to.equal('');
      });
    });

    describe('choices', () => {
      it('accepts a value among the choices', () => {
        expect(coerceOne({ choices: ['sql', 'tar'] }, 'tar')).to.equal('tar');
      });

      it('refuses a value outside the choices, listing them', () => {
        expect(reasonFor({ choices: ['sql', 'tar'] }, 'zip')).to.equal('expected one of "sql", "tar", got "zip"');
      });

      it('compares numbers by value, so "007" matches the choice "7"', () => {
        expect(coerceOne({ type: 'int', choices: ['7', '8'] }, '007')).to.equal(7);
        expect(coerceOne({ type: 'float', choices: ['0.5'] }, '.5')).to.equal(0.5);
        expect(reasonFor({ type: 'int', choices: ['7', '8'] }, '9')).to.equal('expected one of "7", "8", got "9"');
      });

      it('lists at most 20 choices in the message', () => {
        const choices = Array.from({ length: 25 }, (_, index) => `c${index}`);
        expect(reasonFor({ choices }, 'zip')).to.match(/"c19" and 5 more, got "zip"$/);
      });

      it('is case-sensitive', () => {
        expect(reasonFor({ choices: ['sql'] }, 'SQL')).to.equal('expected one of "sql", got "SQL"');
      });
    });

    describe('undeclared keys', () => {
      it('passes them through as strings, and lists when repeated', () => {
        expect(coerceArgs(task([]), { foo: '1', tag: ['a', 'b'] })).to.deep.equal({ foo: '1', tag: ['a', 'b'] });
      });

      it('passes them through beside the declared fields', () => {
        expect(coerceArgs(task([{ key: 'n', type: 'int' }]), { n: '1', foo: 'bar' })).to.deep.equal({
          n: 1,
          foo: 'bar',
        });
      });

      it('refuses them with "is not a field of this task" when the task has strictArgs', () => {
        const found = problems(() => coerceArgs(task([{ key: 'n' }], true), { n: 'x', foo: '1', bar: ['a', 'b'] }));
        expect(found).to.deep.equal([
          { name: 'foo', reason: 'is not a field of this task' },
          { name: 'bar', reason: 'is not a field of this task' },
        ]);
      });

      it('refuses a control character in an undeclared value or key', () => {
        expect(problems(() => coerceArgs(task([]), { foo: 'a\u0000' }))).to.deep.equal([
          {
            name: 'foo',
            reason:
              'the value has a control character (U+0000) at index 1; only tab, line feed and carriage return are allowed',
          },
        ]);
        const found = problems(() => coerceArgs(task([]), { 'a\u0001b': '1' }));
        expect(found[0]?.name).to.equal('a\\u0001b');
        expect(found[0]?.reason).to.match(/^its name has a control character \(U\+0001\)/);
      });

      it('refuses __proto__, constructor and prototype without touching any prototype', () => {
        const raw = JSON.parse('{"__proto__": "x", "constructor": "y", "prototype": ["z"], "ok": "1"}') as RawArgs;
        const found = problems(() => coerceArgs(task([]), raw));
        expect(found.map((param) => param.name)).to.deep.equal(['__proto__', 'constructor', 'prototype']);
        expect(found.every((param) => param.reason === 'is a reserved name and cannot be an argument')).to.equal(true);
        expect(Object.getPrototypeOf({})).to.equal(Object.prototype);
        expect(({} as Record<string, unknown>).ok).to.equal(undefined);
      });

      it('refuses them even on a null-prototype query object, as node:querystring builds', () => {
        const raw = Object.create(null) as RawArgs;
        raw['__proto__'] = 'x';
        expect(problems(() => coerceArgs(task([]), raw))[0]?.name).to.equal('__proto__');
      });

      it('reads a declared field only from the query\'s own keys, never from Object.prototype', () => {
        const args = coerceArgs(task([{ key: 'toString' }, { key: 'hasOwnProperty', type: 'int' }]), {});
        expect(Object.keys(args)).to.deep.equal([]);
      });

      it('returns an ordinary object', () => {
        const args = coerceArgs(task([{ key: 'n' }]), { n: 'x' });
        expect(Object.getPrototypeOf(args)).to.equal(Object.prototype);
        expect(JSON.stringify(args)).to.equal('{"n":"x"}');
      });
    });

    describe('errors', () => {
      it('collects every problem into one ERR_INVALID_ARG, field by field in declaration order', () => {
        const fields = task(
          [
            { key: 'count', type: 'int' },
            { key: 'ratio', type: 'float' },
            { key: 'name', required: true },
            { key: 'mode', choices: ['sql', 'tar'] },
          ],
          true,
        );
        const error = refusal(() => coerceArgs(fields, { count: 'abc', ratio: 'NaN', mode: 'zip', extra: '1' }));
        expect(error.code).to.equal('ERR_INVALID_ARG');
        expect(error.status).to.equal(400);
        expect(error.details.task).to.equal('demo');
        expect(error.details.invalid_params).to.deep.equal([
          { name: 'count', reason: 'expected an integer, got "abc"' },
          { name: 'ratio', reason: 'expected a finite number, got "NaN"' },
          { name: 'name', reason: 'is required' },
          { name: 'mode', reason: 'expected one of "sql", "tar", got "zip"' },
          { name: 'extra', reason: 'is not a field of this task' },
        ]);
        expect(error.message).to.equal(
          'invalid arguments for task "demo": field "count": expected an integer, got "abc"; ' +
            'field "ratio": expected a finite number, got "NaN"; field "name": is required; ' +
            'field "mode": expected one of "sql", "tar", got "zip"; field "extra": is not a field of this task',
        );
      });

      it('quotes at most 100 characters of a value', () => {
        const reason = reasonFor({ type: 'int' }, '9'.repeat(50) + 'x'.repeat(1_000_000));
        expect(reason).to.equal(`expected an integer, got "${'9'.repeat(50)}${'x'.repeat(50)}…"`);
      });

      it('escapes quotes and control characters in a quoted value', () => {
        expect(reasonFor({ type: 'int' }, 'a"b\u001b')).to.equal('expected an integer, got "a\\"b\\u001b"');
      });

      it('cuts a long undeclared key in its name', () => {
        const found = problems(() => coerceArgs(task([], true), { ['k'.repeat(500)]: '1' }));
        expect(found[0]?.name).to.equal(`${'k'.repeat(100)}…`);
      });
    });
  });

  describe('coerceCodeArgs', () => {
    const typed = task([
      { key: 'n', type: 'int' },
      { key: 'f', type: 'float' },
      { key: 'b', type: 'bool' },
      { key: 'l', type: '[]string' },
      { key: 'd', type: 'time' },
      { key: 's' },
    ]);

    it('takes values that already have the field\'s type', () => {
      const when = new Date('2024-01-02T03:04:05Z');
      expect(coerceCodeArgs(typed, { n: 5, f: 0.1, b: true, l: ['a', 'b'], d: when, s: 'x' })).to.deep.equal({
        n: 5,
        f: 0.1,
        b: true,
        l: ['a', 'b'],
        d: when,
        s: 'x',
      });
    });

    it('reads strings like query values', () => {
      expect(coerceCodeArgs(typed, { n: '42', f: '3.5', b: 'yes', l: 'a,b', d: '2024-01-02' })).to.deep.equal({
        n: 42,
        f: 3.5,
        b: true,
        l: ['a', 'b'],
        d: new Date('2024-01-02T00:00:00Z'),
      });
    });

    it('reads a number for a time field by the query\'s digits rule: seconds or milliseconds', () => {
      const jan2 = new Date('2024-01-02T00:00:00Z');
      expect(coerceCodeArgs(typed, { d: 1704153600 }).d).to.deep.equal(jan2);
      expect(coerceCodeArgs(typed, { d: 1704153600000 }).d).to.deep.equal(jan2);
    });

    it('refuses values of the wrong type, naming field, value and expectation', () => {
      const found = problems(() =>
        coerceCodeArgs(typed, { n: 1.5, f: Number.NaN, b: 1, l: ['a', 2], d: new Date(Number.NaN), s: 5 }),
      );
      expect(found).to.deep.equal([
        { name: 'n', reason: 'expected an integer, got 1.5' },
        { name: 'f', reason: 'expected a finite number, got NaN' },
        { name: 'b', reason: 'expected true or false (also 1/0, on/off, yes/no), got 1' },
        { name: 'l', reason: 'expected a list of strings, got an array of 2 items' },
        { name: 'd', reason: 'expected an ISO 8601 date or date-time, or unix seconds/milliseconds, got a Date (Invalid Date)' },
        { name: 's', reason: 'expected a string, got 5' },
      ]);
    });

    it('refuses an unsafe integer and a negative or fractional time number', () => {
      expect(problems(() => coerceCodeArgs(typed, { n: 2 ** 60 }))[0]?.reason).to.match(/^expected an integer between/);
      expect(problems(() => coerceCodeArgs(typed, { d: -1 }))[0]?.reason).to.match(/^expected an ISO 8601/);
      expect(problems(() => coerceCodeArgs(typed, { d: 1.5 }))[0]?.reason).to.match(/^expected an ISO 8601/);
    });

    it('treats undefined and null as missing: defaults apply, required fields are refused', () => {
      const fields = task([
        { key: 'n', type: 'int', default: 7 },
        { key: 'r', required: true },
      ]);
      expect(problems(() => coerceCodeArgs(fields, { n: null, r: undefined }))).to.deep.equal([
        { name: 'r', reason: 'is required' },
      ]);
      expect(coerceCodeArgs(fields, { n: null, r: 'x' })).to.deep.equal({ n: 7, r: 'x' });
    });

    it('checks choices', () => {
      const fields = task([
        { key: 'mode', choices: ['sql', 'tar'] },
        { key: 'size', type: 'int', choices: ['1', '2'] },
      ]);
      expect(problems(() => coerceCodeArgs(fields, { mode: 'zip', size: 3 }))).to.deep.equal([
        { name: 'mode', reason: 'expected one of "sql", "tar", got "zip"' },
        { name: 'size', reason: 'expected one of "1", "2", got "3"' },
      ]);
    });

    it('refuses a control character in a typed list', () => {
      expect(problems(() => coerceCodeArgs(typed, { l: ['a', '\u0000'] }))[0]?.reason).to.include('item 2 has a control');
    });

    it('passes undeclared values through unchanged, or refuses them with strictArgs', () => {
      const payload = { deep: [1, 2] };
      expect(coerceCodeArgs(task([]), { payload }).payload).to.equal(payload);
      expect(problems(() => coerceCodeArgs(task([], true), { payload }))).to.deep.equal([
        { name: 'payload', reason: 'is not a field of this task' },
      ]);
    });

    it('refuses an own __proto__ key', () => {
      const args = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
      expect(problems(() => coerceCodeArgs(task([]), args))[0]?.name).to.equal('__proto__');
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    });

    it('copies lists and dates, so the caller\'s later changes do not reach the run', () => {
      const list = ['a'];
      const when = new Date('2024-01-02T00:00:00Z');
      const args: TaskArgs = coerceCodeArgs(typed, { l: list, d: when });
      list.push('b');
      when.setUTCFullYear(1999);
      expect(args.l).to.deep.equal(['a']);
      expect(args.d).to.deep.equal(new Date('2024-01-02T00:00:00Z'));
    });
  });

  describe('formatFieldValue', () => {
    it('turns typed values back into query values', () => {
      expect(formatFieldValue(field({ key: 'n', type: 'int' }), 42)).to.deep.equal(['42']);
      expect(formatFieldValue(field({ key: 'n', type: 'float' }), 0.1)).to.deep.equal(['0.1']);
      expect(formatFieldValue(field({ key: 'n', type: 'bool' }), false)).to.deep.equal(['false']);
      expect(formatFieldValue(field({ key: 'n', type: 'time' }), new Date('2024-01-02T00:00:00Z'))).to.deep.equal([
        '2024-01-02T00:00:00.000Z',
      ]);
      expect(formatFieldValue(field({ key: 'n', type: '[]string' }), ['a', 'b,c'])).to.deep.equal(['a', 'b,c']);
      expect(formatFieldValue(field({ key: 'n' }), 'hello')).to.deep.equal(['hello']);
    });

    it('gives nothing for null, undefined or an invalid date', () => {
      expect(formatFieldValue(field({ key: 'n' }), undefined)).to.deep.equal([]);
      expect(formatFieldValue(field({ key: 'n', type: 'time' }), null)).to.deep.equal([]);
      expect(formatFieldValue(field({ key: 'n', type: 'time' }), new Date(Number.NaN))).to.deep.equal([]);
    });

    it('keeps a stored ISO string for a time field (dates come back from JSON as strings)', () => {
      expect(formatFieldValue(field({ key: 'n', type: 'time' }), '2024-01-02T00:00:00.000Z')).to.deep.equal([
        '2024-01-02T00:00:00.000Z',
      ]);
    });

    it('sends a lone list item as a JSON array when commas or blanks would change it on the way back', () => {
      const list = field({ key: 'l', type: '[]string' });
      expect(formatFieldValue(list, ['plain'])).to.deep.equal(['plain']);
      expect(formatFieldValue(list, ['a, b'])).to.deep.equal(['["a, b"]']);
      expect(formatFieldValue(list, [''])).to.deep.equal(['[""]']);
      expect(formatFieldValue(list, ['null'])).to.deep.equal(['["null"]']);
      for (const items of [['a, b'], [''], ['null'], [' padded '], ['[x]'], ['line\nbreak']]) {
        expect(coerceArgs(task([{ key: 'l', type: '[]string' }]), { l: formatFieldValue(list, items) }).l).to.deep.equal(
          items,
        );
      }
    });

    it('round-trips through coerceArgs for every type', () => {
      const fields = task([
        { key: 'n', type: 'int' },
        { key: 'f', type: 'float' },
        { key: 'z', type: 'float' },
        { key: 'b', type: 'bool' },
        { key: 'l', type: '[]string' },
        { key: 'd', type: 'time' },
        { key: 's' },
      ]);
      const original = coerceArgs(fields, {
        n: '-12',
        f: '0.1',
        z: '-0',
        b: 'on',
        l: ['x', 'y, z'],
        d: '2024-01-02T15:04:05.678+01:00',
        s: 'hé🙂',
      });
      const raw: RawArgs = {};
      for (const each of fields.fields) raw[each.key] = formatFieldValue(each, original[each.key]);
      const again = coerceArgs(fields, raw);
      expect(again).to.deep.equal(original);
      expect(Object.is(again.z, -0)).to.equal(true);
    });
  });
});

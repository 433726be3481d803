import { Document, Scalar, visit } from 'yaml';

/**
 * YAML that any reader gets back as the same data. The `yaml` package writes YAML 1.2, where `yes`,
 * `on`, `0b1`, `1:20` or `2024-01-02` are plain strings, but a YAML 1.1 reader (PyYAML, yaml.v2, Ruby's
 * Psych, `yaml` in 1.1 mode) turns them into booleans, numbers or dates. So a string is double-quoted
 * when it would resolve to anything but a string under either the 1.1 or the 1.2 core schema.
 */

const AMBIGUOUS = oneOf([
  ...implicitTests('1.1'),
  ...implicitTests('1.2'),
  /^=$/, // YAML 1.1 "value" key type: PyYAML refuses to load a plain `=`
]);

function implicitTests(version: '1.1' | '1.2'): RegExp[] {
  const tests: RegExp[] = [];
  for (const tag of new Document(null, { version }).schema.tags) {
    if (tag.tag !== 'tag:yaml.org,2002:str' && 'test' in tag && tag.test instanceof RegExp) tests.push(tag.test);
  }
  return tests;
}

/** One regular expression for all: a single pass per string instead of twenty. */
function oneOf(tests: readonly RegExp[]): RegExp {
  return new RegExp(tests.map((test) => `(?:${test.source})`).join('|'));
}

/*
 * Outside YAML's printable set (U+0085 is printable), plus U+FEFF, which a reader may take for a BOM.
 * The `yaml` package double-quotes a string holding C1 controls but leaves them raw, and writes
 * U+FFFE/U+FFFF raw even in plain scalars; a 1.1 reader such as PyYAML then refuses the whole stream.
 * Such strings are double-quoted here and the characters escaped in the text, which is safe because
 * only a double-quoted scalar can contain them.
 */
const NON_PRINTABLE = /[\u007F-\u0084\u0086-\u009F\uFEFF\uFFFE\uFFFF]/;
const NON_PRINTABLE_ALL = new RegExp(NON_PRINTABLE.source, 'g');

function escapeNonPrintable(char: string): string {
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).toUpperCase()}`;
}

/** `value` must be plain data with well-formed strings (see `toPlain`, `wellFormedText`). */
export function yamlText(value: unknown): string {
  const doc = new Document(value, { version: '1.2', aliasDuplicateObjects: false });
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string') return;
      if (AMBIGUOUS.test(node.value) || NON_PRINTABLE.test(node.value)) node.type = Scalar.QUOTE_DOUBLE;
    },
  });
  // One line per double-quoted string: `yaml` folds a long one at its line breaks and then writes a line
  // holding only a space as `\\ ` (read back as a backslash) instead of `\ `.
  const text = doc.toString({ lineWidth: 0, doubleQuotedMinMultiLineLength: Number.MAX_SAFE_INTEGER });
  return NON_PRINTABLE.test(text) ? text.replace(NON_PRINTABLE_ALL, escapeNonPrintable) : text;
}

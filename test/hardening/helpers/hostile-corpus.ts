/**
 * Hostile values for the output-encoding tests: markup, script URLs, spreadsheet formulas, characters
 * XML forbids, lone surrogates, words YAML 1.1 reads as booleans or null, numbers written as strings,
 * bidi and zero-width characters, emoji, entity look-alikes, template syntax, line breaks and 1 MB
 * strings. Each category is a named list; `HOSTILE_VALUES` is all of them, in a fixed order.
 */

const MARKUP = [
  '<script>alert(1)</script>',
  '<SCRIPT SRC=//evil.example/x.js></SCRIPT>',
  '<img src=x onerror=alert(1)>',
  '"><img src=x onerror=alert(2)>',
  "'><svg onload=alert(3)>",
  '<svg><script>alert(4)</script></svg>',
  '<iframe srcdoc="<script>alert(5)</script>"></iframe>',
  '<div onmouseover="alert(6)">hover me</div>',
  '<body onload=alert(7)>',
  '<a href="javascript:alert(8)">click</a>',
  '</textarea><script>alert(9)</script>',
  '</title><script>alert(10)</script>',
  '</pre><script>alert(11)</script>',
  '</code></td></tr></table><script>alert(12)</script>',
  '<style>*{background:url(javascript:alert(13))}</style>',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(14)">',
  '<base href="javascript:alert(15)//">',
  '<object data="javascript:alert(16)"></object>',
  '<math><mtext></p><script>alert(17)</script>',
  '<input autofocus onfocus=alert(18)>',
  '<details open ontoggle=alert(19)>',
  '<x onclick=alert(20)>',
  '<!--<script>alert(21)//-->',
  '<![CDATA[<script>alert(22)</script>]]>',
  '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
  '#{alert(23)} !{"<b>"} #[b bold] (pug interpolation)',
  '{{constructor.constructor("alert(24)")()}}',
];

const SCRIPT_URLS = [
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  ' javascript:alert(1)',
  'java\tscript:alert(1)',
  'javascript&colon;alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
  'vbscript:msgbox(1)',
  '//evil.example/path',
  'http://evil.example/"onmouseover="alert(1)',
];

const FORMULAS = [
  '=1+1',
  '+1',
  '-1+1',
  '@SUM(A1:A2)',
  '\t=1+1',
  '\r=1+1',
  '=HYPERLINK("http://evil.example","click")',
  "=cmd|' /C calc'!A0",
  '=',
  '+',
  '-',
  '@',
  '\t',
  '\r',
  ' =1+1',
  "'=1+1",
  '=1\n=2',
  '-5',
  '+41 20 000 00 00',
  '@@@',
];

const XML_FORBIDDEN = [
  'NUL \u0000 end',
  'SOH \u0001 BS \u0008',
  'VT \u000b FF \u000c',
  'SO \u000e US \u001f',
  'ESC \u001b[31mred\u001b[0m',
  'DEL \u007f',
  'nonchars \ufffe \uffff',
  'C1 \u0080 \u0085 \u009b \u009f',
  '\u0000',
  'mixed \u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007 all',
];

const LONE_SURROGATES = ['lone high \uD800 here', 'lone low \uDC00 here', 'reversed \uDC00\uD800 pair', '\uDBFF'];

const YAML_WORDS = [
  'yes', 'no', 'on', 'off', 'y', 'n', 'Y', 'N', 'Yes', 'NO', 'On', 'OFF', 'true', 'false', 'True', 'FALSE',
  '~', 'null', 'Null', 'NULL', '', ' ', '-', '- x', '? x', ': x', 'a: b', '!tag', '!!python/object:os.system',
  '&anchor', '*alias', '%YAML 1.1', '---', '...', '# comment', '|', '>', '{a: 1}', '[1, 2]', '<<', '=',
];

const NUMBERS_AS_STRINGS = [
  '0', '012', '0x10', '0o12', '0b101', '1e3', '1E3', '.5', '5.', '1_000', '+1', '-0', '1:20', '1:20:30',
  '.inf', '-.Inf', '.NaN', 'NaN', 'Infinity', '2024-01-02', '2024-01-02T03:04:05Z', '12:30', '1,000',
  '9007199254740993', '1e400', '0.1', '00', '١٢٣',
];

const INVISIBLE = [
  'RLO \u202Egnp.exe',
  'LRO \u202D PDF \u202C',
  'isolates \u2066 \u2067 \u2068 \u2069',
  'zero width \u200B space',
  'ZWNJ \u200C ZWJ \u200D',
  'BOM \uFEFF inside',
  'line sep \u2028 para sep \u2029',
  'ALM \u061C mark',
  'soft\u00ADhyphen',
];

const EMOJI = ['😀', '👩‍👩‍👧 family', '🇺🇳 flag', '🏳️‍🌈', '1️⃣ keycap', '𝕏 𝄞 astral', 'עברית עם עברית', 'مرحبا بالعالم', 'Ω≈ç√∫˜µ≤≥÷', 'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇ zalgo'];

const ENTITIES = ['&lt;', '&amp;amp;', '&#60;script&#62;', '&#x3C;b&#x3E;', '&nbsp;', '&quot;&apos;', '&', '&;', '&unknown;', '&#0;', '&#xD800;', '&#1114112;'];

const SYNTAX = [
  ']]>',
  '<!--',
  '-->',
  '`backticks`',
  '`${alert(1)}`',
  '${7*7}',
  '{{7*7}}',
  '<%= 7*7 %>',
  '$(rm -rf ~)',
  "'; DROP TABLE runs; --",
  '" OR 1=1 --',
  'quote " double',
  "quote ' single",
  'back\\slash \\n \\u0000',
  'comma, semi; pipe|',
  '"a","b"\n"c"',
  '%s %d %n %%',
  'NEAR(a b) "x" AND y OR z*',
];

const LINES = ['\n', '\r\n', 'a\nb', 'a\r\nb', 'cr\ronly', '\n=1+1', 'trailing\n', '\n\n\n', 'tab\tsep\tvalues', '  padded  '];

/** The ordinary-looking keys a hostile object may have (as data keys and undeclared argument names). */
export const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '__defineGetter__',
  'valueOf',
  '<script>alert(1)</script>',
  '=1+1',
  '@key',
  '-key',
  'xmlns',
  'xml:lang',
  'a b',
  '1abc',
  '',
  'yes',
  'null',
  'k'.repeat(5000),
  'ключ',
  '😀',
  'bidi\u202Ekey',
  'dotted.key',
  'a:b',
];

export const ONE_MB_PLAIN = 'x'.repeat(1024 * 1024);
/** 1 MB of markup: four times larger once escaped for HTML. */
export const ONE_MB_MARKUP = '<b>&'.repeat(256 * 1024);

export const CATEGORIES: Readonly<Record<string, readonly string[]>> = {
  markup: MARKUP,
  scriptUrls: SCRIPT_URLS,
  formulas: FORMULAS,
  xmlForbidden: XML_FORBIDDEN,
  loneSurrogates: LONE_SURROGATES,
  yamlWords: YAML_WORDS,
  numbersAsStrings: NUMBERS_AS_STRINGS,
  invisible: INVISIBLE,
  emoji: EMOJI,
  entities: ENTITIES,
  syntax: SYNTAX,
  lines: LINES,
  keys: HOSTILE_KEYS,
};

/** Every hostile string (the 1 MB ones excepted: they are placed separately). */
export const HOSTILE_VALUES: readonly string[] = Object.values(CATEGORIES).flat();

const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether taskdeck takes this as a text argument (C0 controls other than tab/CR/LF and lone surrogates are refused). */
export function acceptedAsArgument(value: string): boolean {
  return !CONTROL.test(value) && !LONE_SURROGATE.test(value);
}

/** JS values that are not strings: for data (and, where JSON can store them, arguments). */
export function hostileData(): Record<string, unknown> {
  const cyclic: Record<string, unknown> = { name: 'cycle' };
  cyclic.self = cyclic;
  cyclic.list = [cyclic, { back: cyclic }];
  let deep: unknown = 'bottom';
  for (let i = 0; i < 1000; i++) deep = { d: deep };
  let deepList: unknown = ['bottom'];
  for (let i = 0; i < 200; i++) deepList = [deepList];
  const withProto: Record<string, unknown> = {};
  for (const key of HOSTILE_KEYS) Object.defineProperty(withProto, key, { value: `value of ${key.slice(0, 40)}`, enumerable: true, writable: true, configurable: true });
  return {
    bigint: 2n ** 100n,
    negativeBigint: -(10n ** 30n),
    cyclic,
    deep,
    deepList,
    withProto,
    numbers: [0, -0, -5, 1e21, 1e-7, Number.MAX_SAFE_INTEGER + 2, NaN, Infinity, -Infinity, 0.1 + 0.2],
    date: new Date(Date.UTC(2024, 1, 29, 12, 0, 0)),
    badDate: new Date(Number.NaN),
    map: new Map<unknown, unknown>([['<k>', '<v>'], [1, 'one'], ['__proto__', 'mapped']]),
    set: new Set(['=1', '=1', '@x']),
    buffer: Buffer.from('\u0000binary\uFFFF'),
    error: new Error('<script>alert("error")</script>'),
    undef: undefined,
    fn: () => '<script>',
    symbol: Symbol('<sym>'),
    regexp: /<script>/gi,
    boxed: [new String('=boxed'), new Boolean(false)],
    sparse: [1, , 3], // eslint-disable-line no-sparse-arrays
  };
}

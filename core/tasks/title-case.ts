/** The seed's title-casing of keys, used when a task or field declares no title. */

/** Words shown upper-cased wherever they appear in a key. */
export const ACRONYMS: ReadonlySet<string> = new Set([
  'API',
  'HTML',
  'ID',
  'IP',
  'JSON',
  'MD5',
  'SHA',
  'SKU',
  'SQL',
  'XML',
  'URI',
  'URL',
]);

const SEPARATORS = /[\s_.-]+/u;
/** `fooBar` -> `foo Bar`, `v2Migrate` -> `v2 Migrate`. A digit stays with the letters before it (`v2`, `md5`). */
const LOWER_THEN_UPPER = /([\p{Ll}\p{N}])(\p{Lu})/gu;
/** `HTTPServer` -> `HTTP Server`: a run of capitals ends before the capital that starts a word. */
const CAPITALS_THEN_WORD = /(\p{Lu})(\p{Lu}\p{Ll})/gu;

/**
 * `db_backup` -> `Db Backup`, `HTTPServer` -> `HTTP Server`, `user_id` -> `User ID`.
 * Splits on `_`, whitespace, `-`, `.` and camel humps; upper-cases known acronyms and the first letter of
 * every other word, leaving the rest of the word as written.
 */
export function titleCase(key: string): string {
  return splitWords(key).map(capitalizeWord).join(' ');
}

export function splitWords(key: string): string[] {
  return key
    .split(SEPARATORS)
    .flatMap((piece) => piece.replace(LOWER_THEN_UPPER, '$1 $2').replace(CAPITALS_THEN_WORD, '$1 $2').split(' '))
    .filter((word) => word !== '');
}

function capitalizeWord(word: string): string {
  const upper = word.toUpperCase();
  if (ACRONYMS.has(upper)) return upper;
  // Iterating by code point keeps an astral first character whole.
  const [first = '', ...rest] = word;
  return first.toUpperCase() + rest.join('');
}

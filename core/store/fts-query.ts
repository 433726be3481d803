/**
 * Turns what a person types into an FTS5 query that cannot be a syntax error: every word becomes a
 * quoted phrase (so `"`, `-`, `:`, `(`, `NEAR`, `AND` lose their meaning), words are ANDed, and a
 * trailing `*` keeps its prefix meaning. Returns null when nothing searchable is left.
 */
export function toFtsQuery(text: string): string | null {
  // Control characters (NUL above all) make FTS5 fail: they are never part of a word.
  const words = text.replace(/[\u0000-\u001f\u007f]/g, ' ').match(/"[^"]*"|[^\s"]+/g) ?? [];
  const phrases = words
    .map((word) => {
      const prefix = word.endsWith('*') && !word.startsWith('"');
      const bare = word.replace(/^"|"$/g, '').replace(/\*+$/, '');
      return bare.trim() ? `"${bare.replace(/"/g, '""')}"${prefix ? '*' : ''}` : '';
    })
    .filter(Boolean);
  return phrases.length ? phrases.slice(0, 32).join(' ') : null;
}

export const MATCH_START = '\u0002';
export const MATCH_END = '\u0003';

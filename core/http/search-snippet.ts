/**
 * Where a history search matched, for people (HTML with <mark>) and for programs (plain text with
 * highlight offsets). The store marks each match between \u0002 and \u0003 in a snippet of task text:
 * untrusted, so it is escaped before any markup is added.
 */
import type { SearchSnippet } from '../tasks/run-repository.js';

const MATCH_START = '\u0002';
const MATCH_END = '\u0003';
/** ANSI escape sequences (colours of a log line): noise in a one-line excerpt. */
const ANSI = /\u001b\[[0-9;:?]*[ -/]*[@-~]|\u001b[@-Z\\-_]/g;
/** Other control characters (a snippet is one line): everything in C0 and C1 but the two markers and tab. */
const CONTROL = /[\u0000\u0001\u0004-\u0008\u000a-\u001f\u007f-\u009f]/g;
/** Characters a reader cannot see (bidi overrides, zero-width): shown as a visible `U+202E` marker, as +visible does. */
const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;

/**
 * The JSON form of a match: `text` is the excerpt without markers, `highlights` the matched ranges in
 * it as `[start, end)` offsets counted in UTF-16 code units (JavaScript string indices). Plain text plus
 * offsets, rather than `[`…`]` or `**` in the text, because task text can contain any of those itself.
 */
export interface SnippetJson {
  where: SearchSnippet['where'];
  /** The log line's number when `where` is "log", else null. */
  seq: number | null;
  text: string;
  highlights: { start: number; end: number }[];
}

export interface SnippetView {
  where: SearchSnippet['where'];
  seq: number | null;
  /** Escaped excerpt with <mark> around each match: safe to insert as HTML. */
  html: string;
}

/** The excerpt as plain text and the matched ranges; unbalanced markers are tolerated (a match cut by the excerpt's edge). */
export function snippetJson(snippet: SearchSnippet): SnippetJson {
  const clean = cleanSnippet(snippet.text);
  let text = '';
  const highlights: SnippetJson['highlights'] = [];
  let start = -1;
  for (const char of clean) {
    if (char === MATCH_START) {
      if (start === -1) start = text.length;
    } else if (char === MATCH_END) {
      if (start !== -1 && text.length > start) highlights.push({ start, end: text.length });
      start = -1;
    } else {
      text += char;
    }
  }
  if (start !== -1 && text.length > start) highlights.push({ start, end: text.length });
  return { where: snippet.where, seq: snippet.seq, text, highlights };
}

/** Escapes the excerpt first, then turns the markers into <mark> elements (balanced, never nested). */
export function snippetView(snippet: SearchSnippet): SnippetView {
  const escaped = escapeHtml(cleanSnippet(snippet.text)).replace(INVISIBLE, (char) => {
    const code = `U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    return `<abbr class="invisible-char" title="hidden character ${code}">${code}</abbr>`;
  });
  let html = '';
  let open = false;
  for (const char of escaped) {
    if (char === MATCH_START) {
      if (!open) html += '<mark>';
      open = true;
    } else if (char === MATCH_END) {
      if (open) html += '</mark>';
      open = false;
    } else {
      html += char;
    }
  }
  if (open) html += '</mark>';
  return { where: snippet.where, seq: snippet.seq, html };
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

function cleanSnippet(text: string): string {
  return text.replace(ANSI, '').replace(CONTROL, ' ');
}

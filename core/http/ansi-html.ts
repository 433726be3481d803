/**
 * A log line as HTML: ansi_up escapes the text, then turns SGR colour codes into class spans. The
 * Content-Security-Policy forbids inline `style` attributes, so the few styles ansi_up writes inline
 * (bold, dim, italic, underline) become classes, and 256-colour/true-colour codes are dropped.
 */
import { AnsiUp } from 'ansi_up';

const STYLE_CLASSES: Record<string, string> = {
  'font-weight:bold': 'ansi-bold',
  'opacity:0.7': 'ansi-dim',
  'font-style:italic': 'ansi-italic',
  'text-decoration:underline': 'ansi-underline',
};

const converter = new AnsiUp();
converter.use_classes = true;

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;' };

export function ansiToHtml(line: string): string {
  // Most lines carry no escape code: escape them as ansi_up would, without its parser.
  if (!line.includes('\u001b')) return line.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
  // Each line starts from a reset: colours never leak from one line (or one run) into the next.
  const html = converter.ansi_to_html(`\u001b[0m${line}`);
  return html.includes('style="') ? html.replace(/<span style="([^"]*)"( class="([^"]*)")?>/g, (_m, style: string, _c, cls?: string) => spanWithClasses(style, cls)) : html;
}

function spanWithClasses(style: string, existing: string | undefined): string {
  const classes = style.split(';').map((s) => STYLE_CLASSES[s.trim()]).filter((c): c is string => Boolean(c));
  if (existing) classes.push(existing);
  return classes.length ? `<span class="${classes.join(' ')}">` : '<span>';
}

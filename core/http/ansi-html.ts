/** A log line as HTML: escaped first, then ANSI colour codes turned into spans. */
import Convert from 'ansi-to-html';

const converter = new Convert({ escapeXML: true, stream: false, newline: false });

export function ansiToHtml(line: string): string {
  return converter.toHtml(line);
}

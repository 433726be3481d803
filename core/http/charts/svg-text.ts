/**
 * The small vocabulary every chart is written in: escaped text, finite numbers, round axis steps and
 * UTC dates. Charts are strings built here from numbers; nothing from a request or a task reaches the
 * markup without `escapeXml`, and no number reaches it without `coord` (so never `NaN` or `Infinity`).
 */

const XML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Text or an attribute value as XML (and HTML) character data. Characters XML 1.0 forbids (C0 controls
 * other than tab, LF and CR, lone surrogates, U+FFFE/U+FFFF) become U+FFFD so the SVG stays well-formed.
 */
export function escapeXml(value: unknown): string {
  return String(value)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c);
}

/** A coordinate with at most two decimals; anything not finite is drawn at 0 rather than as `NaN`. */
export function coord(value: number): string {
  if (!Number.isFinite(value)) return '0';
  const rounded = Math.round(value * 100) / 100;
  return String(Object.is(rounded, -0) ? 0 : rounded);
}

/** A non-negative finite number, or 0: how inputs are read before they are scaled. */
export function nonNegative(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * The top of an axis at or above `max` that splits into `steps` round, whole steps (1, 2 or 5 times a
 * power of ten): the units are counts or microseconds, so a step is never a fraction. At least one unit
 * a step, so scaling never divides by 0.
 */
export function niceAxis(max: number, steps: number): { top: number; step: number } {
  const target = Math.max(nonNegative(max), steps) / steps;
  const power = 10 ** Math.floor(Math.log10(target));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= target) ?? 10 * power;
  return { top: step * steps, step };
}

/** `2026-11-20 14:03:05 UTC` from epoch milliseconds. */
export function utcDateTime(ms: number): string {
  const date = new Date(Number.isFinite(ms) ? ms : 0);
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A rough width of a label in the charts' 12px sans-serif, to lay out a legend without measuring. */
export function textWidth(text: string, fontSize = 12): number {
  return text.length * fontSize * 0.6;
}

/** The root element every chart shares: scales to its container through the viewBox. */
export function svgOpen(kind: string, width: number, height: number, label: string, role: 'img' | 'group'): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="stat-chart ${escapeXml(kind)}" viewBox="0 0 ${coord(width)} ${coord(height)}" ` +
    `width="100%" preserveAspectRatio="xMidYMid meet" role="${role}" aria-label="${escapeXml(label)}">` +
    `<title>${escapeXml(label)}</title>`
  );
}

/** A chart with nothing to draw: the same frame and a sentence instead of bars (no axis, no NaN). */
export function emptyChart(kind: string, label: string, message: string): string {
  const width = 960;
  const height = 80;
  return `${svgOpen(`${kind} empty`, width, height, label, 'img')}<text class="empty-text" x="${width / 2}" y="${height / 2 + 4}" text-anchor="middle">${escapeXml(message)}</text></svg>`;
}

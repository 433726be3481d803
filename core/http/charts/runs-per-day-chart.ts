/**
 * Runs per UTC day: a stacked bar per day, runs that succeeded at the bottom and the rest (error,
 * cancelled, timeout, interrupted) on top, with a count axis, day labels and a tooltip per day.
 */
import { coord, emptyChart, escapeXml, niceAxis, nonNegative, svgOpen, textWidth } from './svg-text.js';

export interface DayBar {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  ok: number;
  failed: number;
}

export interface RunsPerDayChartInput {
  /** Every day to draw, oldest first, zeros included (see `fillDays`). */
  days: readonly DayBar[];
  /** The chart's accessible name, e.g. "Runs per day over the last 30 days". */
  label: string;
}

const WIDTH = 960;
const HEIGHT = 240;
const PLOT = { left: 44, right: WIDTH - 14, top: 30, bottom: HEIGHT - 28 };
/** At most this many day labels under the axis, so they never overlap. */
const MAX_LABELS = 8;

export function runsPerDayChartSvg(input: RunsPerDayChartInput): string {
  const days = input.days.map((d) => ({ day: String(d.day), ok: Math.round(nonNegative(d.ok)), failed: Math.round(nonNegative(d.failed)) }));
  if (days.length === 0) return emptyChart('runs-per-day-chart', input.label, 'No days to show.');
  const total = days.reduce((sum, d) => sum + d.ok + d.failed, 0);
  const axis = niceAxis(Math.max(...days.map((d) => d.ok + d.failed)), 4);
  const plotHeight = PLOT.bottom - PLOT.top;
  const h = (count: number) => (count / axis.top) * plotHeight;
  const slot = (PLOT.right - PLOT.left) / days.length;
  const barWidth = Math.min(40, Math.max(1, slot * 0.7));

  const parts: string[] = [svgOpen('runs-per-day-chart', WIDTH, HEIGHT, input.label, 'img')];
  parts.push(legend());
  for (let value = 0; value <= axis.top; value += axis.step) {
    const at = coord(PLOT.bottom - h(value));
    parts.push(`<line class="grid" x1="${PLOT.left}" x2="${PLOT.right}" y1="${at}" y2="${at}"/>`);
    parts.push(`<text class="tick-label" x="${PLOT.left - 6}" y="${coord(PLOT.bottom - h(value) + 4)}" text-anchor="end">${value}</text>`);
  }
  const every = Math.ceil(days.length / MAX_LABELS);
  days.forEach((d, i) => {
    const x = PLOT.left + i * slot + (slot - barWidth) / 2;
    const okTop = PLOT.bottom - h(d.ok);
    const failedTop = okTop - h(d.failed);
    const tip = `${d.day}: ${d.ok} ok, ${d.failed} failed`;
    parts.push(`<g class="day" data-day="${escapeXml(d.day)}"><title>${escapeXml(tip)}</title>`);
    // The whole column carries the tooltip, also on a day without runs.
    parts.push(`<rect class="hit" x="${coord(PLOT.left + i * slot)}" y="${PLOT.top}" width="${coord(slot)}" height="${plotHeight}"/>`);
    if (d.ok > 0) parts.push(`<rect class="bar s-ok" x="${coord(x)}" y="${coord(okTop)}" width="${coord(barWidth)}" height="${coord(h(d.ok))}" data-count="${d.ok}"/>`);
    if (d.failed > 0) parts.push(`<rect class="bar s-failed" x="${coord(x)}" y="${coord(failedTop)}" width="${coord(barWidth)}" height="${coord(h(d.failed))}" data-count="${d.failed}"/>`);
    parts.push('</g>');
    if (i % every === 0) {
      parts.push(`<text class="tick-label" x="${coord(PLOT.left + (i + 0.5) * slot)}" y="${PLOT.bottom + 16}" text-anchor="middle">${escapeXml(shortDay(d.day))}</text>`);
    }
  });
  parts.push(`<line class="axis" x1="${PLOT.left}" x2="${PLOT.right}" y1="${PLOT.bottom}" y2="${PLOT.bottom}"/>`);
  if (total === 0) {
    parts.push(`<text class="empty-text" x="${coord((PLOT.left + PLOT.right) / 2)}" y="${coord((PLOT.top + PLOT.bottom) / 2)}" text-anchor="middle">No runs in this window.</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

/** `11-20` from `2026-11-20`; the year is in the tooltip and the page. Anything else is shown as is. */
function shortDay(day: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(day) ? day.slice(5) : day;
}

function legend(): string {
  const entries = [
    { cls: 's-ok', text: 'ok' },
    { cls: 's-failed', text: 'failed (error, cancelled, timeout, interrupted)' },
  ];
  let x = PLOT.left;
  const parts = ['<g class="legend">'];
  for (const entry of entries) {
    parts.push(`<g transform="translate(${coord(x)} 8)"><rect class="bar ${entry.cls}" width="10" height="10"/><text class="legend-text" x="16" y="9.5">${escapeXml(entry.text)}</text></g>`);
    x += 16 + textWidth(entry.text) + 16;
  }
  parts.push('</g>');
  return parts.join('');
}

/**
 * Duration per run: one bar per finished run, oldest on the left, coloured by status and marked with a
 * letter under the axis when it did not succeed (colour is never the only cue), a dashed p95 line, and
 * a triangle over each run slower than usual. Every bar links to its run page; its tooltip says when it
 * started, how long it took and how it ended.
 */
import { microsToMillis } from '../../tasks/micros.js';
import type { RunStatus } from '../../tasks/types.js';
import { isSlowerThanUsual } from '../analytics/slower-than-usual.js';
import { coord, emptyChart, escapeXml, niceAxis, nonNegative, svgOpen, textWidth, utcDateTime } from './svg-text.js';

export interface DurationPoint {
  id: string;
  /** Epoch milliseconds. */
  startedAt: number;
  elapsedUs: number;
  status: RunStatus;
}

export interface DurationChartInput {
  /** Finished runs, oldest first (as `history.durations` returns them). */
  runs: readonly DurationPoint[];
  /** The task's usual p95 (the analytics window); null draws no line and marks nothing slow. */
  p95Us: number | null;
  /** Where a bar links to. */
  runHref: (id: string) => string;
  /** The chart's accessible name, e.g. "Duration of the latest 100 runs of Database Backup". */
  label: string;
}

/** What each status looks like: its class, the letter under its bar, the word in the legend. */
export const STATUS_MARKS: Readonly<Record<RunStatus, { letter: string; word: string }>> = {
  ok: { letter: '', word: 'ok' },
  error: { letter: 'E', word: 'error' },
  cancelled: { letter: 'C', word: 'cancelled' },
  timeout: { letter: 'T', word: 'timeout' },
  interrupted: { letter: 'I', word: 'interrupted' },
  running: { letter: 'R', word: 'running' },
};

const WIDTH = 960;
const HEIGHT = 280;
const PLOT = { left: 60, right: WIDTH - 14, top: 34, bottom: HEIGHT - 40 };
/** Bars keep a sensible width with few runs: the plot has room for at least this many. */
const MIN_SLOTS = 30;

function statusMark(status: string): { cls: string; letter: string; word: string } {
  const mark = Object.hasOwn(STATUS_MARKS, status) ? STATUS_MARKS[status as RunStatus] : undefined;
  return mark ? { cls: `s-${status}`, ...mark } : { cls: 's-other', letter: '?', word: status };
}

export function durationChartSvg(input: DurationChartInput): string {
  const runs = input.runs.map((r) => ({ ...r, elapsedUs: nonNegative(r.elapsedUs) }));
  if (runs.length === 0) return emptyChart('duration-chart', input.label, 'No finished runs yet.');
  const p95 = input.p95Us === null ? null : nonNegative(input.p95Us);
  const longest = Math.max(...runs.map((r) => r.elapsedUs), p95 ?? 0);
  const axis = niceAxis(longest, 4);
  const plotHeight = PLOT.bottom - PLOT.top;
  const y = (us: number) => PLOT.bottom - (us / axis.top) * plotHeight;
  const slot = (PLOT.right - PLOT.left) / Math.max(runs.length, MIN_SLOTS);
  const barWidth = Math.max(1, slot * 0.72);

  const parts: string[] = [svgOpen('duration-chart', WIDTH, HEIGHT, input.label, 'group')];
  parts.push(legend(runs, p95));
  parts.push(yAxis(axis, y));

  const slow: string[] = [];
  runs.forEach((run, i) => {
    const mark = statusMark(run.status);
    const x = PLOT.left + i * slot + (slot - barWidth) / 2;
    const top = y(run.elapsedUs);
    const isSlow = isSlowerThanUsual(run.elapsedUs, p95);
    const tip = `started ${utcDateTime(run.startedAt)}, ${microsToMillis(run.elapsedUs)}, ${mark.word}${isSlow ? ', slower than usual' : ''}`;
    parts.push(
      `<a class="run-link" href="${escapeXml(input.runHref(run.id))}"><title>${escapeXml(tip)}</title>` +
        // The whole column is the link's target, so a run that took almost no time can still be clicked.
        `<rect class="hit" x="${coord(PLOT.left + i * slot)}" y="${PLOT.top}" width="${coord(slot)}" height="${plotHeight}"/>` +
        `<rect class="bar ${mark.cls}${isSlow ? ' slow' : ''}" x="${coord(x)}" y="${coord(top)}" width="${coord(barWidth)}" height="${coord(PLOT.bottom - top)}" data-us="${run.elapsedUs}"/>` +
        (mark.letter ? `<text class="status-letter" x="${coord(x + barWidth / 2)}" y="${PLOT.bottom + 11}" text-anchor="middle">${escapeXml(mark.letter)}</text>` : '') +
        `</a>`,
    );
    if (isSlow) slow.push(`<path class="slow-mark" d="M${coord(x + barWidth / 2)} ${coord(top - 2)} l-3.5 -6 h7 z"/>`);
  });
  parts.push(...slow);

  if (p95 !== null) {
    const py = y(p95);
    parts.push(`<line class="p95" x1="${PLOT.left}" x2="${PLOT.right}" y1="${coord(py)}" y2="${coord(py)}"/>`);
    parts.push(`<text class="p95-label" x="${PLOT.right}" y="${coord(py - 4)}" text-anchor="end">${escapeXml(`p95 ${microsToMillis(p95)}`)}</text>`);
  }

  parts.push(`<line class="axis" x1="${PLOT.left}" x2="${PLOT.right}" y1="${PLOT.bottom}" y2="${PLOT.bottom}"/>`);
  // Under the axis: when the oldest and the newest run shown started.
  const oldest = runs[0]!;
  const newest = runs.at(-1)!;
  const dateY = PLOT.bottom + 30;
  if (runs.length === 1) {
    parts.push(`<text class="tick-label" x="${PLOT.left}" y="${dateY}">${escapeXml(`started ${utcDateTime(oldest.startedAt)}`)}</text>`);
  } else {
    parts.push(`<text class="tick-label" x="${PLOT.left}" y="${dateY}">${escapeXml(`oldest ${utcDateTime(oldest.startedAt)}`)}</text>`);
    parts.push(`<text class="tick-label" x="${PLOT.right}" y="${dateY}" text-anchor="end">${escapeXml(`newest ${utcDateTime(newest.startedAt)}`)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

/** The y axis: gridlines and labels at each step, in the humanised form of the rest of the UI. */
function yAxis(axis: { top: number; step: number }, y: (us: number) => number): string {
  const parts: string[] = [];
  for (let value = 0; value <= axis.top; value += axis.step) {
    const at = coord(y(value));
    parts.push(`<line class="grid" x1="${PLOT.left}" x2="${PLOT.right}" y1="${at}" y2="${at}"/>`);
    parts.push(`<text class="tick-label" x="${PLOT.left - 6}" y="${coord(y(value) + 4)}" text-anchor="end">${escapeXml(microsToMillis(value))}</text>`);
  }
  return parts.join('');
}

/** One entry per status present, with its count and letter, then the p95 line and the slow mark. */
function legend(runs: readonly DurationPoint[], p95: number | null): string {
  const counts = new Map<string, number>();
  for (const run of runs) counts.set(run.status, (counts.get(run.status) ?? 0) + 1);
  const entries: { swatch: string; text: string }[] = [];
  for (const status of Object.keys(STATUS_MARKS).concat([...counts.keys()].filter((s) => !Object.hasOwn(STATUS_MARKS, s)))) {
    const count = counts.get(status);
    if (!count) continue;
    const mark = statusMark(status);
    entries.push({ swatch: `<rect class="bar ${mark.cls}" width="10" height="10"/>`, text: `${mark.letter ? `${mark.letter} ` : ''}${mark.word} (${count})` });
  }
  if (p95 !== null) {
    entries.push({ swatch: '<line class="p95" x1="0" x2="14" y1="5" y2="5"/>', text: 'p95' });
    if (runs.some((r) => isSlowerThanUsual(r.elapsedUs, p95))) entries.push({ swatch: '<path class="slow-mark" d="M5 10 l-4 -7 h8 z"/>', text: 'slower than usual (above p95)' });
  }
  let x = PLOT.left;
  const parts = ['<g class="legend">'];
  for (const entry of entries) {
    parts.push(`<g transform="translate(${coord(x)} 8)">${entry.swatch}<text class="legend-text" x="18" y="9.5">${escapeXml(entry.text)}</text></g>`);
    x += 18 + textWidth(entry.text) + 16;
  }
  parts.push('</g>');
  return parts.join('');
}

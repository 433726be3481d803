/**
 * The window the analytics look back over (`?window=24h|7d|30d|90d`, default 30d) and the UTC days it
 * touches. The window is rolling: it starts exactly 24 hours, 7, 30 or 90 days before now, so its
 * first day on the runs-per-day chart is usually partial.
 */
import { badRequest, truncate } from '../../errors.js';
import type { DayCount } from '../../tasks/run-repository.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const WINDOWS = { '24h': DAY, '7d': 7 * DAY, '30d': 30 * DAY, '90d': 90 * DAY } as const;
export type WindowName = keyof typeof WINDOWS;
export const WINDOW_NAMES = Object.keys(WINDOWS) as WindowName[];
export const DEFAULT_WINDOW: WindowName = '30d';
/** How pages and chart labels name a window. */
export const WINDOW_WORDS: Readonly<Record<WindowName, string>> = { '24h': 'the last 24 hours', '7d': 'the last 7 days', '30d': 'the last 30 days', '90d': 'the last 90 days' };

/** Reads `?window=`: absent is the default; anything but the four names (even empty) is a 400 naming it. */
export function parseWindow(value: string | string[] | undefined): WindowName {
  if (value === undefined) return DEFAULT_WINDOW;
  // A repeated parameter counts by its first value, as `t` and `format` do.
  const text = Array.isArray(value) ? (value[0] ?? '') : value;
  if (Object.hasOwn(WINDOWS, text)) return text as WindowName;
  const expected = `expected one of ${WINDOW_NAMES.join(', ')}`;
  throw badRequest(`parameter "window": ${expected}, got ${JSON.stringify(truncate(text, 100))}`, { invalid_params: [{ name: 'window', reason: expected }] });
}

/** Epoch milliseconds where the window starts. */
export function windowSince(window: WindowName, now: number): number {
  return now - WINDOWS[window];
}

/** `YYYY-MM-DD` of a UTC day. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * One entry per UTC day from the window's first day to today, days without runs as zeros, so a chart
 * (and a client) sees gaps as gaps. A day in `counts` after today (a run stamped by a clock ahead of
 * ours) extends the range rather than being dropped, so the days always add up to the counts.
 */
export function fillDays(counts: readonly DayCount[], since: number, now: number): DayCount[] {
  const byDay = new Map(counts.map((c) => [c.day, c]));
  const lastCounted = counts.reduce((last, c) => (c.day > last ? c.day : last), '');
  const days: DayCount[] = [];
  for (let at = Math.floor(since / DAY) * DAY; ; at += DAY) {
    const day = utcDay(at);
    const count = byDay.get(day);
    days.push({ day, ok: count?.ok ?? 0, failed: count?.failed ?? 0 });
    if (day >= utcDay(now) && day >= lastCounted) break;
  }
  return days;
}

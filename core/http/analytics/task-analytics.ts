/**
 * One task's analytics over a window: its numbers, its latest durations, runs per day, and both charts
 * as SVG. The stats page is built from it, and so can any page that embeds the charts (the task page):
 *
 *   const analytics = await loadTaskAnalytics(deps.history, { base, task, now: deps.now() });
 *   // locals: { durationSvg: analytics.durationSvg, perDaySvg: analytics.perDaySvg, statsHref: analytics.statsHref }
 */
import type { History } from '../../tasks/history.js';
import { microsToMillis } from '../../tasks/micros.js';
import type { DayCount, TaskStats } from '../../tasks/run-repository.js';
import type { RunStatus, Task } from '../../tasks/types.js';
import { durationChartSvg } from '../charts/duration-chart.js';
import { runsPerDayChartSvg } from '../charts/runs-per-day-chart.js';
import { runHref } from '../view-builders.js';
import { DEFAULT_WINDOW, WINDOW_WORDS, fillDays, windowSince, type WindowName } from './analytics-window.js';
import { isSlowerThanUsual } from './slower-than-usual.js';

/** How many of a task's latest finished runs the duration chart shows. */
export const DURATION_RUNS = 100;

/** One task's numbers over the window, as the dashboard rows and the stats page give them. */
export interface TaskStatsRow {
  key: string;
  title: string;
  count: number;
  ok: number;
  failed: number;
  /** ok / count, from 0 to 1; null without runs. */
  successRate: number | null;
  p50Us: number | null;
  p95Us: number | null;
}

export interface DurationRow {
  id: string;
  /** ISO 8601. */
  startedAt: string;
  elapsedUs: number;
  status: RunStatus;
  slowerThanUsual: boolean;
}

/** What `?format=json` of the stats page gives. */
export interface TaskAnalyticsData extends TaskStatsRow {
  window: WindowName;
  /** ISO 8601: where the window starts. */
  since: string;
  /** The latest finished runs (at most DURATION_RUNS, whatever the window), oldest first. */
  durations: DurationRow[];
  /** Every UTC day of the window, zeros included. */
  perDay: DayCount[];
}

export interface TaskAnalytics {
  data: TaskAnalyticsData;
  /** Trusted SVG markup (text escaped) for `+durationChart(svg)` and `+runsPerDayChart(svg)`. */
  durationSvg: string;
  perDaySvg: string;
  /** The stats page of this task for this window. */
  statsHref: string;
}

export async function loadTaskAnalytics(
  history: Pick<History, 'taskStats' | 'runsPerDay' | 'durations'>,
  options: { base: string; task: Pick<Task, 'key' | 'title'>; now: number; window?: WindowName },
): Promise<TaskAnalytics> {
  const { base, task, now } = options;
  const window = options.window ?? DEFAULT_WINDOW;
  const since = windowSince(window, now);
  const [stats, perDayCounts, points] = await Promise.all([history.taskStats(since, [task.key]), history.runsPerDay(since, [task.key]), history.durations(task.key, DURATION_RUNS)]);
  const row = statsRow(task.key, task.title, stats.find((s) => s.taskKey === task.key));
  const perDay = fillDays(perDayCounts, since, now);
  const durations = points.map((p) => ({
    id: p.id,
    startedAt: new Date(p.startedAt).toISOString(),
    elapsedUs: p.elapsedUs,
    status: p.status,
    slowerThanUsual: isSlowerThanUsual(p.elapsedUs, row.p95Us),
  }));
  return {
    data: { ...row, window, since: new Date(since).toISOString(), durations, perDay },
    durationSvg: durationChartSvg({
      runs: points,
      p95Us: row.p95Us,
      runHref: (id) => runHref(base, id),
      label: `Duration of the latest ${points.length} finished runs of ${task.title}`,
    }),
    perDaySvg: runsPerDayChartSvg({ days: perDay, label: `Runs per day of ${task.title} over ${WINDOW_WORDS[window]}` }),
    statsHref: `${base}/admin/task/${task.key}/stats?window=${window}`,
  };
}

export function statsRow(key: string, title: string, stats: TaskStats | undefined): TaskStatsRow {
  const count = stats?.count ?? 0;
  const ok = stats?.ok ?? 0;
  return { key, title, count, ok, failed: stats?.failed ?? 0, successRate: count ? ok / count : null, p50Us: stats?.p50Us ?? null, p95Us: stats?.p95Us ?? null };
}

/** The text a page shows for a row's numbers: "97.5%", "12ms"; "—" where there is nothing to say. */
export function humanised(row: Pick<TaskStatsRow, 'successRate' | 'p50Us' | 'p95Us'>): { successText: string; p50Text: string; p95Text: string } {
  return {
    successText: row.successRate === null ? '—' : percent(row.successRate),
    p50Text: row.p50Us === null ? '—' : microsToMillis(row.p50Us),
    p95Text: row.p95Us === null ? '—' : microsToMillis(row.p95Us),
  };
}

/** 0.7419 -> "74.2%". */
export function percent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10}%`;
}

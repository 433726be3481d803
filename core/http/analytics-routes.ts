/**
 * Analytics: the dashboard (`GET /admin`: every task's count, success rate and p50/p95 over a window,
 * and runs per day) and one task's statistics (`GET /admin/task/{key}/stats`: the same numbers, the
 * duration of its latest runs, runs per day). Charts are SVG built on the server from numbers.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { taskNotFound } from '../errors.js';
import { microsToMillis } from '../tasks/micros.js';
import { isTaskKey } from '../tasks/task.js';
import type { Task } from '../tasks/types.js';
import { WINDOW_NAMES, WINDOW_WORDS, fillDays, parseWindow, windowSince, type WindowName } from './analytics/analytics-window.js';
import { humanised, loadTaskAnalytics, percent, statsRow, type TaskStatsRow } from './analytics/task-analytics.js';
import { runsPerDayChartSvg } from './charts/runs-per-day-chart.js';
import { utcDateTime } from './charts/svg-text.js';
import { selectFormat } from './formats/select-format.js';
import type { HttpDeps } from './http-context.js';
import { respond, state } from './respond.js';
import { runHref } from './view-builders.js';

const TASK_COLUMNS = ['key', 'title', 'count', 'ok', 'failed', 'successRate', 'p50Us', 'p95Us'];
const DURATION_COLUMNS = ['id', 'startedAt', 'elapsedUs', 'status', 'slowerThanUsual'];

export function analyticsRoutes(router: Router, deps: HttpDeps): void {
  const { base, registry, history } = deps;

  router.get('/admin', async (ctx) => {
    state(ctx).action = 'analytics.dashboard';
    const window = parseWindow(state(ctx).query.window);
    const now = deps.now();
    const since = windowSince(window, now);
    const [stats, perDayCounts] = await Promise.all([history.taskStats(since), history.runsPerDay(since)]);
    const byKey = new Map(stats.map((s) => [s.taskKey, s]));
    // Every registered task (also those that did not run), then keys with runs whose task is gone, so
    // the table adds up to the chart.
    const gone = stats.filter((s) => !registry.has(s.taskKey)).map((s) => s.taskKey);
    const tasks = [...registry.list().map((t) => statsRow(t.key, t.title, byKey.get(t.key))), ...gone.map((key) => statsRow(key, key, byKey.get(key)))];
    const perDay = fillDays(perDayCounts, since, now);
    const csv = state(ctx).format === 'csv';
    await respond(ctx, deps, {
      view: 'dashboard',
      title: 'Dashboard',
      crumbs: [{ label: 'Dashboard' }],
      locals: {
        ...windowLocals(`${base}/admin`, window),
        sinceIso: new Date(since).toISOString(),
        sinceText: utcDateTime(since),
        rows: tasks.map((row) => ({
          ...row,
          ...humanised(row),
          registered: registry.has(row.key),
          statsHref: `${base}/admin/task/${row.key}/stats?window=${window}`,
          taskHref: `${base}/admin/task/${row.key}`,
        })),
        totals: totals(tasks),
        perDay,
        perDaySvg: runsPerDayChartSvg({ days: perDay, label: `Runs per day of every task over ${WINDOW_WORDS[window]}` }),
      },
      // CSV has one table: the tasks.
      data: csv ? tasks : { window, since: new Date(since).toISOString(), tasks, perDay },
      root: 'dashboard',
      filename: 'dashboard',
      columns: csv ? TASK_COLUMNS : undefined,
    });
  });

  router.get('/admin/task/:key/stats', async (ctx) => {
    state(ctx).action = 'analytics.task';
    const task = requireTask(ctx);
    // Task routes defer a bad `?format=` (it may be a task's field); here it is always the response's.
    state(ctx).format = selectFormat({ t: state(ctx).query.t, format: state(ctx).query.format }, ctx.get('Accept') || undefined, { formatIsTaskField: false });
    const window = parseWindow(state(ctx).query.window);
    const analytics = await loadTaskAnalytics(history, { base, task, now: deps.now(), window });
    const { data } = analytics;
    const csv = state(ctx).format === 'csv';
    await respond(ctx, deps, {
      view: 'task-stats',
      title: `${task.title}: statistics`,
      crumbs: [{ label: 'Tasks', href: `${base}/admin/task` }, { label: task.title, href: `${base}/admin/task/${task.key}` }, { label: 'Statistics' }],
      locals: {
        ...windowLocals(`${base}/admin/task/${task.key}/stats`, window),
        task: { key: task.key, title: task.title, href: `${base}/admin/task/${task.key}`, runsHref: `${base}/admin/run?task=${encodeURIComponent(task.key)}` },
        stats: { ...data, ...humanised(data) },
        sinceIso: data.since,
        sinceText: utcDateTime(Date.parse(data.since)),
        durationCount: data.durations.length,
        slowRuns: data.durations
          .filter((d) => d.slowerThanUsual)
          .reverse()
          .slice(0, 10)
          .map((d) => ({ ...d, href: runHref(base, d.id), elapsed: microsToMillis(d.elapsedUs) })),
        durationSvg: analytics.durationSvg,
        perDay: data.perDay,
        perDaySvg: analytics.perDaySvg,
      },
      // CSV has one table: the charted runs.
      data: csv ? data.durations : data,
      root: 'stats',
      filename: `stats-${task.key}`,
      columns: csv ? DURATION_COLUMNS : undefined,
    });
  });

  function requireTask(ctx: Context): Task {
    const key = String(ctx.params.key ?? '');
    const task = isTaskKey(key) ? registry.get(key) : undefined;
    if (!task) throw taskNotFound(key);
    return task;
  }

}

/** The window picker: a link per window to the same page, the current one marked. */
function windowLocals(href: string, window: WindowName) {
  return {
    window,
    windowWords: WINDOW_WORDS[window],
    windows: WINDOW_NAMES.map((name) => ({ name, href: `${href}?window=${name}`, current: name === window })),
  };
}

function totals(rows: readonly TaskStatsRow[]): { count: number; ok: number; failed: number; successText: string } {
  const count = rows.reduce((sum, r) => sum + r.count, 0);
  const ok = rows.reduce((sum, r) => sum + r.ok, 0);
  return { count, ok, failed: count - ok, successText: count ? percent(ok / count) : '—' };
}

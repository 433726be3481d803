/** The task pages: list, detail + form, sync run, the async live page, remove. */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { TaskdeckError, type InvalidParam } from '../errors.js';
import type { StoredRun } from '../tasks/run-repository.js';
import { isTaskKey, taskToJson } from '../tasks/task.js';
import type { ResultJson, Task } from '../tasks/types.js';
import type { HttpDeps } from './http-context.js';
import { buildQuery } from './parse-query.js';
import { checkStateChange } from './request-guards.js';
import { respond, state } from './respond.js';
import { LOG_PAGE_LINES, logTail } from './log-window.js';
import { first } from './parse-query.js';
import { hasFromField, selectTaskFormat, splitTaskQuery } from './task-query.js';
import { loadTaskAnalytics } from './analytics/task-analytics.js';
import { relativeTime } from './relative-time.js';
import { requestOrigin, requireRunId } from './run-routes.js';
import { logWindowView, resultView, runHref, runSummaryView, taskFormView, taskHref } from './view-builders.js';
import type { TaskDetailLocals } from './view-models.js';
import { taskNotFound } from '../errors.js';

export function taskRoutes(router: Router, deps: HttpDeps): void {
  const { base, service, registry } = deps;

  const requireTask = (ctx: Context): Task => {
    const key = String(ctx.params.key ?? '');
    const task = isTaskKey(key) ? registry.get(key) : undefined;
    if (!task) throw taskNotFound(key);
    selectTaskFormat(ctx, task);
    return task;
  };
  const crumbsFor = (task: Task) => [{ label: 'Tasks', href: `${base}/admin/task` }, { label: task.title, href: taskHref(base, task) }];

  router.get('/admin/task', async (ctx) => {
    state(ctx).action = 'task.list';
    const latest = await service.latestRunPerTask();
    const now = deps.now();
    const groups = registry.byCategory().map(({ category, tasks }) => ({
      category,
      tasks: tasks.map((task) => {
        const last = latest.get(task.key);
        return {
          task: taskToJson(task),
          href: taskHref(base, task),
          lastRun: last ? { id: last.id, href: runHref(base, last.id), status: last.status, started: new Date(last.startedAt).toISOString(), startedRelative: relativeTime(last.startedAt, now) } : null,
        };
      }),
    }));
    await respond(ctx, deps, {
      view: 'task-list',
      title: 'Tasks',
      crumbs: [{ label: 'Tasks' }],
      locals: { groups, removed: typeof state(ctx).query.removed === 'string' ? state(ctx).query.removed : '' },
      data: registry.list().map(taskToJson),
      root: 'tasks',
      filename: 'tasks',
    });
  });

  router.get('/admin/task/:key', async (ctx) => {
    state(ctx).action = 'task.detail';
    const task = requireTask(ctx);
    await renderDetail(ctx, task, {}, 200);
  });

  router.get('/admin/task/:key/run', async (ctx) => {
    const task = requireTask(ctx);
    // The live page (`async=true`) starts the run as soon as it loads: it is guarded like the run itself.
    checkStateChange({ method: ctx.method, headers: ctx.headers, loopbackOnly: deps.loopbackOnly });
    const query = splitTaskQuery(task, state(ctx).query);
    if (query.async) {
      state(ctx).action = 'task.run.async';
      const startQuery = buildQuery({ ...query.raw, ...(query.label !== 'ad-hoc' ? { category: query.label } : {}), ...(query.fromForm ? { _checkboxes: '1' } : {}) });
      await respond(ctx, deps, {
        view: 'run-live',
        title: task.title,
        crumbs: [...crumbsFor(task), { label: 'Run' }],
        locals: { task: taskToJson(task), form: taskFormView(base, requestOrigin(ctx), task, state(ctx).query), startPath: `${base}/admin/task/${task.key}/start?${startQuery}` },
        data: taskToJson(task),
        root: 'task',
        filename: `task-${task.key}`,
      });
      return;
    }
    state(ctx).action = 'task.run';
    let args;
    try {
      args = service.prepareArgs(task, { raw: query.raw, fromForm: query.fromForm });
    } catch (error) {
      // In a browser, show the form again with each problem next to its field.
      if (state(ctx).format === 'html' && error instanceof TaskdeckError && error.code === 'ERR_INVALID_ARG') {
        const errors = Object.fromEntries((error.details.invalid_params as InvalidParam[]).map((p) => [p.name, p.reason]));
        return renderDetail(ctx, task, errors, 400, error.message);
      }
      throw error;
    }
    const live = await service.start(task, args, { label: query.label, origin: 'http' });
    const result = await waitAtMost(live.done, deps.syncWaitMs);
    if (!result) {
      // Too long for one request: answer with where to watch it; the run goes on.
      const href = runHref(base, live.id);
      if (state(ctx).format === 'html') {
        ctx.status = 303;
        ctx.redirect(href);
        return;
      }
      await respond(ctx, deps, { view: 'error', title: 'Running', locals: {}, data: { id: live.id, status: 'running', href }, root: 'run', filename: `run-${live.id}`, status: 202 });
      return;
    }
    await respondResult(ctx, task, result);
  });

  router.get('/admin/task/:key/start', async (ctx) => {
    requireTask(ctx);
    // Refused the same way over plain HTTP as on the WebSocket upgrade (a prefetch, another site, HEAD).
    checkStateChange({ method: ctx.method, headers: ctx.headers, loopbackOnly: deps.loopbackOnly });
    throw new TaskdeckError('ERR_UPGRADE_REQUIRED', 'this route starts a run over a WebSocket: connect with Upgrade: websocket', { status: 426, headers: { Upgrade: 'websocket', Connection: 'Upgrade' } });
  });

  router.get('/admin/task/:key/remove', async (ctx) => {
    state(ctx).action = 'task.remove';
    const task = requireTask(ctx);
    checkStateChange({ method: ctx.method, headers: ctx.headers, loopbackOnly: deps.loopbackOnly });
    registry.remove(task.key);
    if (state(ctx).format === 'html') {
      ctx.redirect(`${base}/admin/task?${buildQuery({ removed: task.key })}`);
      return;
    }
    await respond(ctx, deps, { view: 'error', title: 'Removed', locals: {}, data: { removed: task.key }, root: 'removed', filename: `removed-${task.key}` });
  });

  // "Save as preset": the form's current values become the fixed defaults of a new task.
  router.get('/admin/task/:key/preset', async (ctx) => {
    state(ctx).action = 'task.preset';
    const task = requireTask(ctx);
    checkStateChange({ method: ctx.method, headers: ctx.headers, loopbackOnly: deps.loopbackOnly });
    const split = splitTaskQuery(task, state(ctx).query);
    const key = (first(state(ctx).query, 'presetKey') ?? '').trim();
    const title = first(state(ctx).query, 'presetTitle') ?? '';
    const args = service.prepareArgs(task, { raw: split.raw, fromForm: split.fromForm });
    const preset = await deps.presets.create(task, key, title, args);
    if (state(ctx).format === 'html') {
      ctx.redirect(taskHref(base, preset));
      return;
    }
    await respond(ctx, deps, { view: 'error', title: 'Preset saved', locals: {}, data: taskToJson(preset), root: 'task', filename: `task-${preset.key}`, status: 201 });
  });

  /**
   * Reached from a run's "run again" link (`from=<run id>`): when that run of this task used other code
   * than the task has now, the form says so before anything runs. An unknown or foreign id is ignored.
   */
  async function versionWarning(ctx: Context, task: Task): Promise<TaskDetailLocals['versionWarning']> {
    const from = hasFromField(task) ? undefined : first(state(ctx).query, 'from');
    if (!from) return null;
    let run: StoredRun;
    try {
      run = await service.getStoredRun(requireRunId(from));
    } catch (error) {
      if (error instanceof TaskdeckError && error.status === 404) return null;
      throw error;
    }
    if (run.taskKey !== task.key || !run.taskVersion || run.taskVersion === task.version) return null;
    return { runId: run.id, runHref: runHref(base, run.id), from: run.taskVersion, to: task.version };
  }

  async function renderDetail(ctx: Context, task: Task, errors: Record<string, string>, status: number, message = ''): Promise<void> {
    const page = await service.listRuns({ task: [task.key] }, { limit: 100 });
    const now = deps.now();
    const finished = page.runs.filter((r) => r.status !== 'running');
    const ok = finished.filter((r) => r.status === 'ok').length;
    const analytics = await loadTaskAnalytics(deps.history, { base, task, now });
    await respond(ctx, deps, {
      view: 'task-detail',
      title: task.title,
      crumbs: crumbsFor(task),
      locals: {
        task: taskToJson(task),
        form: taskFormView(base, requestOrigin(ctx), task, state(ctx).query, errors),
        versionWarning: await versionWarning(ctx, task),
        recentRuns: page.runs.slice(0, 10).map((r) => runSummaryView(base, r, now)),
        durationSvg: analytics.durationSvg,
        statsHref: analytics.statsHref,
        removable: task.source.kind !== 'plugin',
        removeHref: `${base}/admin/task/${task.key}/remove`,
        stats: { count: finished.length, ok, successRate: finished.length ? ok / finished.length : null },
        errorMessage: message,
      },
      data: status === 200 ? taskToJson(task) : { status, message },
      root: 'task',
      filename: `task-${task.key}`,
      status,
    });
  }

  async function respondResult(ctx: Context, task: Task, result: ResultJson): Promise<void> {
    // The page's locals (the form, the log window) only for HTML: the data formats answer `result` alone.
    let locals = {};
    if (state(ctx).format === 'html') {
      // As on the run page: the end of a long log, the earlier lines on demand.
      const stored = await service.getStoredRun(result.id);
      const tail = await logTail(service, result.id, LOG_PAGE_LINES, stored.logCount);
      const logWindow = logWindowView(base, result.id, tail, stored.logsDropped, LOG_PAGE_LINES);
      const origin = requestOrigin(ctx);
      const view = resultView(base, result, tail.lines, deps.now(), { origin, current: registry.get(task.key) ?? null, logWindow });
      locals = { task: taskToJson(task), form: taskFormView(base, origin, task, state(ctx).query), view };
    }
    await respond(ctx, deps, {
      view: 'run-result',
      title: task.title,
      crumbs: [...crumbsFor(task), { label: 'Run' }],
      locals,
      data: result,
      root: 'result',
      filename: `run-${result.id}`,
      formatPath: runHref(base, result.id),
    });
  }
}

/** `promise`'s value, or null after `ms` (one timer and one promise per call: this is on every sync run). */
function waitAtMost<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  return new Promise<T | null>((resolve, reject) => {
    const timer = setTimeout(resolve, ms, null);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}


/** History: the run list (with filters and exports), one run, cancel, and the watch socket's HTTP face. */
import type Router from '@koa/router';
import { TaskdeckError, runNotFound } from '../errors.js';
import { storedToResult, storedToRow, RUN_ROW_COLUMNS } from '../tasks/stored-result.js';
import { RUN_STATUSES } from '../tasks/types.js';
import type { HttpDeps } from './http-context.js';
import { buildQuery } from './parse-query.js';
import { checkStateChange } from './request-guards.js';
import { respond, respondStream, state } from './respond.js';
import { parseRunListQuery } from './run-filter-query.js';
import { resultView, runHref, runSummaryView } from './view-builders.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function runRoutes(router: Router, deps: HttpDeps): void {
  const { base, service, registry } = deps;
  const historyCrumb = { label: 'History', href: `${base}/admin/run` };

  router.get('/admin/run', async (ctx) => {
    state(ctx).action = 'run.list';
    const { filter, cursor, limit, paged, form } = parseRunListQuery(state(ctx).query);
    const format = state(ctx).format;
    if (format !== 'html' && format !== 'debug' && !paged) {
      // Without `cursor` or `limit`, a data format is an export: every matching run, streamed, not one page.
      const rows = (async function* () {
        for await (const run of service.streamRuns(filter)) yield storedToRow(run);
      })();
      respondStream(ctx, { root: 'runs', filename: 'runs', wrapKey: 'runs', columns: RUN_ROW_COLUMNS }, rows);
      return;
    }
    const page = await service.listRuns(filter, { limit, cursor });
    const now = deps.now();
    const nextQuery = page.next ? buildQuery({ ...state(ctx).query, cursor: page.next }) : null;
    // CSV has no room for the cursor: every format of a page also names the next one in a Link header.
    if (nextQuery) ctx.set('Link', `<${base}/admin/run?${nextQuery}>; rel="next"`);
    const rows = page.runs.map(storedToRow);
    await respond(ctx, deps, {
      view: 'run-list',
      title: 'History',
      crumbs: [{ label: 'History' }],
      locals: {
        runs: page.runs.map((r) => runSummaryView(base, r, now)),
        filters: form,
        statuses: [...RUN_STATUSES],
        taskKeys: registry.list().map((t) => t.key),
        nextHref: nextQuery ? `${base}/admin/run?${nextQuery}` : null,
      },
      data: format === 'csv' ? rows : { runs: rows, next: page.next },
      root: 'runs',
      filename: 'runs',
      columns: RUN_ROW_COLUMNS,
    });
  });

  router.get('/admin/run/:id', async (ctx) => {
    state(ctx).action = 'run.detail';
    const id = requireRunId(String(ctx.params.id));
    const stored = await service.getStoredRun(id);
    const logs = await service.getLogs(id);
    const active = service.activeRun(id);
    const result = active ? active.snapshot() : storedToResult(stored, logs, registry.get(stored.taskKey));
    await respond(ctx, deps, {
      view: 'run-detail',
      title: `Run of ${stored.taskTitle}`,
      crumbs: [historyCrumb, { label: stored.id.slice(0, 8) }],
      locals: {
        view: resultView(base, result, logs, deps.now()),
        running: stored.status === 'running',
        watchPath: `${runHref(base, id)}/watch?after=${logs.at(-1)?.seq ?? 0}`,
        cancelHref: `${runHref(base, id)}/cancel`,
        progress: active?.progressState ?? stored.progress,
      },
      data: { ...result, logs: logs.map((l) => l.msg) },
      root: 'result',
      filename: `run-${id}`,
    });
  });

  router.get('/admin/run/:id/cancel', async (ctx) => {
    state(ctx).action = 'run.cancel';
    const id = requireRunId(String(ctx.params.id));
    checkStateChange({ method: ctx.method, headers: ctx.headers, loopbackOnly: deps.loopbackOnly });
    const result = await service.cancel(id);
    if (state(ctx).format === 'html') {
      ctx.redirect(runHref(base, id));
      return;
    }
    await respond(ctx, deps, { view: 'error', title: 'Cancelled', locals: {}, data: result, root: 'result', filename: `run-${id}` });
  });

  router.get('/admin/run/:id/watch', async (ctx) => {
    const id = requireRunId(String(ctx.params.id));
    await service.getStoredRun(id);
    throw new TaskdeckError('ERR_UPGRADE_REQUIRED', 'this route streams a run over a WebSocket: connect with Upgrade: websocket', { status: 426, headers: { Upgrade: 'websocket', Connection: 'Upgrade' } });
  });
}

export function requireRunId(id: string): string {
  if (!UUID.test(id)) throw runNotFound(id);
  return id;
}

/**
 * Two runs side by side: `GET /admin/run/compare?a=ID&b=ID`, or `?a=ID&previous=true` for the run of
 * the same task before a. Registered before the run routes, so "compare" is never read as a run id.
 */
import type Router from '@koa/router';
import { TaskdeckError } from '../errors.js';
import type { StoredRun } from '../tasks/run-repository.js';
import { parseCompareQuery } from './compare/compare-query.js';
import { compareView } from './compare/compare-view.js';
import { findPreviousRun } from './compare/previous-run.js';
import { COMPARISON_COLUMNS, MAX_COMPARED_LOG_LINES, compareRuns, comparisonRows, type RunSide } from './compare/run-comparison.js';
import type { HttpDeps } from './http-context.js';
import { respond, state } from './respond.js';

export function compareRoutes(router: Router, deps: HttpDeps): void {
  const { base, service } = deps;

  /** The run and its first MAX_COMPARED_LOG_LINES lines (one more is read to know whether there are more). */
  const side = async (run: StoredRun): Promise<RunSide> => {
    const logs = await service.getLogs(run.id, { limit: MAX_COMPARED_LOG_LINES + 1 });
    const logsTruncated = logs.length > MAX_COMPARED_LOG_LINES;
    return { run, logs: logsTruncated ? logs.slice(0, MAX_COMPARED_LOG_LINES) : logs, logsTruncated };
  };

  router.get('/admin/run/compare', async (ctx) => {
    state(ctx).action = 'run.compare';
    const query = parseCompareQuery(state(ctx).query);
    const a = await service.getStoredRun(query.a);
    const b = query.previous ? await previousOf(a) : await service.getStoredRun(query.b);
    const comparison = compareRuns(await side(a), await side(b));
    const format = state(ctx).format;
    await respond(ctx, deps, {
      view: 'run-compare',
      title: `Compare runs ${a.id.slice(0, 8)} and ${b.id.slice(0, 8)}`,
      crumbs: [{ label: 'History', href: `${base}/admin/run` }, { label: 'Compare' }],
      locals: { compare: compareView(base, comparison, deps.now()) },
      data: format === 'csv' ? comparisonRows(comparison) : comparison,
      root: 'comparison',
      filename: `compare-${a.id}-${b.id}`,
      columns: COMPARISON_COLUMNS,
    });
  });

  async function previousOf(run: StoredRun): Promise<StoredRun> {
    const previous = await findPreviousRun(service, run);
    if (previous) return previous;
    throw new TaskdeckError('ERR_RUN_NOT_FOUND', `no run of task "${run.taskKey}" started before run "${run.id}": nothing to compare it with`, {
      status: 404,
      details: { run: run.id, task: run.taskKey },
    });
  }
}

/** History: the run list (with filters, search and exports), one run, its log, cancel, and the watch socket's HTTP face. */
import { Readable } from 'node:stream';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { TaskdeckError, badRequest, runNotFound } from '../errors.js';
import type { RunListRow, StoredRun } from '../tasks/run-repository.js';
import { linesWithMarkers } from '../tasks/log-buffer.js';
import { storedToResult, storedToRow, RUN_ROW_COLUMNS } from '../tasks/stored-result.js';
import { RUN_STATUSES } from '../tasks/types.js';
import { contentDisposition } from './formats/select-format.js';
import type { HttpDeps } from './http-context.js';
import { LOG_PAGE_LINES, MAX_LOG_PAGE_LINES, logPageBefore, logTail, logText } from './log-window.js';
import { buildQuery, first } from './parse-query.js';
import { checkStateChange } from './request-guards.js';
import { respond, respondStream, state } from './respond.js';
import { slowRunMarker } from './analytics/slower-than-usual.js';
import { parseRunListQuery, queryWithoutArg } from './run-filter-query.js';
import { snippetJson } from './search-snippet.js';
import { logLineViews, logWindowView, resultView, runHref, runSummaryView } from './view-builders.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Runs per snippet query while an export with `q` streams. */
const SNIPPET_BATCH = 200;

export function runRoutes(router: Router, deps: HttpDeps): void {
  const { base, service, registry, history } = deps;
  const historyCrumb = { label: 'History', href: `${base}/admin/run` };

  /**
   * History rows as the data formats give them; with a search, each carries `snippet` (see
   * search-snippet.ts: plain text plus highlight offsets), or null when only a running run matched.
   */
  const rowsOf = async (runs: readonly RunListRow[], q: string | undefined): Promise<Record<string, unknown>[]> => {
    if (!q) return runs.map(storedToRow);
    const snippets = new Map((await history.searchSnippets(runs.map((r) => r.id), q)).map((s) => [s.runId, s]));
    return runs.map((r) => {
      const snippet = snippets.get(r.id);
      return { ...storedToRow(r), snippet: snippet ? snippetJson(snippet) : null };
    });
  };

  router.get('/admin/run', async (ctx) => {
    state(ctx).action = 'run.list';
    const { filter, cursor, limit, paged, form } = parseRunListQuery(state(ctx).query);
    const format = state(ctx).format;
    const columns = filter.q ? [...RUN_ROW_COLUMNS, 'snippet'] : RUN_ROW_COLUMNS;
    if (format !== 'html' && format !== 'debug' && !paged) {
      // Without `cursor` or `limit`, a data format is an export: every matching run, streamed, not one page.
      // Light rows (no data, log or metadata), read a large page at a time, keep it fast at a million runs.
      const rows = (async function* () {
        for await (const page of history.streamRunRows(filter)) {
          if (!filter.q) {
            for (const run of page) yield storedToRow(run);
            continue;
          }
          for (let i = 0; i < page.length; i += SNIPPET_BATCH) yield* await rowsOf(page.slice(i, i + SNIPPET_BATCH), filter.q);
        }
      })();
      respondStream(ctx, { root: 'runs', filename: 'runs', wrapKey: 'runs', columns }, rows);
      return;
    }
    const page = await service.listRuns(filter, { limit, cursor });
    const now = deps.now();
    const query = state(ctx).query;
    const nextQuery = page.next ? buildQuery({ ...query, cursor: page.next }) : null;
    // CSV has no room for the cursor: every format of a page also names the next one in a Link header.
    if (nextQuery) ctx.set('Link', `<${base}/admin/run?${nextQuery}>; rel="next"`);
    const snippets = filter.q ? new Map((await history.searchSnippets(page.runs.map((r) => r.id), filter.q)).map((s) => [s.runId, s])) : new Map();
    const rows = format === 'html' ? [] : await rowsOf(page.runs, filter.q);
    const listHref = (q: string) => `${base}/admin/run${q ? `?${q}` : ''}`;
    const slow = format === 'html' ? await slowRunMarker(history, page.runs) : () => false;
    await respond(ctx, deps, {
      view: 'run-list',
      title: 'History',
      crumbs: [{ label: 'History' }],
      locals: {
        runs: page.runs.map((r) => ({ ...runSummaryView(base, r, now, snippets.get(r.id)), slow: slow(r) })),
        filters: form,
        argChips: form.args.map((a) => ({ ...a, removeHref: listHref(queryWithoutArg(query, a.name)) })),
        statuses: [...RUN_STATUSES],
        taskKeys: registry.list().map((t) => t.key),
        nextHref: nextQuery ? `${base}/admin/run?${nextQuery}` : null,
      },
      data: format === 'csv' ? rows : { runs: rows, next: page.next },
      root: 'runs',
      filename: 'runs',
      columns,
    });
  });

  router.get('/admin/run/:id', async (ctx) => {
    state(ctx).action = 'run.detail';
    const id = requireRunId(String(ctx.params.id));
    const stored = await service.getStoredRun(id);
    const active = service.activeRun(id);
    const current = registry.get(stored.taskKey) ?? null;
    const versions = { taskVersion: stored.taskVersion, currentTaskVersion: current ? current.version : null };
    if (state(ctx).format !== 'html') {
      const logs = await service.getLogs(id);
      const result = active ? active.snapshot() : storedToResult(stored, logs, current ?? undefined);
      // The stored lines, with the marker where the log cap dropped some (as the Result promises).
      await respond(ctx, deps, { view: 'run-detail', title: '', locals: {}, data: { ...result, logs: linesWithMarkers(logs), ...versions }, root: 'result', filename: `run-${id}` });
      return;
    }
    // Only the end of a long log: the page opens at once whatever its length; earlier lines load on demand.
    const hint = active ? active.lastSeq : stored.status === 'running' ? 0 : stored.logCount;
    const tail = await logTail(service, id, LOG_PAGE_LINES, hint);
    const result = active ? active.snapshot() : storedToResult(stored, tail.lines, current ?? undefined);
    const logWindow = logWindowView(base, id, tail, stored.logsDropped, LOG_PAGE_LINES);
    await respond(ctx, deps, {
      view: 'run-detail',
      title: `Run of ${stored.taskTitle}`,
      crumbs: [historyCrumb, { label: stored.id.slice(0, 8) }],
      locals: {
        view: resultView(base, result, tail.lines, deps.now(), { origin: requestOrigin(ctx), current, logWindow }),
        running: stored.status === 'running',
        watchPath: `${runHref(base, id)}/watch?after=${tail.lines.at(-1)?.seq ?? 0}`,
        cancelHref: `${runHref(base, id)}/cancel`,
        progress: active?.progressState ?? stored.progress,
      },
      data: null,
      root: 'result',
      filename: `run-${id}`,
    });
  });

  /**
   * A page of log lines before `before` (default: the end), at most `limit` (default 1000): HTML table
   * rows for the run page's "load earlier lines", or `{lines: [{seq, msg, stream}], before}` where
   * `before` is the cursor of the page before (null at line 1). A jump in `seq` is where the log cap
   * dropped lines.
   */
  router.get('/admin/run/:id/logs', async (ctx) => {
    state(ctx).action = 'run.logs';
    const id = requireRunId(String(ctx.params.id));
    const stored = await service.getStoredRun(id);
    const query = state(ctx).query;
    const before = positiveInt(ctx, 'before', Number.MAX_SAFE_INTEGER, 'a line number (a positive integer)');
    const limit = positiveInt(ctx, 'limit', MAX_LOG_PAGE_LINES, `an integer from 1 to ${MAX_LOG_PAGE_LINES}`) ?? LOG_PAGE_LINES;
    const page = before === undefined ? await logTail(service, id, limit, stored.status === 'running' ? 0 : stored.logCount) : await logPageBefore(service, id, before, limit);
    if (page.before !== null) {
      const next = buildQuery({ ...query, before: String(page.before), limit: String(limit) });
      ctx.set('Link', `<${runHref(base, id)}/logs?${next}>; rel="next"`);
    }
    const lines = page.lines.map((l) => ({ seq: l.seq, msg: l.msg, stream: l.stream }));
    await respond(ctx, deps, {
      view: 'log-rows',
      title: 'Log',
      locals: { rows: logLineViews(page.lines, before === undefined ? {} : { before }) },
      data: state(ctx).format === 'csv' ? lines : { lines, before: page.before },
      root: 'log',
      filename: `run-${id}-log`,
      columns: ['seq', 'msg', 'stream'],
    });
  });

  /** The whole log as text, streamed page by page (flat memory whatever its length); always a download. */
  router.get('/admin/run/:id/log.txt', async (ctx) => {
    state(ctx).action = 'run.log';
    const id = requireRunId(String(ctx.params.id));
    await service.getStoredRun(id);
    ctx.type = 'text/plain; charset=utf-8';
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Disposition', contentDisposition(`run-${id}.log.txt`));
    ctx.body = Readable.from(logText(service, id));
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

/** Where the client reached us (`http://127.0.0.1:8470`), for the absolute URL of a copied curl command. */
export function requestOrigin(ctx: Context): string {
  return `${ctx.protocol}://${ctx.host || 'localhost'}`;
}

export function requireRunId(id: string): string {
  if (!UUID.test(id)) throw runNotFound(id);
  return id;
}

/** An optional positive integer parameter up to `max`; 400 naming it and what was expected otherwise. */
function positiveInt(ctx: Context, name: string, max: number, expected: string): number | undefined {
  const text = first(state(ctx).query, name);
  if (text === undefined || text === '') return undefined;
  const value = /^[0-9]{1,16}$/.test(text) ? Number(text) : NaN;
  if (!(value >= 1 && value <= max)) throw badRequest(`parameter "${name}": expected ${expected}, got "${text.slice(0, 50)}"`, { invalid_params: [{ name, reason: `expected ${expected}` }] });
  return value;
}

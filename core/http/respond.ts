/**
 * The one place a page becomes a response: HTML through Pug, or the page's data in the requested
 * `?format=`. Every route calls `respond`, so every page answers every format the same way.
 */
import type { Context } from 'koa';
import { iconSvg } from './icons.js';
import { CONTENT_TYPES, contentDisposition, downloadFilename } from './formats/select-format.js';
import { serialize, serializeStream } from './formats/serialize.js';
import { debugContext } from './formats/debug-context.js';
import { first, buildQuery } from './parse-query.js';
import type { HttpDeps, RequestState } from './http-context.js';
import type { LayoutLocals } from './view-models.js';
import { hasSession, isSignedIn } from './auth-gate.js';
import { Readable } from 'node:stream';

export interface Page {
  view: string;
  title: string;
  crumbs?: LayoutLocals['crumbs'];
  /** Page-specific locals (LayoutLocals are added). */
  locals: Record<string, unknown>;
  /** What the non-HTML formats serialise. */
  data: unknown;
  /** XML root element and download base name. */
  root: string;
  filename: string;
  status?: number;
  /** Where the format links point when this page must not be re-requested (a sync run: its run page). */
  formatPath?: string;
  /** CSV header of a list, in this order (default: the union of the items' keys). */
  columns?: readonly string[];
  /** False on error pages: their links would echo a path or query of any length back to the client. */
  formatLinks?: boolean;
}

export function state(ctx: Context): RequestState {
  return ctx.state as RequestState;
}

export async function respond(ctx: Context, deps: HttpDeps, page: Page): Promise<void> {
  const { format } = state(ctx);
  ctx.status = page.status ?? 200;
  if (format === 'html') {
    ctx.set('Cache-Control', 'no-store');
    const layout = layoutLocals(ctx, deps, page.title, page.crumbs ?? [], page.formatPath);
    if (page.formatLinks === false) layout.formatLinks = [];
    await ctx.render(page.view, { ...layout, ...page.locals });
    return;
  }
  const body =
    format === 'debug'
      ? JSON.stringify(debugContext({ method: ctx.method, url: ctx.url, path: ctx.path, query: state(ctx).query, headers: ctx.headers, data: page.data, action: state(ctx).action }), null, 2)
      : serialize(format, page.root, page.data, { columns: page.columns });
  ctx.type = CONTENT_TYPES[format];
  if (first(state(ctx).query, 'download') === 'true') ctx.set('Content-Disposition', contentDisposition(downloadFilename(page.filename, format)));
  ctx.body = body;
}

/** Streams every row of a list in the requested format (constant memory), for history exports. */
export function respondStream(ctx: Context, page: { root: string; filename: string; wrapKey?: string; columns: string[] }, rows: AsyncIterable<Record<string, unknown>>): void {
  const { format } = state(ctx);
  if (format === 'html' || format === 'debug') throw new TypeError('respondStream serves data formats only');
  ctx.type = CONTENT_TYPES[format];
  ctx.set('Cache-Control', 'no-store');
  if (first(state(ctx).query, 'download') === 'true') ctx.set('Content-Disposition', contentDisposition(downloadFilename(page.filename, format)));
  ctx.body = Readable.from(serializeStream(format, page.root, rows, { columns: page.columns, wrapKey: page.wrapKey }));
}

export function layoutLocals(ctx: Context, deps: HttpDeps, title: string, crumbs: LayoutLocals['crumbs'], formatPath?: string): LayoutLocals {
  const { query, nonce } = state(ctx);
  const formatLinks = ['json', 'csv', 'xml', 'yaml'].map((format) => {
    const values: Record<string, string | string[]> = formatPath ? { t: format } : { ...query, t: format };
    // ctx.path is the path inside the admin: mounted under a prefix, the browser needs the prefix too.
    return { format, href: `${formatPath ?? deps.base + ctx.path}?${buildQuery(values)}` };
  });
  return {
    title,
    crumbs,
    // File paths and error text are for those who got in, not for the login page or a 401.
    pluginFailures: isSignedIn(ctx) ? deps.plugins.failures() : [],
    nonce,
    icon: iconSvg,
    formatLinks,
    base: deps.base,
    signOutHref: hasSession(ctx) ? `${deps.base}/admin/logout` : null,
  };
}

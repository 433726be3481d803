/**
 * Retention preview (`GET /admin/retention`): the policy, the database size against its budget, how
 * many runs the age limit would remove now (exactly, per task), the first of them, and when the server
 * prunes next. The page only reads. `GET /admin/retention/prune` prunes now: a state change like running
 * a task, so it passes the same cross-site guards (`checkStateChange`).
 */
import type Router from '@koa/router';
import type { PrunePreview, RetentionPolicy } from '../tasks/retention.js';
import { utcDateTime } from './charts/svg-text.js';
import type { HttpDeps } from './http-context.js';
import { relativeTime, timeUntil } from './relative-time.js';
import { checkStateChange } from './request-guards.js';
import { respond, state } from './respond.js';
import { runHref } from './view-builders.js';

const CANDIDATE_COLUMNS = ['id', 'task', 'started', 'status'];

/** The preview as the data formats give it: times as ISO strings, sizes in bytes. */
export function retentionData(policy: RetentionPolicy, preview: PrunePreview) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    policy: { maxAgeDays: policy.maxAgeDays, keepPerTask: policy.keepPerTask, maxBytes: policy.maxBytes, intervalMinutes: policy.intervalMinutes ?? 0 },
    cutoff: iso(preview.cutoff),
    byAge: preview.byAge,
    perTask: preview.perTask.map((t) => ({ task: t.taskKey, count: t.count })),
    oldest: preview.oldest.map((c) => ({ id: c.id, task: c.taskKey, started: new Date(c.startedAt).toISOString(), status: c.status })),
    bytes: preview.bytes,
    overBudget: preview.overBudget,
    nextPruneAt: iso(preview.nextPruneAt),
    lastPrune: preview.lastPrune && { ...preview.lastPrune, at: new Date(preview.lastPrune.at).toISOString() },
  };
}

export function retentionRoutes(router: Router, deps: HttpDeps): void {
  const { base, retention } = deps;

  router.get('/admin/retention/prune', async (ctx) => {
    state(ctx).action = 'retention.prune';
    checkStateChange({ method: ctx.method, headers: ctx.headers, loopbackOnly: deps.loopbackOnly });
    const report = await retention.prune();
    if (state(ctx).format === 'html') {
      ctx.redirect(`${base}/admin/retention`);
      return;
    }
    await respond(ctx, deps, { view: 'error', title: 'Pruned', locals: {}, data: report, root: 'prune', filename: 'prune' });
  });

  router.get('/admin/retention', async (ctx) => {
    state(ctx).action = 'retention.preview';
    const { policy } = retention;
    const preview = await retention.preview();
    const data = retentionData(policy, preview);
    const now = deps.now();
    const runsHref = (task: string) => `${base}/admin/run?task=${encodeURIComponent(task)}${preview.cutoff === null ? '' : `&until=${preview.cutoff}`}`;
    await respond(ctx, deps, {
      view: 'retention',
      title: 'Retention',
      crumbs: [{ label: 'History', href: `${base}/admin/run` }, { label: 'Retention' }],
      locals: {
        policy: data.policy,
        maxAgeText: policy.maxAgeDays > 0 ? `${policy.maxAgeDays} days` : 'no limit',
        budgetText: policy.maxBytes > 0 ? byteSize(policy.maxBytes) : 'no budget',
        bytesText: byteSize(preview.bytes),
        budgetPercent: policy.maxBytes > 0 ? Math.min(100, Math.round((preview.bytes / policy.maxBytes) * 100)) : null,
        overBudget: preview.overBudget,
        cutoffIso: data.cutoff,
        cutoffText: preview.cutoff === null ? null : utcDateTime(preview.cutoff),
        byAge: preview.byAge,
        byAgeHref: preview.cutoff === null ? null : `${base}/admin/run?until=${preview.cutoff}`,
        perTask: preview.perTask.map((t) => ({ task: t.taskKey, count: t.count, href: runsHref(t.taskKey) })),
        oldest: preview.oldest.map((c) => ({
          id: c.id,
          href: runHref(base, c.id),
          task: c.taskKey,
          status: c.status,
          started: new Date(c.startedAt).toISOString(),
          startedText: utcDateTime(c.startedAt),
          startedRelative: relativeTime(c.startedAt, now),
        })),
        nextPruneIso: data.nextPruneAt,
        nextPruneText: preview.nextPruneAt === null ? null : utcDateTime(preview.nextPruneAt),
        nextPruneRelative: preview.nextPruneAt === null ? null : timeUntil(preview.nextPruneAt, now),
        lastPrune: preview.lastPrune && { ...preview.lastPrune, atText: utcDateTime(preview.lastPrune.at), afterText: byteSize(preview.lastPrune.bytesAfter) },
        pruneHref: `${base}/admin/retention/prune`,
      },
      // CSV has one table: the first runs to go.
      data: state(ctx).format === 'csv' ? data.oldest : data,
      root: 'retention',
      filename: 'retention',
      columns: state(ctx).format === 'csv' ? CANDIDATE_COLUMNS : undefined,
    });
  });
}

/** `1.5 MiB`: binary units, one decimal from KiB on. */
export function byteSize(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

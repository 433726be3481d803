/**
 * "Slower than usual": a finished run that took longer than its task's p95 over the analytics window.
 * With fewer than 20 runs in the window the p95 is the longest of them, so a young task marks nothing.
 */
import type { History } from '../../tasks/history.js';
import type { RunStatus } from '../../tasks/types.js';
import { DEFAULT_WINDOW, windowSince, type WindowName } from './analytics-window.js';

/** True when a run took longer than the task's p95; false without a p95 (no finished runs). */
export function isSlowerThanUsual(elapsedUs: number, p95Us: number | null | undefined): boolean {
  return typeof p95Us === 'number' && Number.isFinite(p95Us) && Number.isFinite(elapsedUs) && elapsedUs > p95Us;
}

/** Each task's p95 (microseconds) over a window: the yardstick `isSlowerThanUsual` compares with. */
export async function usualDurations(history: Pick<History, 'taskStats'>, taskKeys: readonly string[], now: number, window: WindowName = DEFAULT_WINDOW): Promise<Map<string, number>> {
  const usual = new Map<string, number>();
  if (taskKeys.length === 0) return usual;
  for (const stats of await history.taskStats(windowSince(window, now), [...new Set(taskKeys)])) {
    if (stats.p95Us !== null) usual.set(stats.taskKey, stats.p95Us);
  }
  return usual;
}

/** How many of a task's latest finished runs make its "usual" on a history page. */
export const USUAL_SAMPLE = 1000;

/**
 * Marks runs of a list (e.g. one page of the history): `const slow = await slowRunMarker(history, runs);
 * slow(run)` is true for a finished run above the p95 of its task's latest USUAL_SAMPLE finished runs.
 * The store computes each p95 from an index (one small query per task on the page, no run rows read),
 * so the page stays fast at a million runs. A running run is never slow.
 */
export async function slowRunMarker(
  history: Pick<History, 'recentP95'>,
  runs: readonly { taskKey: string }[],
): Promise<(run: { taskKey: string; status: RunStatus; elapsedUs: number }) => boolean> {
  const usual = await history.recentP95(runs.map((r) => r.taskKey), USUAL_SAMPLE);
  return (run) => run.status !== 'running' && isSlowerThanUsual(run.elapsedUs, usual.get(run.taskKey));
}

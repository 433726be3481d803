/**
 * "Slower than usual": a finished run that took longer than the p95 of its task's latest finished runs.
 * With fewer than 20 runs the p95 is the longest of them, so a young task marks nothing.
 */
import type { History } from '../../tasks/history.js';
import type { RunStatus } from '../../tasks/types.js';

/** True when a run took longer than the task's p95; false without a p95 (no finished runs). */
export function isSlowerThanUsual(elapsedUs: number, p95Us: number | null | undefined): boolean {
  return typeof p95Us === 'number' && Number.isFinite(p95Us) && Number.isFinite(elapsedUs) && elapsedUs > p95Us;
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

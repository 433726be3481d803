/** "Compare with previous": the run of the same task before a given one. */
import type { RunFilter, RunPage, StoredRun } from '../../tasks/run-repository.js';

export interface RunLister {
  listRuns(filter: RunFilter, options?: { limit?: number; cursor?: string | null }): Promise<RunPage>;
}

/**
 * The newest run of `run`'s task that started strictly before it, or undefined.
 *
 * Ties: `until` is exclusive, so a run that started in the same millisecond as `run` (a sibling in a
 * `runAll` batch, say) is never its previous run, and neither is `run` itself; the search goes on to
 * the runs that started earlier. Among those, history's order decides (newest recorded first), which is
 * the latest start unless the clock went backwards between runs. The second row and the id check only
 * guard against a store that would read `until` inclusively.
 */
export async function findPreviousRun(service: RunLister, run: Pick<StoredRun, 'id' | 'taskKey' | 'startedAt'>): Promise<StoredRun | undefined> {
  const page = await service.listRuns({ task: [run.taskKey], until: run.startedAt }, { limit: 2 });
  return page.runs.find((r) => r.id !== run.id);
}

/** Rebuilds the Result of a past run from what history holds. */
import { linesWithMarkers } from './log-buffer.js';
import type { LogLine, RunListRow, StoredRun } from './run-repository.js';
import { taskToJson } from './task.js';
import type { ResultJson, Task } from './types.js';

/** `task` is the registered task when it still exists, else the key and title the run was recorded with. */
export function storedToResult(run: StoredRun, logs: readonly LogLine[], task: Task | undefined): ResultJson {
  return {
    id: run.id,
    task: task ? taskToJson(task) : { key: run.taskKey, title: run.taskTitle },
    run: run.label,
    args: run.args,
    started: new Date(run.startedAt).toISOString(),
    elapsed: run.elapsedUs,
    status: run.status,
    summary: run.summary || run.status,
    logs: linesWithMarkers(logs),
    data: run.dataJson === null ? undefined : (JSON.parse(run.dataJson) as unknown),
    tags: run.tags,
    metadata: { ...run.metadata, taskVersion: run.taskVersion },
    success: run.status === 'ok',
    error: run.error,
  };
}

/** A history row: `task` is the key (decisions.md, JSON shapes). */
/** A history row (RUN_ROW_COLUMNS): a list row is enough, so exports never load a run's data or metadata. */
export function storedToRow(run: RunListRow): Record<string, unknown> {
  return {
    id: run.id,
    task: run.taskKey,
    run: run.label,
    status: run.status,
    started: new Date(run.startedAt).toISOString(),
    elapsed: run.elapsedUs,
    args: run.args,
    tags: run.tags,
    error: run.error,
  };
}

export const RUN_ROW_COLUMNS = ['id', 'task', 'run', 'status', 'started', 'elapsed', 'args', 'tags', 'error'];

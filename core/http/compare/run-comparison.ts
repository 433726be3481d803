/**
 * Two runs side by side, as data: what `?format=json` answers and what the page is built from.
 * Everything reads "from a to b": `added` means only in b, `deltaUs` is b minus a, `ratio` is b over a.
 */
import type { LogLine, StoredRun } from '../../tasks/run-repository.js';
import type { RunStatus } from '../../tasks/types.js';
import { diffJson, jsonEqual, type JsonDiffEntry } from './json-diff.js';
import { diffLogLines, type LineChange } from './line-diff.js';

/** Log lines compared per side; past it the rest is left out and `logs.truncated` says so. */
export const MAX_COMPARED_LOG_LINES = 5000;
/** Data differences listed; past it they are only counted. */
export const MAX_DATA_ENTRIES = 1000;

export interface RunSide {
  run: StoredRun;
  /** The first log lines, at most MAX_COMPARED_LOG_LINES. */
  logs: readonly LogLine[];
  /** The run has more lines than `logs` holds. */
  logsTruncated: boolean;
}

export interface RunFacts {
  id: string;
  task: string;
  taskTitle: string;
  taskVersion: string;
  status: RunStatus;
  /** The run label. */
  run: string;
  started: string;
  /** Microseconds; null while the run is running. */
  elapsed: number | null;
  error: string;
  tags: string[];
  /** Lines the run recorded, and how many of them were compared. */
  logCount: number;
  logLinesCompared: number;
}

export type ArgChange = 'same' | 'changed' | 'only-a' | 'only-b';

export interface ArgDiff {
  key: string;
  /** Absent when the key is only in b (and `b` when only in a). */
  a?: unknown;
  b?: unknown;
  change: ArgChange;
}

export interface RunComparison {
  a: RunFacts;
  b: RunFacts;
  sameTask: boolean;
  /** Same task and the same code (the task version, a hash of its function). */
  sameVersion: boolean;
  args: ArgDiff[];
  data: JsonDiffEntry[];
  dataSummary: { differences: number; unchanged: number; truncated: boolean; aHasData: boolean; bHasData: boolean };
  logs: { lines: LineChange[]; truncated: boolean; aligned: boolean; limit: number };
  elapsed: { a: number | null; b: number | null; deltaUs: number | null; ratio: number | null };
}

export function compareRuns(a: RunSide, b: RunSide): RunComparison {
  const aData = parseData(a.run);
  const bData = parseData(b.run);
  const data = diffJson(aData, bData, { maxEntries: MAX_DATA_ENTRIES });
  const logs = diffLogLines(a.logs, b.logs);
  const sameTask = a.run.taskKey === b.run.taskKey;
  return {
    a: facts(a),
    b: facts(b),
    sameTask,
    sameVersion: sameTask && a.run.taskVersion === b.run.taskVersion,
    args: diffArgs(a.run.args, b.run.args),
    data: data.entries,
    dataSummary: { differences: data.total, unchanged: data.unchanged, truncated: data.truncated, aHasData: aData !== undefined, bHasData: bData !== undefined },
    logs: { lines: logs.lines, truncated: a.logsTruncated || b.logsTruncated, aligned: logs.aligned, limit: MAX_COMPARED_LOG_LINES },
    elapsed: elapsedDelta(elapsedOf(a.run), elapsedOf(b.run)),
  };
}

/** Each argument of either run: a's keys in order, then the keys only b has. */
export function diffArgs(a: Record<string, unknown>, b: Record<string, unknown>): ArgDiff[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].map((key): ArgDiff => {
    const inA = Object.hasOwn(a, key);
    const inB = Object.hasOwn(b, key);
    if (!inB) return { key, a: a[key], change: 'only-a' };
    if (!inA) return { key, b: b[key], change: 'only-b' };
    return { key, a: a[key], b: b[key], change: jsonEqual(a[key], b[key]) ? 'same' : 'changed' };
  });
}

export function elapsedDelta(a: number | null, b: number | null): RunComparison['elapsed'] {
  const both = a !== null && b !== null;
  return { a, b, deltaUs: both ? b - a : null, ratio: both && a > 0 ? b / a : null };
}

export const COMPARISON_COLUMNS = ['section', 'key', 'change', 'a', 'b'] as const;

/**
 * The comparison as one flat list, for CSV: the runs' facts, then each argument, data path and log
 * line. A log row's key is "aSeq/bSeq" (one side empty for an added or removed line); `a` and `b`
 * hold the line's text on the side(s) it is on.
 */
export function comparisonRows(c: RunComparison): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  const facts: (keyof RunFacts)[] = ['id', 'task', 'taskVersion', 'status', 'run', 'started', 'elapsed', 'error', 'tags'];
  for (const key of facts) rows.push({ section: 'run', key, change: jsonEqual(c.a[key], c.b[key]) ? 'same' : 'changed', a: c.a[key], b: c.b[key] });
  for (const arg of c.args) rows.push({ section: 'args', key: arg.key, change: arg.change, a: arg.a, b: arg.b });
  for (const entry of c.data) rows.push({ section: 'data', key: entry.path, change: entry.change, a: entry.a, b: entry.b });
  for (const line of c.logs.lines) {
    rows.push({ section: 'logs', key: `${line.aSeq ?? ''}/${line.bSeq ?? ''}`, change: line.change, a: line.aSeq === null ? undefined : line.text, b: line.bSeq === null ? undefined : line.text });
  }
  return rows;
}

function facts(side: RunSide): RunFacts {
  const { run } = side;
  return {
    id: run.id,
    task: run.taskKey,
    taskTitle: run.taskTitle,
    taskVersion: run.taskVersion,
    status: run.status,
    run: run.label,
    started: new Date(run.startedAt).toISOString(),
    elapsed: elapsedOf(run),
    error: run.error,
    tags: run.tags,
    logCount: Math.max(run.logCount, side.logs.length),
    logLinesCompared: side.logs.length,
  };
}

function elapsedOf(run: StoredRun): number | null {
  return run.status === 'running' ? null : run.elapsedUs;
}

/** A run's data, or undefined when it has none (a run that failed, or one still running). */
function parseData(run: StoredRun): unknown {
  return run.dataJson === null ? undefined : (JSON.parse(run.dataJson) as unknown);
}

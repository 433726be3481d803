/**
 * What views/run-compare.pug displays: texts ready to print (the view escapes them), long unchanged
 * stretches of the log folded, values as JSON cut to a readable length.
 */
import { microsToMillis } from '../../tasks/micros.js';
import { relativeTime } from '../relative-time.js';
import { runHref } from '../view-builders.js';
import type { ArgChange, RunComparison, RunFacts } from './run-comparison.js';
import type { JsonChange } from './json-diff.js';
import type { LineChangeKind } from './line-diff.js';

/** Unchanged log lines kept around each change; longer unchanged stretches are folded. */
export const CONTEXT_LINES = 3;
/** Characters of one value shown in a table cell (the data formats have it whole). */
export const MAX_VALUE_CHARS = 2000;

export interface RunSideView {
  id: string;
  href: string;
  taskKey: string;
  taskTitle: string;
  taskHref: string;
  status: string;
  label: string;
  started: string;
  startedRelative: string;
  elapsed: string;
  error: string;
  tags: string[];
}

export interface ValueText {
  /** False when the key or path is absent on this side. */
  present: boolean;
  text: string;
}

export type LogRowView =
  | { kind: 'line'; change: LineChangeKind; aSeq: number | null; bSeq: number | null; text: string }
  | { kind: 'fold'; count: number; aFrom: number | null; aTo: number | null; bFrom: number | null; bTo: number | null };

export interface CompareView {
  a: RunSideView;
  b: RunSideView;
  code: 'same code' | 'code changed' | 'different tasks';
  /** "+120ms, 2.3x": b against a; empty while either runs. */
  elapsedDelta: string;
  same: { status: boolean; label: boolean; error: boolean; tags: boolean };
  args: { key: string; change: ArgChange; changeLabel: string; a: ValueText; b: ValueText }[];
  argCounts: Record<ArgChange, number>;
  data: { path: string; change: JsonChange; a: ValueText; b: ValueText }[];
  dataSummary: RunComparison['dataSummary'];
  logs: { rows: LogRowView[]; added: number; removed: number; same: number; truncated: boolean; aligned: boolean; limit: number };
  swapHref: string;
  jsonHref: string;
}

const ARG_LABELS: Record<ArgChange, string> = { same: 'same', changed: 'changed', 'only-a': 'only in A', 'only-b': 'only in B' };

export function compareView(base: string, c: RunComparison, now: number): CompareView {
  const argCounts: Record<ArgChange, number> = { same: 0, changed: 0, 'only-a': 0, 'only-b': 0 };
  for (const arg of c.args) argCounts[arg.change] += 1;
  const counts = { added: 0, removed: 0, same: 0 };
  for (const line of c.logs.lines) counts[line.change] += 1;
  const query = (a: string, b: string) => `a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`;
  return {
    a: sideView(base, c.a, now),
    b: sideView(base, c.b, now),
    code: !c.sameTask ? 'different tasks' : c.sameVersion ? 'same code' : 'code changed',
    elapsedDelta: formatElapsedDelta(c.elapsed),
    same: { status: c.a.status === c.b.status, label: c.a.run === c.b.run, error: c.a.error === c.b.error, tags: c.a.tags.join('\n') === c.b.tags.join('\n') },
    args: c.args.map((arg) => ({ key: arg.key, change: arg.change, changeLabel: ARG_LABELS[arg.change], a: valueText(arg.change !== 'only-b', arg.a), b: valueText(arg.change !== 'only-a', arg.b) })),
    argCounts,
    data: c.data.map((entry) => ({ path: entry.path === '' ? '(the whole data)' : entry.path, change: entry.change, a: valueText(entry.change !== 'added', entry.a), b: valueText(entry.change !== 'removed', entry.b) })),
    dataSummary: c.dataSummary,
    logs: { rows: foldLogRows(c.logs.lines.map((l) => ({ ...l, text: plainLogText(l.text) }))), ...counts, truncated: c.logs.truncated, aligned: c.logs.aligned, limit: c.logs.limit },
    swapHref: `${base}/admin/run/compare?${query(c.b.id, c.a.id)}`,
    jsonHref: `${base}/admin/run/compare?${query(c.a.id, c.b.id)}&format=json`,
  };
}

/** "+120ms, 2.3x", "-40ms, 0.5x", "+0ms, 1x"; the ratio is left out when a took no time. */
export function formatElapsedDelta(elapsed: RunComparison['elapsed']): string {
  if (elapsed.deltaUs === null) return '';
  const sign = elapsed.deltaUs < 0 ? '-' : '+';
  const delta = `${sign}${microsToMillis(Math.abs(elapsed.deltaUs))}`;
  return elapsed.ratio === null ? delta : `${delta}, ${Number(elapsed.ratio.toPrecision(2))}x`;
}

/**
 * Keeps CONTEXT_LINES unchanged lines around each change and folds the rest of each unchanged
 * stretch into one row (a fold of a single line is not worth it: it is shown). Identical logs keep
 * their first lines.
 */
export function foldLogRows(lines: RunComparison['logs']['lines'], context = CONTEXT_LINES): LogRowView[] {
  const rows: LogRowView[] = [];
  const anyChange = lines.some((l) => l.change !== 'same');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.change !== 'same') {
      rows.push({ kind: 'line', ...line });
      i++;
      continue;
    }
    let end = i;
    while (end < lines.length && lines[end]!.change === 'same') end++;
    const keepHead = i > 0 || !anyChange ? context : 0;
    const keepTail = end < lines.length ? context : 0;
    const folded = end - i - keepHead - keepTail;
    if (folded < 2) {
      for (let k = i; k < end; k++) rows.push({ kind: 'line', ...lines[k]! });
    } else {
      for (let k = i; k < i + keepHead; k++) rows.push({ kind: 'line', ...lines[k]! });
      const first = lines[i + keepHead]!;
      const last = lines[end - keepTail - 1]!;
      rows.push({ kind: 'fold', count: folded, aFrom: first.aSeq, aTo: last.aSeq, bFrom: first.bSeq, bTo: last.bSeq });
      for (let k = end - keepTail; k < end; k++) rows.push({ kind: 'line', ...lines[k]! });
    }
    i = end;
  }
  return rows;
}

/** A log line for display: terminal escape sequences (colours, cursor moves) removed; the view escapes the rest. */
export function plainLogText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g, '');
}

function sideView(base: string, f: RunFacts, now: number): RunSideView {
  const started = Date.parse(f.started);
  return {
    id: f.id,
    href: runHref(base, f.id),
    taskKey: f.task,
    taskTitle: f.taskTitle,
    taskHref: `${base}/admin/task/${encodeURIComponent(f.task)}`,
    status: f.status,
    label: f.run,
    started: f.started,
    startedRelative: relativeTime(started, now),
    elapsed: f.elapsed === null ? '' : microsToMillis(f.elapsed),
    error: f.error,
    tags: f.tags,
  };
}

function valueText(present: boolean, value: unknown): ValueText {
  if (!present) return { present: false, text: '' };
  const text = JSON.stringify(value, null, 2) ?? 'null';
  return { present: true, text: text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}… (${text.length - MAX_VALUE_CHARS} more characters)` : text };
}

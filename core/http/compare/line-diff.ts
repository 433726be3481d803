/**
 * A line diff of two logs, with each side's line numbers. jsdiff's `diffArrays` (Myers) finds the
 * alignment, but its cost grows with the square of the number of edits (two unrelated 5,000-line logs
 * took 7.8 s), and a request must not hold the event loop that long. So, before it runs:
 *
 * - lines are interned to integers, and the common head and tail are matched directly;
 * - lines that occur only on one side are set aside: they can never be part of a longest common
 *   subsequence, so removing them changes nothing in the result (GNU diff does the same), and logs whose
 *   lines carry timings or counters shrink to the few lines that could match;
 * - the rest is aligned with `maxEditLength`: past it (about 80 ms of work at 1,000) the middle is shown
 *   as removed then added, and `aligned` is false.
 */
import { diffArrays } from 'diff';

export type LineChangeKind = 'same' | 'added' | 'removed';

/** One line of the diff: `aSeq` is its number in log a (null when only in b), `bSeq` in log b. */
export interface LineChange {
  change: LineChangeKind;
  aSeq: number | null;
  bSeq: number | null;
  text: string;
}

export interface LineDiff {
  lines: LineChange[];
  /** False when the logs differed too much to align within `maxEditLength`. */
  aligned: boolean;
}

export interface LogLineInput {
  seq: number;
  msg: string;
}

export const DEFAULT_MAX_EDIT_LENGTH = 1000;

export function diffLogLines(a: readonly LogLineInput[], b: readonly LogLineInput[], options: { maxEditLength?: number } = {}): LineDiff {
  const maxEditLength = options.maxEditLength ?? DEFAULT_MAX_EDIT_LENGTH;
  const ids = new Map<string, number>();
  const intern = (line: LogLineInput): number => {
    let id = ids.get(line.msg);
    if (id === undefined) ids.set(line.msg, (id = ids.size));
    return id;
  };
  const x = Int32Array.from(a, intern);
  const y = Int32Array.from(b, intern);

  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head++;
  let tail = 0;
  while (tail < x.length - head && tail < y.length - head && x[x.length - 1 - tail] === y[y.length - 1 - tail]) tail++;

  const { pairs, aligned } = alignMiddle(x, y, head, x.length - tail, y.length - tail, maxEditLength);
  // Matched index pairs, in order: the head, the middle's matches, the tail; then a sentinel at the end.
  const matches: [number, number][] = [];
  for (let i = 0; i < head; i++) matches.push([i, i]);
  matches.push(...pairs);
  for (let k = tail; k > 0; k--) matches.push([x.length - k, y.length - k]);
  matches.push([x.length, y.length]);

  const lines: LineChange[] = [];
  let i = 0;
  let j = 0;
  for (const [mi, mj] of matches) {
    for (; i < mi; i++) lines.push({ change: 'removed', aSeq: a[i]!.seq, bSeq: null, text: a[i]!.msg });
    for (; j < mj; j++) lines.push({ change: 'added', aSeq: null, bSeq: b[j]!.seq, text: b[j]!.msg });
    if (mi < x.length) lines.push({ change: 'same', aSeq: a[mi]!.seq, bSeq: b[mj]!.seq, text: a[mi]!.msg });
    i = mi + 1;
    j = mj + 1;
  }
  return { lines, aligned };
}

/** The matched pairs of `x[from..toX)` and `y[from..toY)`, ignoring lines that occur on one side only. */
function alignMiddle(x: Int32Array, y: Int32Array, from: number, toX: number, toY: number, maxEditLength: number): { pairs: [number, number][]; aligned: boolean } {
  if (from >= toX || from >= toY) return { pairs: [], aligned: true };
  const inX = new Set(x.subarray(from, toX));
  const inY = new Set(y.subarray(from, toY));
  const keptX: number[] = [];
  const keptY: number[] = [];
  for (let i = from; i < toX; i++) if (inY.has(x[i]!)) keptX.push(i);
  for (let j = from; j < toY; j++) if (inX.has(y[j]!)) keptY.push(j);
  if (keptX.length === 0 || keptY.length === 0) return { pairs: [], aligned: true };

  const changes = diffArrays(
    keptX.map((i) => x[i]!),
    keptY.map((j) => y[j]!),
    { maxEditLength },
  );
  if (!changes) return { pairs: [], aligned: false };
  const pairs: [number, number][] = [];
  let p = 0;
  let q = 0;
  for (const part of changes) {
    const count = part.value.length;
    if (part.added) q += count;
    else if (part.removed) p += count;
    else for (let k = 0; k < count; k++) pairs.push([keptX[p++]!, keptY[q++]!]);
  }
  return { pairs, aligned: true };
}

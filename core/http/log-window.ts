/**
 * Reading a long log a page at a time, from the end. The store answers "lines after seq N, at most L"
 * only; sequence numbers are dense except for the one middle section the log cap dropped. So a page
 * before seq B reads after B - 1 - L, and when that range holds the dropped section, a binary search
 * (a handful of one-row index lookups) finds the last line below it. Nothing here holds a whole log.
 */
import { droppedMarker } from '../tasks/log-buffer.js';
import type { LogLine } from '../tasks/run-repository.js';

/** Lines a run page shows at first, and each "load earlier lines" adds. */
export const LOG_PAGE_LINES = 1000;
/** The most lines one request for a page may ask for. */
export const MAX_LOG_PAGE_LINES = 5000;
/** Lines read per query when the whole log is streamed as text. */
export const LOG_TEXT_BATCH = 5000;

export interface LogReader {
  getLogs(id: string, options?: { afterSeq?: number; limit?: number }): Promise<LogLine[]>;
}

export interface LogPage {
  /** In order, every seq below `before` of the request. */
  lines: LogLine[];
  /** The cursor of the page before this one (its first line), or null when line 1 is in this page. */
  before: number | null;
}

/**
 * The number of a run's last stored line. `hint` (the run's recorded line count, or the live run's
 * last seq) is checked with two lookups; without it, or when it is wrong, an exponential then binary
 * search finds it in about 2·log2(n) lookups.
 */
export async function lastLogSeq(reader: LogReader, id: string, hint = 0): Promise<number> {
  const hasAfter = async (seq: number) => (await reader.getLogs(id, { afterSeq: seq, limit: 1 })).length > 0;
  if (hint > 0 && !(await hasAfter(hint)) && (await hasAfter(hint - 1))) return hint;
  if (!(await hasAfter(0))) return 0;
  let low = 0; // a line exists after low
  let high = Math.max(1024, hint);
  while (await hasAfter(high)) {
    low = high;
    high *= 2;
  }
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (await hasAfter(mid)) low = mid;
    else high = mid;
  }
  return high;
}

/** The largest stored seq below `seq` (0 when none). */
async function lastSeqBelow(reader: LogReader, id: string, seq: number): Promise<number> {
  const firstAfter = async (after: number) => (await reader.getLogs(id, { afterSeq: after, limit: 1 }))[0]?.seq ?? Infinity;
  if ((await firstAfter(0)) >= seq) return 0;
  // firstAfter(s) < seq holds for s below the answer and fails from it on.
  let low = 0;
  let high = seq - 1;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if ((await firstAfter(mid)) < seq) low = mid;
    else high = mid;
  }
  return high;
}

/** Up to `limit` lines just before `before`, skipping over a dropped section. */
export async function logPageBefore(reader: LogReader, id: string, before: number, limit: number): Promise<LogPage> {
  if (before <= 1) return { lines: [], before: null };
  const after = Math.max(0, before - 1 - limit);
  let lines = (await reader.getLogs(id, { afterSeq: after, limit })).filter((l) => l.seq < before);
  if (lines.length < limit && after > 0) {
    // Fewer lines than numbers: the dropped section lies in (after, before). Fill the page from below it.
    const top = await lastSeqBelow(reader, id, lines[0]?.seq ?? before);
    if (top > 0) {
      const need = limit - lines.length;
      const more = (await reader.getLogs(id, { afterSeq: Math.max(0, top - need), limit: need })).filter((l) => l.seq <= top);
      lines = [...more, ...lines];
    }
  }
  const first = lines[0];
  return { lines, before: first && first.seq > 1 ? first.seq : null };
}

/** The last `limit` lines of a log, with the cursor of the page before them. */
export async function logTail(reader: LogReader, id: string, limit: number, hint = 0): Promise<LogPage & { lastSeq: number }> {
  const lastSeq = await lastLogSeq(reader, id, hint);
  if (lastSeq === 0) return { lines: [], before: null, lastSeq };
  return { ...(await logPageBefore(reader, id, lastSeq + 1, limit)), lastSeq };
}

/** The whole log as text, one line a row, a marker where lines were dropped; read `batch` lines at a time. */
export async function* logText(reader: LogReader, id: string, batch = LOG_TEXT_BATCH): AsyncGenerator<string> {
  let previous = 0;
  for (;;) {
    const lines = await reader.getLogs(id, { afterSeq: previous, limit: batch });
    if (lines.length === 0) return;
    let chunk = '';
    for (const line of lines) {
      if (line.seq > previous + 1) chunk += `${droppedMarker(line.seq - previous - 1)}\n`;
      chunk += `${line.msg}\n`;
      previous = line.seq;
    }
    yield chunk;
    if (lines.length < batch) return;
  }
}

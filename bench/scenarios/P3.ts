/**
 * P3: reading a large history (1M runs and 10M log lines at full size): the first page, and a page
 * filtered by task, by an argument value (`arg.format=tar`), by tag and by a time range, timed as the server time of
 * `kernel.service.listRuns(...)` in process and as the full round trip of the history page over HTTP
 * (the HTML page: in any other format `/admin/run` is an export of every matching run, see P3-export).
 */
import Database from 'better-sqlite3';
import type { RunFilter } from '../../core/tasks/run-repository.js';
import type { BenchContext } from '../lib/bench-context.js';
import { bootBenchKernel } from '../lib/bench-kernel.js';
import { sharedHistory } from '../lib/shared-history.js';
import { below, result, type ScenarioResult } from '../lib/scenario-result.js';
import { median } from '../lib/stats.js';

/** Timed calls per query and round (the round's figure is their median), fewer when calls are slow. */
const CALLS = 15;
const MIN_CALLS = 3;
const TIME_BUDGET_MS = 2000;

interface Query {
  key: string;
  label: string;
  filter: RunFilter;
  query: string;
  matches: number;
}

async function timeCalls(call: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  await call(); // warm: the statement, the pages the query touches
  const budgetEnd = performance.now() + TIME_BUDGET_MS;
  // A slow query (a regression) must not make the bench take hours: stop once the budget is spent.
  while (times.length < CALLS && (times.length < MIN_CALLS || performance.now() < budgetEnd)) {
    const start = performance.now();
    await call();
    times.push(performance.now() - start);
  }
  return median(times);
}

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${text.slice(0, 200)}`);
  return text;
}

/** Start times of the runs a third and a half of the way up: an old range, where a scan from the newest run would read 500k rows first at 1M. */
function timeRange(file: string, runs: number): { since: number; until: number; runs: number } {
  const db = new Database(file, { readonly: true });
  try {
    const [since, until] = db.prepare('SELECT started_at FROM runs WHERE num IN (?, ?) ORDER BY num').pluck().all(Math.floor(runs / 3), Math.floor(runs / 2)) as number[];
    const count = db.prepare('SELECT count(*) FROM runs WHERE started_at >= ? AND started_at < ?').pluck().get(since, until) as number;
    return { since: since!, until: until!, runs: count };
  } finally {
    db.close();
  }
}

export default async function p3(ctx: BenchContext): Promise<ScenarioResult[]> {
  const history = await sharedHistory(ctx);
  const f = history.filters;
  ctx.record('history', { runs: history.runs, logLines: history.logLines, generateMs: history.generateMs, bytes: history.bytes, filters: f });
  const range = timeRange(history.file, history.runs);
  const queries: Query[] = [
    { key: 'first', label: 'first page', filter: {}, query: '', matches: history.runs },
    { key: 'task', label: `by task (${f.task})`, filter: { task: [f.task] }, query: `task=${f.task}`, matches: f.taskRuns },
    { key: 'arg', label: `by arg (arg.${f.argName}=${f.argValue})`, filter: { args: { [f.argName]: f.argValue } }, query: `arg.${f.argName}=${f.argValue}`, matches: f.argRuns },
    { key: 'tag', label: `by tag (${f.tag})`, filter: { tag: [f.tag] }, query: `tag=${f.tag}`, matches: f.tagRuns },
    { key: 'range', label: 'by time range (a sixth, a third of the way back)', filter: { since: range.since, until: range.until }, query: `since=${range.since}&until=${range.until}`, matches: range.runs },
  ];
  const kernel = await bootBenchKernel({ dir: ctx.tempDir('kernel'), db: history.file, listen: true });
  try {
    for (const q of queries) {
      const page = await kernel.service.listRuns(q.filter, { limit: 50 });
      if (page.runs.length !== 50) throw new Error(`listRuns ${q.label}: expected a full page of 50, got ${page.runs.length}`);
    }
    const m = await ctx.measure('ms', async () => {
      const figures: Record<string, number> = {};
      for (const q of queries) {
        figures[`${q.key}.listRuns`] = await timeCalls(async () => void (await kernel.service.listRuns(q.filter, { limit: 50 })));
        figures[`${q.key}.html`] = await timeCalls(async () => void (await fetchText(`${kernel.url}/admin/run?${q.query}`)));
      }
      return figures;
    });
    const size = `${history.runs.toLocaleString('en-US')} runs`;
    return queries.flatMap((q) => [
      result({
        id: `P3-${q.key}`,
        scenario: `history ${q.label}, listRuns (${size})`,
        taskdeck: m[`${q.key}.listRuns`]!,
        unit: 'ms',
        goal: below(10, 'ms'),
        notes: `${q.matches.toLocaleString('en-US')} matching runs; page of 50`,
      }),
      result({
        id: `P3-${q.key}-http`,
        scenario: `history ${q.label}, GET /admin/run (${size})`,
        taskdeck: m[`${q.key}.html`]!,
        unit: 'ms',
        goal: below(50, 'ms'),
        notes: 'the HTML page (other formats export every matching run), loopback round trip',
      }),
    ]);
  } finally {
    await kernel.stop();
  }
}

/** Turns tasks, results and history rows into the locals the Pug pages display. */
import { formatFieldValue } from '../tasks/fields.js';
import { droppedMarker } from '../tasks/log-buffer.js';
import { microsToMillis } from '../tasks/micros.js';
import type { LogLine, SearchSnippet, StoredRun } from '../tasks/run-repository.js';
import { taskWebPath } from '../tasks/task.js';
import { DEFAULT_LABEL } from '../tasks/task-service.js';
import type { Field, ResultJson, Task } from '../tasks/types.js';
import { ansiToHtml } from './ansi-html.js';
import { buildQuery, type QueryValues } from './parse-query.js';
import { relativeTime } from './relative-time.js';
import { snippetView } from './search-snippet.js';
import type { CopyCommands, FormFieldView, LogLineView, LogWindowView, ResultView, RunSummaryView, TaskFormView } from './view-models.js';

/** Pairs in query order: what a form or a run's args give, one pair per value of a list. */
export type ArgPairs = readonly (readonly [string, string])[];

export function runHref(base: string, id: string): string {
  return `${base}/admin/run/${encodeURIComponent(id)}`;
}

/** A task's `webURL` when it is a link that cannot run script (http(s), a path), else the task's admin page. */
export function taskHref(base: string, task: Pick<Task, 'key' | 'webURL'> | { key: string }): string {
  const webURL = 'webURL' in task ? task.webURL : '';
  return webURL && isSafeHref(webURL) ? webURL : `${base}${taskWebPath({ key: task.key, webURL: '' })}`;
}

/** Like the views' `safeHref`: no scheme (a path) or http(s); `javascript:`, `data:` and the rest are refused. */
export function isSafeHref(url: string): boolean {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url.replace(/[\u0000-\u0020\u007f]/g, ''));
  return !scheme || /^https?$/i.test(scheme[1] ?? '');
}

export function runSummaryView(base: string, run: StoredRun, now: number, snippet?: SearchSnippet): RunSummaryView {
  return {
    id: run.id,
    href: runHref(base, run.id),
    taskKey: run.taskKey,
    taskTitle: run.taskTitle,
    taskHref: `${base}/admin/task/${run.taskKey}`,
    label: run.label,
    status: run.status,
    started: new Date(run.startedAt).toISOString(),
    startedRelative: relativeTime(run.startedAt, now),
    elapsed: run.status === 'running' ? '' : microsToMillis(run.elapsedUs),
    tags: run.tags,
    args: run.args,
    error: run.error,
    snippet: snippet ? snippetView(snippet) : null,
  };
}

/**
 * Log rows with a marker wherever sequence numbers jump (the log cap dropped the lines between), and
 * after the last line when `before` (the first line already on the page) is further than the next number.
 */
export function logLineViews(lines: readonly LogLine[], options: { before?: number } = {}): LogLineView[] {
  const rows: LogLineView[] = [];
  const gap = (count: number) => rows.push({ kind: 'gap', count, text: droppedMarker(count) });
  let previous = lines[0] ? lines[0].seq - 1 : 0;
  for (const line of lines) {
    if (line.seq > previous + 1) gap(line.seq - previous - 1);
    rows.push({ kind: 'line', seq: line.seq, html: ansiToHtml(line.msg), stream: line.stream });
    previous = line.seq;
  }
  if (options.before !== undefined && lines.length && options.before > previous + 1) gap(options.before - previous - 1);
  return rows;
}

export interface ResultViewOptions {
  /** Where the page was requested (`http://127.0.0.1:8470`): the copy-as commands need it. None, no commands. */
  origin?: string;
  /** The task registered under the run's key now: undefined to take it from the Result, null when it is gone. */
  current?: Pick<Task, 'version' | 'fields'> | null;
  /** The window of a long log shown on the page (its last lines). */
  logWindow?: LogWindowView | null;
}

export function resultView(base: string, result: ResultJson, logs: readonly LogLine[], now: number, options: ResultViewOptions = {}): ResultView {
  const started = Date.parse(result.started);
  const taskVersion = typeof result.metadata.taskVersion === 'string' ? result.metadata.taskVersion : '';
  const fromResult = 'fields' in result.task && Array.isArray(result.task.fields) ? { version: typeof result.task.version === 'string' ? result.task.version : taskVersion, fields: result.task.fields } : null;
  const current = options.current === undefined ? fromResult : options.current;
  const pairs = argPairs(result.args, current?.fields);
  const label = result.run;
  // `from` would be the task's own argument when it declares a field of that name: then it stays out.
  const from: Record<string, string> = current && !current.fields.some((f) => f.key === 'from') ? { from: result.id } : {};
  const runAgainHref = `${base}/admin/task/${result.task.key}?${buildQuery({ ...pairsToValues(pairs), category: label, ...from })}`;
  return {
    result,
    status: result.status,
    taskKey: result.task.key,
    taskTitle: result.task.title,
    started: result.started,
    startedRelative: relativeTime(started, now),
    elapsed: result.status === 'running' ? '' : microsToMillis(result.elapsed),
    logs: logLineViews(logs),
    logWindow: options.logWindow ?? null,
    dataJson: result.data === undefined ? null : JSON.stringify(result.data, null, 2),
    argsJson: JSON.stringify(result.args, null, 2),
    runAgainHref,
    rerun: { available: current !== null, taskVersion, currentVersion: current ? current.version : null },
    copy: current && options.origin !== undefined ? copyCommands({ origin: options.origin, base, taskKey: result.task.key, pairs, label, linkExtra: from }) : null,
    href: runHref(base, result.id),
  };
}

/**
 * A run's args as query pairs (a list as repeated keys). A declared field formats its value so that
 * reading it back gives the same value (a one-item list holding a comma goes as a JSON array).
 */
export function argPairs(args: Record<string, unknown>, fields: readonly Field[] = []): ArgPairs {
  return Object.entries(args).flatMap(([key, value]) => {
    const field = fields.find((f) => f.key === key);
    return (field ? formatFieldValue(field, value) : toQueryValues(value)).map((v) => [key, v] as const);
  });
}

function pairsToValues(pairs: ArgPairs): Record<string, string[]> {
  // No prototype: an undeclared argument may be called `toString` or `valueOf`.
  const values = Object.create(null) as Record<string, string[]>;
  for (const [key, value] of pairs) (values[key] ??= []).push(value);
  return values;
}

/** A word for POSIX shells (bash, zsh, sh): single quotes, each `'` written as `'\''`. Nothing inside single quotes is special. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Copy as link / curl / CLI for a task and its arguments. `pairs` are the arguments as a query string
 * would carry them; `linkExtra` adds keys to the link only (`from`, for "run again").
 */
export function copyCommands(input: { origin: string; base: string; taskKey: string; pairs: ArgPairs; label: string; linkExtra?: Record<string, string> }): CopyCommands {
  const { origin, base, taskKey, pairs } = input;
  // The default label goes without saying.
  const label = input.label === DEFAULT_LABEL ? '' : input.label;
  const params = new URLSearchParams();
  for (const [key, value] of pairs) params.append(key, value);
  if (label) params.append('category', label);
  const linkParams = new URLSearchParams(params);
  for (const [key, value] of Object.entries(input.linkExtra ?? {})) linkParams.append(key, value);
  const linkQuery = linkParams.toString();
  params.append('t', 'json');
  const words = pairs.map(([key, value]) => shellQuote(`${key}=${value}`));
  // A pair that starts with "-" would read as an option: after "--" every word is an argument.
  const needsEnd = pairs.some(([key]) => key.startsWith('-'));
  const labelWords = label ? ['--label', shellQuote(label)] : [];
  const cliWords = needsEnd ? ['npx', 'taskdeck', 'run', taskKey, ...labelWords, '--', ...words] : ['npx', 'taskdeck', 'run', taskKey, ...words, ...labelWords];
  return {
    link: `${base}/admin/task/${taskKey}${linkQuery ? `?${linkQuery}` : ''}`,
    curl: `curl -s ${shellQuote(`${origin}${base}/admin/task/${taskKey}/run?${params.toString()}`)}`,
    cli: cliWords.join(' '),
  };
}

/**
 * What the form sends when submitted as rendered (the browser script computes the same from the live
 * form): a checkbox always (true/false), a list one pair per non-empty line or choice, an empty number,
 * date-time or select not at all (the default applies), text as typed.
 */
export function formPairs(fields: readonly FormFieldView[]): ArgPairs {
  const pairs: (readonly [string, string])[] = [];
  for (const fv of fields) {
    const key = fv.field.key;
    switch (fv.control) {
      case 'checkbox':
        pairs.push([key, String(fv.checked)]);
        break;
      case 'textarea-list':
        for (const line of fv.values.join('\n').split(/\r?\n/)) if (line !== '') pairs.push([key, line]);
        break;
      case 'text':
        pairs.push([key, fv.values[0] ?? '']);
        break;
      case 'multiselect':
        for (const value of fv.values) if (value !== '') pairs.push([key, value]);
        break;
      default:
        if (fv.values[0]) pairs.push([key, fv.values[0]]);
    }
  }
  return pairs;
}

function toQueryValues(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  return [JSON.stringify(value)];
}

/** The run form, filled from query values (so any link reproduces it) or the fields' defaults. */
export function taskFormView(base: string, origin: string, task: Task, query: QueryValues, errors: Record<string, string> = {}): TaskFormView {
  const submitted = query._checkboxes !== undefined;
  const fields = task.fields.map((field, index): FormFieldView => {
    const raw = query[field.key];
    const values = raw === undefined ? formatFieldValue(field, field.default) : Array.isArray(raw) ? raw : [raw];
    const control = controlFor(field);
    const checked = control === 'checkbox' && (raw === undefined ? (submitted ? false : field.default === true) : /^(true|1|on|yes)$/i.test(values[0] ?? ''));
    return { field, id: `f${index}-${field.key.replace(/[^A-Za-z0-9_-]/g, '_')}`, values: control === 'datetime' ? values.map(toDatetimeLocal) : values, control, checked };
  });
  const label = typeof query.category === 'string' ? query.category : '';
  return {
    action: `${base}/admin/task/${task.key}/run`,
    presetAction: `${base}/admin/task/${task.key}/preset`,
    fields,
    label,
    dangerous: task.dangerous,
    taskKey: task.key,
    errors,
    copy: copyCommands({ origin, base, taskKey: task.key, pairs: formPairs(fields), label }),
  };
}

function controlFor(field: Field): FormFieldView['control'] {
  switch (field.type) {
    case 'bool':
      return 'checkbox';
    case 'int':
      return field.choices.length ? 'select' : 'number-int';
    case 'float':
      return field.choices.length ? 'select' : 'number-float';
    case 'time':
      return 'datetime';
    case '[]string':
      return field.choices.length ? 'multiselect' : 'textarea-list';
    default:
      return field.choices.length ? 'select' : 'text';
  }
}

/** `datetime-local` inputs want `YYYY-MM-DDTHH:mm:ss[.sss]` (UTC, as the field reads it back); anything else passes untouched. */
function toDatetimeLocal(value: string): string {
  const ms = Date.parse(/T[^Zz+-]*$/.test(value) ? `${value}Z` : value); // no offset = UTC, as the fields read it
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) return value;
  return new Date(ms).toISOString().slice(0, 23).replace(/\.000$/, '');
}

/** The window of a long log a page shows: the last lines, a link to the page before them, the full text. */
export function logWindowView(base: string, id: string, page: { lines: readonly LogLine[]; before: number | null; lastSeq: number }, dropped: number, pageLines: number): LogWindowView {
  const href = runHref(base, id);
  return {
    lastSeq: page.lastSeq,
    dropped,
    firstShown: page.lines[0]?.seq ?? null,
    earlierHref: page.before === null ? null : `${href}/logs?${buildQuery({ before: String(page.before), limit: String(pageLines) })}`,
    textHref: `${href}/log.txt`,
  };
}

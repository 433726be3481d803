/** Turns tasks, results and history rows into the locals the Pug pages display. */
import { formatFieldValue } from '../tasks/fields.js';
import { microsToMillis } from '../tasks/micros.js';
import type { LogLine, StoredRun } from '../tasks/run-repository.js';
import { taskWebPath } from '../tasks/task.js';
import type { Field, ResultJson, Task } from '../tasks/types.js';
import { ansiToHtml } from './ansi-html.js';
import { buildQuery, type QueryValues } from './parse-query.js';
import { relativeTime } from './relative-time.js';
import type { FormFieldView, ResultView, RunSummaryView, TaskFormView } from './view-models.js';

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

export function runSummaryView(base: string, run: StoredRun, now: number): RunSummaryView {
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
  };
}

export function logLineViews(lines: readonly LogLine[]): ResultView['logs'] {
  return lines.map((l) => ({ seq: l.seq, html: ansiToHtml(l.msg), stream: l.stream }));
}

export function resultView(base: string, result: ResultJson, logs: readonly LogLine[], now: number, logsOmitted = 0): ResultView {
  const started = Date.parse(result.started);
  return {
    result,
    status: result.status,
    taskKey: result.task.key,
    taskTitle: result.task.title,
    started: result.started,
    startedRelative: relativeTime(started, now),
    elapsed: result.status === 'running' ? '' : microsToMillis(result.elapsed),
    logs: logLineViews(logs),
    logsOmitted,
    dataJson: result.data === undefined ? null : JSON.stringify(result.data, null, 2),
    argsJson: JSON.stringify(result.args, null, 2),
    runAgainHref: `${base}/admin/task/${result.task.key}?${runAgainQuery(result)}`,
    href: runHref(base, result.id),
  };
}

/** The query string that re-opens the task form with a run's args and label. */
export function runAgainQuery(result: Pick<ResultJson, 'args' | 'run'>): string {
  const values: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(result.args)) values[key] = toQueryValues(value);
  values.category = [result.run];
  return buildQuery(values);
}

function toQueryValues(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  return [JSON.stringify(value)];
}

/** The run form, filled from query values (so any link reproduces it) or the fields' defaults. */
export function taskFormView(base: string, task: Task, query: QueryValues, errors: Record<string, string> = {}): TaskFormView {
  const submitted = query._checkboxes !== undefined;
  const fields = task.fields.map((field, index): FormFieldView => {
    const raw = query[field.key];
    const values = raw === undefined ? formatFieldValue(field, field.default) : Array.isArray(raw) ? raw : [raw];
    const control = controlFor(field);
    const checked = control === 'checkbox' && (raw === undefined ? (submitted ? false : field.default === true) : /^(true|1|on|yes)$/i.test(values[0] ?? ''));
    return { field, id: `f${index}-${field.key.replace(/[^A-Za-z0-9_-]/g, '_')}`, values: control === 'datetime' ? values.map(toDatetimeLocal) : values, control, checked };
  });
  const label = typeof query.category === 'string' ? query.category : '';
  const share: Record<string, string | string[]> = {};
  for (const f of fields) share[f.field.key] = f.control === 'checkbox' ? [String(f.checked)] : f.values;
  if (label) share.category = label;
  return {
    action: `${base}/admin/task/${task.key}/run`,
    fields,
    label,
    dangerous: task.dangerous,
    taskKey: task.key,
    errors,
    shareQuery: `${base}/admin/task/${task.key}?${buildQuery(share)}`,
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

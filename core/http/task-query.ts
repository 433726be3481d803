/**
 * Splits a task route's query into the run label, the response controls and the task's arguments.
 * Reserved keys never reach a task: `category`, `async`, `t`, `download`, the form marker
 * `_checkboxes`, and `format` and `from` (the run a "run again" link comes from) unless the task
 * declares a field of that name.
 */
import type { Context } from 'koa';
import { badRequest } from '../errors.js';
import type { RawArgs } from '../tasks/fields.js';
import { DEFAULT_LABEL } from '../tasks/task-service.js';
import type { Task } from '../tasks/types.js';
import { selectFormat } from './formats/select-format.js';
import type { QueryValues } from './parse-query.js';
import { state } from './respond.js';

// presetKey/presetTitle: the "save as preset" inputs of the form, sent along with every submit.
const ALWAYS_RESERVED = ['category', 'async', 't', 'download', '_checkboxes', 'presetKey', 'presetTitle'];
export const MAX_LABEL_LENGTH = 200;

export interface TaskQuery {
  raw: RawArgs;
  label: string;
  /** The request came from our HTML form, where an unchecked checkbox is simply absent. */
  fromForm: boolean;
  async: boolean;
}

export function hasFormatField(task: Task): boolean {
  return task.fields.some((f) => f.key === 'format');
}

/** A task may declare `from` (a date range, say): then `?from=` is its argument, not a run id. */
export function hasFromField(task: Task): boolean {
  return task.fields.some((f) => f.key === 'from');
}

/** Re-selects the response format now that the task is known (its `format` field wins over `?format=`). */
export function selectTaskFormat(ctx: Context, task: Task): void {
  const query = state(ctx).query;
  state(ctx).format = selectFormat({ t: query.t, format: query.format }, ctx.get('Accept') || undefined, { formatIsTaskField: hasFormatField(task) });
}

/** The reserved keys by whether the task declares `format` (bit 1) and `from` (bit 2): built once, not per request. */
const RESERVED_SETS: readonly ReadonlySet<string>[] = [
  new Set([...ALWAYS_RESERVED, 'format', 'from']),
  new Set([...ALWAYS_RESERVED, 'from']),
  new Set([...ALWAYS_RESERVED, 'format']),
  new Set(ALWAYS_RESERVED),
];

export function splitTaskQuery(task: Task, query: QueryValues): TaskQuery {
  const reserved = RESERVED_SETS[(hasFormatField(task) ? 1 : 0) + (hasFromField(task) ? 2 : 0)]!;
  const raw: RawArgs = Object.create(null) as RawArgs;
  for (const [key, value] of Object.entries(query)) if (!reserved.has(key)) raw[key] = value;
  return { raw, label: runLabel(query.category), fromForm: query._checkboxes !== undefined, async: query.async === 'true' };
}

function runLabel(value: string | string[] | undefined): string {
  const label = Array.isArray(value) ? value.join(',') : (value ?? '');
  if (label.length > MAX_LABEL_LENGTH) throw badRequest(`parameter "category" (the run label): expected at most ${MAX_LABEL_LENGTH} characters, got ${label.length}`);
  return label === '' ? DEFAULT_LABEL : label;
}

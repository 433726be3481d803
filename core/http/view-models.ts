/**
 * What each Pug page receives. Routes build these; views only display them (escaped, always).
 * Every page also gets `LayoutLocals`.
 */
import type { Field, Progress, ResultJson, RunStatus, TaskJson } from '../tasks/types.js';

export interface LayoutLocals {
  /** Browser title: "<title> - taskdeck". */
  title: string;
  /** Breadcrumbs after "admin": label and optional href. */
  crumbs: { label: string; href?: string }[];
  /** Plugin files that failed to load: shown as a banner on every page. */
  pluginFailures: { file: string; error: string }[];
  /** Per-request nonce for the Content-Security-Policy (inline scripts are not allowed otherwise). */
  nonce: string;
  /** Renders a named lucide icon as an inline SVG string (already safe markup built by us). */
  icon: (name: string, size?: number) => string;
  /** Links to the same page in each export format (keeps the current query). */
  formatLinks: { format: string; href: string }[];
  /** Path prefix where the admin is mounted ('' standalone). */
  base: string;
}

export interface RunSummaryView {
  id: string;
  href: string;
  taskKey: string;
  taskTitle: string;
  taskHref: string;
  label: string;
  status: RunStatus;
  /** ISO timestamp, and a human "3 minutes ago". */
  started: string;
  startedRelative: string;
  /** "12ms", "1.500ms". */
  elapsed: string;
  tags: string[];
  args: Record<string, unknown>;
  error: string;
}

export interface TaskCardView {
  task: TaskJson;
  href: string;
  lastRun: { id: string; href: string; status: RunStatus; started: string; startedRelative: string } | null;
}

/** GET /admin/task */
export interface TaskListLocals extends LayoutLocals {
  groups: { category: string; tasks: TaskCardView[] }[];
}

/** One form control, with its current value(s) as strings (from the query string or the default). */
export interface FormFieldView {
  field: Field;
  /** Unique element id for label/for. */
  id: string;
  values: string[];
  /** 'select' | 'checkbox' | 'number-int' | 'number-float' | 'datetime' | 'multiselect' | 'textarea-list' | 'text' */
  control: 'select' | 'checkbox' | 'number-int' | 'number-float' | 'datetime' | 'multiselect' | 'textarea-list' | 'text';
  checked: boolean;
}

export interface TaskFormView {
  /** GET target of the form: /admin/task/{key}/run */
  action: string;
  fields: FormFieldView[];
  /** The run label input value (`category`). */
  label: string;
  /** Text of the warning for dangerous tasks ('' when not dangerous); the form asks to type the key. */
  dangerous: string;
  taskKey: string;
  /** Problems from a previous submit (400), per field name. */
  errors: Record<string, string>;
  /** Query string that reproduces the form (for "copy link"). */
  shareQuery: string;
}

/** GET /admin/task/{key} */
export interface TaskDetailLocals extends LayoutLocals {
  task: TaskJson;
  form: TaskFormView;
  recentRuns: RunSummaryView[];
  removable: boolean;
  /** Href of /admin/task/{key}/remove when removable. */
  removeHref: string;
  stats: { count: number; ok: number; successRate: number | null };
}

export interface LogLineView {
  seq: number;
  /** Already escaped HTML (ANSI colours as spans). */
  html: string;
  stream: string;
}

export interface ResultView {
  result: ResultJson;
  status: RunStatus;
  taskKey: string;
  taskTitle: string;
  started: string;
  startedRelative: string;
  elapsed: string;
  logs: LogLineView[];
  /** Lines not shown (earlier pages of a long log). */
  logsOmitted: number;
  dataJson: string | null;
  argsJson: string;
  /** Link that re-opens the task form with these args and label. */
  runAgainHref: string;
  href: string;
}

/** GET /admin/task/{key}/run (sync) */
export interface RunResultLocals extends LayoutLocals {
  task: TaskJson;
  form: TaskFormView;
  view: ResultView;
}

/** GET /admin/task/{key}/run?async=true */
export interface RunLiveLocals extends LayoutLocals {
  task: TaskJson;
  form: TaskFormView;
  /** WebSocket path to start the run: /admin/task/{key}/start?<args> (relative, the page adds ws://host). */
  startPath: string;
}

/** GET /admin/run/{id} */
export interface RunDetailLocals extends LayoutLocals {
  view: ResultView;
  running: boolean;
  /** WebSocket path to attach when running: /admin/run/{id}/watch */
  watchPath: string;
  cancelHref: string;
  progress: Progress | null;
}

/** GET /admin/run */
export interface RunListLocals extends LayoutLocals {
  runs: RunSummaryView[];
  filters: { task: string; status: string; run: string; tag: string; since: string; until: string };
  statuses: string[];
  taskKeys: string[];
  nextHref: string | null;
}

/** Any error page. */
export interface ErrorLocals extends LayoutLocals {
  status: number;
  message: string;
  code: string;
}

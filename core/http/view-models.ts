/**
 * What each Pug page receives. Routes build these; views only display them (escaped, always).
 * Every page also gets `LayoutLocals`.
 */
import type { Field, Progress, ResultJson, RunStatus, TaskJson } from '../tasks/types.js';
import type { RunListForm } from './run-filter-query.js';
import type { SnippetView } from './search-snippet.js';

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
  /** The logout link, for a browser signed in with the login form (token mode). */
  signOutHref: string | null;
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
  /** Where a text search (`q`) matched this run; null without a search or a match. */
  snippet: SnippetView | null;
}

/**
 * The three ways to repeat a run or a filled-in form elsewhere. `link` is a path with its query (the
 * page adds its origin); `curl` and `cli` are complete shell commands, every argument single-quoted.
 */
export interface CopyCommands {
  link: string;
  /** `curl -s 'http://host/admin/task/KEY/run?ARGS&t=json'`: a sync run answering JSON. */
  curl: string;
  /** `npx taskdeck run KEY 'k=v' ... --label 'L'`. */
  cli: string;
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
  /** Target of "save as preset": /admin/task/{key}/preset (the form's values become the defaults). */
  presetAction: string;
  fields: FormFieldView[];
  /** The run label input value (`category`). */
  label: string;
  /** Text of the warning for dangerous tasks ('' when not dangerous); the form asks to type the key. */
  dangerous: string;
  taskKey: string;
  /** Problems from a previous submit (400), per field name. */
  errors: Record<string, string>;
  /** Link, curl and CLI commands that reproduce the form as it was rendered (the script follows edits). */
  copy: CopyCommands;
}

/** GET /admin/task/{key} */
export interface TaskDetailLocals extends LayoutLocals {
  task: TaskJson;
  form: TaskFormView;
  /** Reached through "run again" (`from=<run id>`) of a run whose task code has changed since. */
  versionWarning: { runId: string; runHref: string; from: string; to: string } | null;
  recentRuns: RunSummaryView[];
  removable: boolean;
  /** Href of /admin/task/{key}/remove when removable. */
  removeHref: string;
  stats: { count: number; ok: number; successRate: number | null };
}

/** One row of a log table: a line, or the marker where the log cap dropped lines. */
export type LogLineView =
  | {
      kind: 'line';
      seq: number;
      /** Already escaped HTML (ANSI colours as spans). */
      html: string;
      stream: string;
    }
  | { kind: 'gap'; count: number; text: string };

/** The log of a run as a page shows it: its last lines, and where to read the earlier ones. */
export interface LogWindowView {
  /** The number of the run's last line (lines ever written, dropped ones included). */
  lastSeq: number;
  /** Lines the log cap dropped from the middle. */
  dropped: number;
  /** The first line shown; with `earlierHref`, lines before it can be loaded. */
  firstShown: number | null;
  /** GET .../logs?before=<first shown>&limit=…: the previous page of rows; null when line 1 is shown. */
  earlierHref: string | null;
  /** The whole log as text/plain (a download). */
  textHref: string;
}

/** Whether a past run can be run again, and whether the task's code changed since. */
export interface RerunView {
  /** The task (by key) is still registered. */
  available: boolean;
  /** The code version the run used, and the registered task's (null when it is gone). */
  taskVersion: string;
  currentVersion: string | null;
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
  /** Null when the page shows every line (the live result fragment). */
  logWindow: LogWindowView | null;
  dataJson: string | null;
  argsJson: string;
  /** Link that re-opens the task form with these args and label (and `from`, the run's id). */
  runAgainHref: string;
  rerun: RerunView;
  /** Copy as link / curl / CLI of this run's args and label; null where no origin is known (a WebSocket fragment). */
  copy: CopyCommands | null;
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
  filters: RunListForm;
  /** The argument filters as chips, each with the URL of this page without it. */
  argChips: { name: string; value: string; removeHref: string }[];
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

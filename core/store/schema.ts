/** The database as the app sees it (migrations never import this). */
import type { Generated } from 'kysely';

export interface RunsTable {
  num: Generated<number>;
  id: string;
  task_key: string;
  task_title: string;
  task_version: Generated<string>;
  run_label: string;
  args_json: string;
  status: string;
  started_at: number;
  finished_at: number | null;
  elapsed_us: Generated<number>;
  summary: Generated<string>;
  error: Generated<string>;
  error_stack: Generated<string>;
  data_json: string | null;
  metadata_json: Generated<string>;
  tags_json: Generated<string>;
  log_count: Generated<number>;
  logs_dropped: Generated<number>;
  progress_done: number | null;
  progress_total: number | null;
  progress_message: string | null;
  origin: string;
  /** Null once the run's log is fully in `log_search`; else the lines up to this seq are (migration 0005). */
  log_indexed_seq: Generated<number | null>;
}

export interface RunLogsTable {
  rowid: Generated<number>;
  run_num: number;
  seq: number;
  at: number;
  stream: Generated<string>;
  msg: string;
}

export interface RunTagsTable {
  tag: string;
  run_num: number;
}

export interface RunArgsTable {
  name: string;
  value: string;
  run_num: number;
}

export interface PresetsTable {
  key: string;
  base_task: string;
  title: string;
  args_json: string;
  created_at: number;
}

/** FTS5 tables: `rowid` is the run_logs rowid / the run's num; the table-named column is the MATCH target. */
export interface LogSearchTable {
  rowid: number;
  msg: string;
  log_search: string;
}

export interface ResultSearchTable {
  rowid: number;
  error: string;
  data_json: string | null;
  result_search: string;
}

export interface Schema {
  runs: RunsTable;
  run_logs: RunLogsTable;
  run_tags: RunTagsTable;
  run_args: RunArgsTable;
  presets: PresetsTable;
  log_search: LogSearchTable;
  /** A view: run_logs with ANSI escapes stripped from `msg`, the content of log_search. */
  run_logs_plain: { rowid: number; run_num: number; seq: number; msg: string };
  result_search: ResultSearchTable;
}

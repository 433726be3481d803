// Frozen in time: this migration sees the database as Kysely<any>, never the app's schema types.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // `num` orders runs (newest first) and serves keyset pagination; `id` is the public UUID.
  await db.schema
    .createTable('runs')
    .addColumn('num', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('task_key', 'text', (c) => c.notNull())
    .addColumn('task_title', 'text', (c) => c.notNull())
    .addColumn('task_version', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('run_label', 'text', (c) => c.notNull())
    .addColumn('args_json', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .addColumn('elapsed_us', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('summary', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('error', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('error_stack', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('data_json', 'text')
    .addColumn('metadata_json', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('tags_json', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('log_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('logs_dropped', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('progress_done', 'integer')
    .addColumn('progress_total', 'integer')
    .addColumn('progress_message', 'text')
    .addColumn('origin', 'text', (c) => c.notNull().defaultTo('code'))
    .execute();
  await db.schema.createIndex('runs_task_num').on('runs').columns(['task_key', 'num']).execute();
  await db.schema.createIndex('runs_status_num').on('runs').columns(['status', 'num']).execute();
  await db.schema.createIndex('runs_label_num').on('runs').columns(['run_label', 'num']).execute();
  await db.schema.createIndex('runs_started').on('runs').column('started_at').execute();

  // One row per log line; `seq` counts from 1 within a run.
  await db.schema
    .createTable('run_logs')
    .addColumn('run_num', 'integer', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('stream', 'text', (c) => c.notNull().defaultTo('log'))
    .addColumn('msg', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('run_logs_pk', ['run_num', 'seq'])
    .execute();

  // Tags and argument values are also kept row by row, so history can be filtered by them with an index.
  await db.schema
    .createTable('run_tags')
    .addColumn('tag', 'text', (c) => c.notNull())
    .addColumn('run_num', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('run_tags_pk', ['tag', 'run_num'])
    .execute();
  await db.schema.createIndex('run_tags_run').on('run_tags').column('run_num').execute();

  await db.schema
    .createTable('run_args')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('run_num', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('run_args_lookup').on('run_args').columns(['name', 'value', 'run_num']).execute();
  await db.schema.createIndex('run_args_run').on('run_args').column('run_num').execute();

  // Presets: a new key and title over an existing task, with fixed default args. Restored at start-up.
  await db.schema
    .createTable('presets')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('base_task', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('args_json', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['presets', 'run_args', 'run_tags', 'run_logs', 'runs']) {
    await db.schema.dropTable(table).execute();
  }
}

/**
 * A history filter as SQL: which index drives the scan (so the first page reads a page's worth of
 * rows, not every match), and the conditions on the rows it meets. Results are always newest first
 * (`num` descending) and exact; the driver only decides how they are found.
 *
 * - a tag or an argument value: its index (`run_tags (tag, run_num)`, `run_args (name, value,
 *   run_num)`) already lists the matching runs in `num` order, so the scan starts there and joins each
 *   hit to its run; the other tags and arguments are point lookups (`EXISTS`);
 * - anything else: `runs` by its primary key (or by `(task_key, num)`, `(status, num)`... when SQLite
 *   prefers), newest first.
 *
 * A time range becomes a range of `num` as well (see `start-order.ts`), so a page of an old range does
 * not read every newer run first, and the time range never makes SQLite sort the whole range.
 */
import { sql, type RawBuilder } from 'kysely';
import type { RunFilter } from '../tasks/run-repository.js';
import { toFtsQuery } from './fts-query.js';

export interface NumRange {
  /** Exclusive bounds on `num`; undefined = open. */
  above?: number;
  below?: number;
}

export interface FilterSql {
  /** `FROM ...` clause (the driver, then `runs`). */
  from: RawBuilder<unknown>;
  /** The expression of the run's `num` in the driver's own index, for ordering and keyset bounds. */
  num: RawBuilder<unknown>;
  where: RawBuilder<unknown>[];
}

/**
 * `range` bounds the scan (a keyset cursor, a time range as nums); `timeInRange` says the time range is
 * among those bounds, so its own test must not steer the plan (see below).
 */
export function filterSql(filter: RunFilter, range: NumRange, timeInRange: boolean): FilterSql {
  const where: RawBuilder<unknown>[] = [];
  const args = Object.entries(filter.args ?? {});
  const tags = filter.tag ?? [];
  let from: RawBuilder<unknown> = sql`runs`;
  let num: RawBuilder<unknown> = sql`runs.num`;
  // An argument value is usually rarer than a tag: it drives when both are given. CROSS JOIN keeps
  // the driver as the outer loop (SQLite never reorders it), so no plan sorts the matches.
  const [driveArg, ...otherArgs] = args;
  const driveTag = driveArg ? undefined : tags[0];
  const otherTags = driveArg ? tags : tags.slice(1);
  if (driveArg) {
    from = sql`run_args AS d CROSS JOIN runs`;
    num = sql`d.run_num`;
    where.push(sql`d.name = ${driveArg[0]}`, sql`d.value = ${driveArg[1]}`, sql`runs.num = d.run_num`);
  } else if (driveTag !== undefined) {
    from = sql`run_tags AS d CROSS JOIN runs`;
    num = sql`d.run_num`;
    where.push(sql`d.tag = ${driveTag}`, sql`runs.num = d.run_num`);
  }
  for (const tag of otherTags) where.push(sql`EXISTS (SELECT 1 FROM run_tags t WHERE t.tag = ${tag} AND t.run_num = runs.num)`);
  for (const [name, value] of otherArgs) where.push(sql`EXISTS (SELECT 1 FROM run_args a WHERE a.name = ${name} AND a.value = ${value} AND a.run_num = runs.num)`);
  if (range.above !== undefined) where.push(sql`${num} > ${range.above}`);
  if (range.below !== undefined) where.push(sql`${num} < ${range.below}`);

  if (filter.task?.length) where.push(sql`runs.task_key IN (${sql.join(filter.task)})`);
  if (filter.status?.length) where.push(sql`runs.status IN (${sql.join(filter.status)})`);
  if (filter.label?.length) where.push(sql`runs.run_label IN (${sql.join(filter.label)})`);
  // Unary `+`: with the time range turned into nums, it is checked on the rows the scan meets and never
  // picks the started_at index (whose order is not `num` order: every match would be sorted). Without
  // (the skew is still being read, see start-order.ts) SQLite chooses.
  const startedAt = timeInRange ? sql`+runs.started_at` : sql`runs.started_at`;
  if (filter.since !== undefined) where.push(sql`${startedAt} >= ${filter.since}`);
  if (filter.until !== undefined) where.push(sql`${startedAt} < ${filter.until}`);
  if (filter.minElapsedUs !== undefined) where.push(sql`runs.elapsed_us >= ${filter.minElapsedUs}`);
  if (filter.maxElapsedUs !== undefined) where.push(sql`runs.elapsed_us <= ${filter.maxElapsedUs}`);
  const match = filter.q ? toFtsQuery(filter.q) : null;
  if (filter.q !== undefined && !match) where.push(sql`0`);
  if (match) {
    where.push(sql`(runs.num IN (SELECT run_logs.run_num FROM run_logs WHERE run_logs.rowid IN (SELECT rowid FROM log_search WHERE log_search MATCH ${match}))
      OR runs.num IN (SELECT rowid FROM result_search WHERE result_search MATCH ${match}))`);
  }
  return { from, num, where };
}

/** `WHERE a AND b ...` (or nothing). */
export function whereClause(conditions: readonly RawBuilder<unknown>[]): RawBuilder<unknown> {
  return conditions.length ? sql`WHERE ${sql.join(conditions, sql` AND `)}` : sql``;
}

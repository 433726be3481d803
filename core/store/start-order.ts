/**
 * Turns a time range into an exact range of `num`. Runs are numbered as they are inserted and stamped
 * when they start, so `started_at` nearly follows `num`, but not exactly: two processes share a
 * database, a write waits behind another, the clock steps back. The largest such inversion is the
 * skew: `max(started_at[i] - started_at[j])` over runs `i < j`. With it, one run found through the
 * `started_at` index bounds every run of a range:
 *
 * - a run `i` started at or after `until + skew`: every later run started at or after `until`, so
 *   every run before `until` has `num < i`;
 * - a run `j` started before `since - skew`: every earlier run started before `since`, so every run
 *   from `since` on has `num > j`.
 *
 * The skew is kept per process and extended over the runs added since it was last read (deleting runs
 * can only shrink the true skew, so the kept one stays an upper bound). Reading it for the first time
 * means reading every run once (a second or two at a million runs): that happens in the background, a
 * chunk at a time, and until it is done a time range is answered without num bounds (`null`), as SQLite
 * plans it. Within a chunk of the end, the rest is read inside the page's own read transaction, so the
 * bounds hold for exactly the runs that page sees.
 */
import { setImmediate as turn } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import type { NumRange } from './run-filter-sql.js';
import type { Schema } from './schema.js';

/** Runs read per step of the first reading (tens of milliseconds: other reads wait that long at most). */
const CHUNK = 10_000;

export class StartOrder {
  readonly #reader: Kysely<Schema>;
  #checkedUpTo = 0;
  #latestStart: number | null = null;
  #skew = 0;
  #reading: Promise<void> | null = null;

  constructor(reader: Kysely<Schema>) {
    this.#reader = reader;
  }

  /**
   * The num range holding every run started in [since, until), or null while the skew is not known yet.
   * Call it inside the page's read transaction (`db`), before the page query.
   */
  async numRange(db: Kysely<Schema>, since: number | undefined, until: number | undefined): Promise<NumRange | null> {
    if (since === undefined && until === undefined) return {};
    const last = await lastNum(db);
    if (last - this.#checkedUpTo > CHUNK) {
      this.#readInBackground();
      return null;
    }
    await this.#catchUp(db, last);
    const range: NumRange = {};
    if (until !== undefined) {
      const hit = await db.selectFrom('runs').select('num').where('started_at', '>=', until + this.#skew).orderBy('started_at').orderBy('num').limit(1).executeTakeFirst();
      if (hit) range.below = hit.num;
    }
    if (since !== undefined) {
      const hit = await db.selectFrom('runs').select('num').where('started_at', '<', since - this.#skew).orderBy('started_at', 'desc').orderBy('num', 'desc').limit(1).executeTakeFirst();
      if (hit) range.above = hit.num;
    }
    return range;
  }

  #readInBackground(): void {
    this.#reading ??= (async () => {
      try {
        for (let last = await lastNum(this.#reader); last - this.#checkedUpTo > CHUNK; last = await lastNum(this.#reader)) {
          await this.#catchUp(this.#reader, this.#checkedUpTo + CHUNK);
          await turn();
        }
      } catch {
        // The store closed meanwhile (or a read failed): the next time range starts it again.
      } finally {
        this.#reading = null;
      }
    })();
  }

  /** Extends the skew over the runs after the last read, up to num `upTo`. */
  async #catchUp(db: Kysely<Schema>, upTo: number): Promise<void> {
    const from = this.#checkedUpTo;
    if (upTo <= from) return;
    // Each run against the latest start before it (carried over from the last read). A run read twice
    // (two reads overlapping) only makes the skew larger: still an upper bound.
    const { rows } = await sql<{ latest: number | null; skew: number | null }>`
      SELECT max(started_at) AS latest, max(max(coalesce(${this.#latestStart}, before), coalesce(before, started_at)) - started_at) AS skew
      FROM (SELECT started_at, max(started_at) OVER (ORDER BY num ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before FROM runs WHERE num > ${from} AND num <= ${upTo})`.execute(db);
    const found = rows[0];
    if (found && found.latest !== null) {
      this.#latestStart = Math.max(this.#latestStart ?? -Infinity, Number(found.latest));
      this.#skew = Math.max(this.#skew, Number(found.skew ?? 0));
    }
    this.#checkedUpTo = Math.max(this.#checkedUpTo, upTo);
  }
}

async function lastNum(db: Kysely<Schema>): Promise<number> {
  const row = await db.selectFrom('runs').select((eb) => eb.fn.max('num').as('last')).executeTakeFirst();
  return Number(row?.last ?? 0);
}

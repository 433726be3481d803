/** Presets in SQLite (the `presets` table of the first migration); writes go through the single write queue. */
import type { PresetRecord, PresetStore } from '../tasks/presets.js';
import type { OpenedDatabase } from './open-database.js';

export class SqlitePresetStore implements PresetStore {
  readonly #db: OpenedDatabase;

  constructor(db: OpenedDatabase) {
    this.#db = db;
  }

  async list(): Promise<PresetRecord[]> {
    const rows = await this.#db.reader.selectFrom('presets').selectAll().orderBy('key').execute();
    return rows.map((r) => ({ key: r.key, baseTask: r.base_task, title: r.title, args: JSON.parse(r.args_json) as PresetRecord['args'], createdAt: Number(r.created_at) }));
  }

  async save(preset: PresetRecord): Promise<void> {
    await this.#db.writes.enqueue(async (trx) => {
      await trx
        .insertInto('presets')
        .values({ key: preset.key, base_task: preset.baseTask, title: preset.title, args_json: JSON.stringify(preset.args), created_at: preset.createdAt })
        .execute();
    });
  }

  async delete(key: string): Promise<void> {
    await this.#db.writes.enqueue(async (trx) => void (await trx.deleteFrom('presets').where('key', '=', key).execute()));
  }
}

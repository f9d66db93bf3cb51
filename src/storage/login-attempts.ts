// Login and code attempts per key (user, address, link) in one row per key: a counter and its window.
// reserve() is a single conditional UPDATE: PostgreSQL re-checks the WHERE on the row it waited for, and
// SQLite runs writers one at a time, so concurrent attempts on any number of nodes never pass the limit.
import { sql, type Kysely } from 'kysely';
import type { LoginAttemptStore } from '../core/ports/login-attempts.js';
import type { Database } from './schema.js';

export class KyselyLoginAttemptStore implements LoginAttemptStore {
  constructor(private readonly db: Kysely<Database>) {}

  async reserve(key: string, limit: number, now: number, windowMs: number): Promise<number | null> {
    const cutoff = now - windowMs;
    // Twice at most: prune() may delete an expired row between the insert and the update.
    for (let round = 0; round < 2; round++) {
      await this.db
        .insertInto('login_attempts')
        .values({ key, n: 0, window_start: now, refused: 0 })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
      const expired = sql<boolean>`window_start <= ${cutoff}`;
      const row = await this.db
        .updateTable('login_attempts')
        .set({
          n: sql`case when ${expired} then 1 else n + 1 end`,
          refused: sql`case when ${expired} then 0 else refused end`,
          window_start: sql`case when ${expired} then ${now} else window_start end`,
        })
        .where('key', '=', key)
        .where((eb) => eb.or([eb('n', '<', limit), eb('window_start', '<=', cutoff)]))
        .returning('window_start')
        .executeTakeFirst();
      if (row) return Number(row.window_start);
      const exists = await this.db.selectFrom('login_attempts').select('key').where('key', '=', key).executeTakeFirst();
      if (exists) return null;
    }
    return null;
  }

  async release(key: string, windowStart: number): Promise<void> {
    await this.db
      .updateTable('login_attempts')
      .set({ n: sql`n - 1` })
      .where('key', '=', key)
      .where('window_start', '=', windowStart)
      .where('n', '>', 0)
      .execute();
  }

  async clear(key: string): Promise<void> {
    await this.db.deleteFrom('login_attempts').where('key', '=', key).execute();
  }

  async refused(key: string): Promise<{ windowStart: number; first: boolean } | null> {
    const first = await this.db
      .updateTable('login_attempts')
      .set({ refused: 1 })
      .where('key', '=', key)
      .where('refused', '=', 0)
      .executeTakeFirst();
    const row = await this.db.selectFrom('login_attempts').select('window_start').where('key', '=', key).executeTakeFirst();
    return row ? { windowStart: Number(row.window_start), first: Number(first.numUpdatedRows) === 1 } : null;
  }

  async count(key: string, now: number, windowMs: number): Promise<{ n: number; windowStart: number } | null> {
    const row = await this.db
      .selectFrom('login_attempts')
      .select(['n', 'window_start'])
      .where('key', '=', key)
      .where('window_start', '>', now - windowMs)
      .executeTakeFirst();
    return row ? { n: Number(row.n), windowStart: Number(row.window_start) } : null;
  }

  async prune(before: number): Promise<void> {
    await this.db.deleteFrom('login_attempts').where('window_start', '<', before).execute();
  }
}

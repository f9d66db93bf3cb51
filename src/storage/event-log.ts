// The events table: every state change appends one row in its own transaction; each node's bus polls it.
import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { GatehouseEvent } from '../core/types.js';
import type { Database } from './schema.js';

export async function appendEvent(db: Kysely<Database>, type: string, payload: Record<string, unknown>, at: number): Promise<void> {
  await db
    .insertInto('events')
    .values({ at, type, payload: JSON.stringify(payload) })
    .execute();
  // On PostgreSQL, wake every listening node when this transaction commits (no-op text on SQLite).
  if (isPostgres(db)) await sql`select pg_notify('gatehouse_events', '')`.execute(db);
}

function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** Reads and prunes the events table (the bus polls it). */
export class KyselyEventLog {
  constructor(private readonly db: Kysely<Database>) {}

  async eventsSince(afterId: number, sinceAt: number, limit: number): Promise<GatehouseEvent[]> {
    const rows = await this.db
      .selectFrom('events')
      .selectAll()
      .where((eb) => eb.or([eb('id', '>', afterId), eb('at', '>=', sinceAt)]))
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: r.id, at: r.at, type: r.type, payload: JSON.parse(r.payload) }));
  }

  async eventsAfter(afterId: number, alsoIds: readonly number[], limit: number): Promise<GatehouseEvent[]> {
    const rows = await this.db
      .selectFrom('events')
      .selectAll()
      .where((eb) => (alsoIds.length ? eb.or([eb('id', '>', afterId), eb('id', 'in', [...alsoIds])]) : eb('id', '>', afterId)))
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: r.id, at: r.at, type: r.type, payload: JSON.parse(r.payload) }));
  }

  async maxEventId(): Promise<number> {
    const r = await this.db
      .selectFrom('events')
      .select((eb) => eb.fn.max('id').as('m'))
      .executeTakeFirst();
    return Number(r?.m ?? 0);
  }

  async pruneEvents(before: number): Promise<number> {
    const r = await this.db.deleteFrom('events').where('at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

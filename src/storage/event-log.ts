// The events table: every state change appends one row in its own transaction; each node's bus polls it.
import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

export async function appendEvent(db: Kysely<Database>, type: string, payload: Record<string, unknown>, at: number): Promise<void> {
  await db.insertInto('events').values({ at, type, payload: JSON.stringify(payload) }).execute();
  // On PostgreSQL, wake every listening node when this transaction commits (no-op text on SQLite).
  if (isPostgres(db)) await sql`select pg_notify('gatehouse_events', '')`.execute(db);
}

function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

import type { Kysely } from 'kysely';

// HTTP proxy: one-time login tokens (the console hands one to the device's host, which swaps it for a
// cookie; only a hash is stored, consuming is one conditional update) and per-session request figures
// (the sessions table counts bytes; HTTP also counts requests and their first and last time).
export function migration007(dialect: 'sqlite' | 'postgres') {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('http_login_tokens')
        .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('token_hash', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('user_id', 'integer', (c) => c.notNull())
        .addColumn('host', 'varchar(255)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema.createIndex('http_login_tokens_expires').on('http_login_tokens').column('expires_at').execute();
      await db.schema
        .createTable('http_session_stats')
        .addColumn('session_id', 'integer', (c) => c.primaryKey())
        .addColumn('requests', 'bigint', (c) => c.notNull())
        .addColumn('first_request_at', 'bigint', (c) => c.notNull())
        .addColumn('last_request_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('http_session_stats').ifExists().execute();
      await db.schema.dropTable('http_login_tokens').ifExists().execute();
    },
  };
}

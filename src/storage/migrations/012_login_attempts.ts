import type { Kysely } from 'kysely';

// One limiter for every password and code check: a counter per key (user, address, link) and its
// window, reserved with one conditional update. It replaces the per-failure rows of login_failures.
export function migration012(dialect: 'sqlite' | 'postgres') {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('login_attempts')
        .addColumn('key', 'varchar(200)', (c) => c.primaryKey())
        .addColumn('n', 'integer', (c) => c.notNull())
        .addColumn('window_start', 'bigint', (c) => c.notNull())
        .addColumn('refused', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('login_attempts_window').on('login_attempts').column('window_start').execute();
      await db.schema.dropTable('login_failures').ifExists().execute();
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('login_attempts').ifExists().execute();
      await db.schema
        .createTable('login_failures')
        .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('key', 'varchar(200)', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('login_failures_key_at').on('login_failures').columns(['key', 'at']).execute();
    },
  };
}

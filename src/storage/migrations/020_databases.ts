import type { ColumnDefinitionBuilder, Kysely } from 'kysely';

// Database sessions (PostgreSQL, MySQL): one row per statement the gateway saw, written in batches.
// Names are copied, not joined: the record stays readable after a user or device is removed.
// Types live in src/storage/schema.ts.
export function migration020(dialect: 'sqlite' | 'postgres') {
  const id = (c: ColumnDefinitionBuilder) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());
  const idType = dialect === 'postgres' ? 'bigserial' : 'integer';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('db_statements')
        .addColumn('id', idType, id)
        .addColumn('session_id', 'integer', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('username', 'varchar(64)', (c) => c.notNull())
        .addColumn('device', 'varchar(64)', (c) => c.notNull())
        .addColumn('account', 'varchar(64)', (c) => c.notNull())
        .addColumn('protocol', 'varchar(16)', (c) => c.notNull())
        .addColumn('kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('statement', 'text', (c) => c.notNull())
        .addColumn('parameters', 'text')
        .addColumn('row_count', 'bigint')
        .addColumn('error', 'varchar(400)')
        .execute();
      await db.schema.createIndex('db_statements_session').on('db_statements').columns(['session_id', 'id']).execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('db_statements').execute();
    },
  };
}

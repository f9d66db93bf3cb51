import type { ColumnDefinitionBuilder, Kysely } from 'kysely';

// Webhooks: the endpoints (secret sealed by the vault) and the delivery outbox, one row per webhook ×
// event, claimed with a conditional update and a lease. The builder's cursor over the audit log is a
// `meta` row. Types live in src/storage/schema.ts.
export function migration018(dialect: 'sqlite' | 'postgres') {
  const id = (c: ColumnDefinitionBuilder) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());
  const idType = dialect === 'postgres' ? 'serial' : 'integer';
  const big = 'bigint';
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('webhooks')
        .addColumn('id', idType, id)
        .addColumn('name', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('url', 'varchar(2048)', (c) => c.notNull())
        .addColumn('events', 'varchar(1000)', (c) => c.notNull())
        .addColumn('secret_enc', 'text', (c) => c.notNull())
        .addColumn('allow_http', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', big, (c) => c.notNull())
        .addColumn('created_by', 'varchar(200)', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', idType, id)
        .addColumn('delivery_id', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('webhook_id', 'integer', (c) => c.notNull())
        .addColumn('webhook_name', 'varchar(64)', (c) => c.notNull())
        .addColumn('event_key', 'varchar(100)', (c) => c.notNull())
        .addColumn('event_type', 'varchar(64)', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', big)
        .addColumn('lease_until', big)
        .addColumn('claimed_by', 'varchar(80)')
        .addColumn('response_code', 'integer')
        .addColumn('last_error', 'varchar(400)')
        .addColumn('created_at', big, (c) => c.notNull())
        .addColumn('delivered_at', big)
        .execute();
      // One delivery per webhook × event, whichever builder or node queues it.
      await db.schema
        .createIndex('webhook_deliveries_once')
        .on('webhook_deliveries')
        .columns(['webhook_id', 'event_key'])
        .unique()
        .execute();
      await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('webhook_deliveries').ifExists().execute();
      await db.schema.dropTable('webhooks').ifExists().execute();
      await db.deleteFrom('meta').where('key', '=', 'webhooks.cursor').execute();
    },
  };
}

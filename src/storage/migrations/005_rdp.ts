import type { Kysely } from 'kysely';

// RDP gateway: one-time tickets carried in the .rdp file's loadbalanceinfo. Only a hash of the ticket is
// stored; consuming one is a single conditional update (used_at IS NULL AND expires_at > now).
export function migration005(dialect: 'sqlite' | 'postgres') {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('rdp_tickets')
        .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('token_hash', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('user_id', 'integer', (c) => c.notNull())
        .addColumn('device_id', 'integer', (c) => c.notNull())
        .addColumn('account_id', 'integer', (c) => c.notNull())
        .addColumn('approval_id', 'integer')
        .addColumn('channel', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .addColumn('used_by', 'varchar(64)')
        .execute();
      await db.schema.createIndex('rdp_tickets_expires').on('rdp_tickets').column('expires_at').execute();
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('rdp_tickets').ifExists().execute();
    },
  };
}

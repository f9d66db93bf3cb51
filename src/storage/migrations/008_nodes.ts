import type { Kysely } from 'kysely';

// Gateway nodes: each writes a heartbeat; a node silent for 30 s is down and its sessions are marked lost.
export function migration008(_dialect: 'sqlite' | 'postgres') {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('nodes')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('host', 'varchar(255)', (c) => c.notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('version', 'varchar(32)', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen', 'bigint', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull().defaultTo('up'))
        .execute();
      await db.schema.createIndex('sessions_node_live').on('sessions').columns(['node_id', 'ended_at']).execute();
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('sessions_node_live').execute();
      await db.schema.dropTable('nodes').execute();
    },
  };
}

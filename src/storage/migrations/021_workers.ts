import type { Kysely } from 'kysely';

// Several worker processes on one node (GATEHOUSE_WORKERS). The login's second-factor tickets move from a
// process's memory to a table, so the code step may land on any worker (or node). Each session row names
// the worker process that holds it, so the primary can end the sessions of a worker that died.
export function migration021(_dialect: 'sqlite' | 'postgres') {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('login_tickets')
        .addColumn('ticket_hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull())
        .addColumn('client_addr', 'varchar(64)', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('tries', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('login_tickets_expires').on('login_tickets').column('expires_at').execute();
      await db.schema.alterTable('sessions').addColumn('worker_pid', 'integer').execute();
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('sessions').dropColumn('worker_pid').execute();
      await db.schema.dropTable('login_tickets').ifExists().execute();
    },
  };
}

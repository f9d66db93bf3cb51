import { sql, type Kysely } from 'kysely';

// One mail per request × recipient × kind × occurrence, enforced by the database: the outbox builder
// inserts with ON CONFLICT DO NOTHING, so a second insert of the same mail is a no-op whoever makes it.
// `occurrence` tells legitimate repeats of a kind apart: the level for next-level and escalated mail,
// the reminder's time for reminders, '' for kinds that happen once per request.
export function migration014(_dialect: 'sqlite' | 'postgres') {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .alterTable('mail_outbox')
        .addColumn('occurrence', 'varchar(200)', (c) => c.notNull().defaultTo(''))
        .execute();
      // Rows queued before the index keep their own (unique) key as occurrence, so none collide.
      await db
        .updateTable('mail_outbox')
        .set({ occurrence: sql`mail_key` })
        .execute();
      await db.schema
        .createIndex('mail_outbox_once')
        .on('mail_outbox')
        .columns(['request_id', 'to_addr', 'kind', 'occurrence'])
        .unique()
        .execute();
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('mail_outbox_once').execute();
      await db.schema.alterTable('mail_outbox').dropColumn('occurrence').execute();
    },
  };
}

import type { ColumnDefinitionBuilder, Kysely } from 'kysely';

// Mail: the durable outbox, the event cursor that feeds it, link tokens, reply secrets, inbound
// Message-IDs already processed, and the console's mail settings. Types live in src/storage/schema.ts.
export function migration003(dialect: 'sqlite' | 'postgres') {
  const id = (c: ColumnDefinitionBuilder) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());
  const idType = dialect === 'postgres' ? 'serial' : 'integer';
  const big = 'bigint';
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('mail_outbox')
        .addColumn('id', idType, id)
        // Idempotency: one mail per (event, recipient, kind); a second builder's insert is a no-op.
        .addColumn('mail_key', 'varchar(200)', (c) => c.notNull().unique())
        .addColumn('request_id', 'integer')
        .addColumn('kind', 'varchar(32)', (c) => c.notNull())
        .addColumn('to_addr', 'varchar(320)', (c) => c.notNull())
        .addColumn('subject', 'varchar(400)', (c) => c.notNull())
        // Cleared once sent: bodies carry single-use link tokens.
        .addColumn('text_body', 'text')
        .addColumn('html_body', 'text')
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('message_id', 'varchar(300)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', big, (c) => c.notNull())
        .addColumn('lease_until', big)
        .addColumn('claimed_by', 'varchar(64)')
        .addColumn('last_error', 'text')
        .addColumn('created_at', big, (c) => c.notNull())
        .addColumn('sent_at', big)
        .execute();
      await db.schema.createIndex('mail_outbox_due').on('mail_outbox').columns(['status', 'next_attempt_at']).execute();
      await db.schema.createIndex('mail_outbox_request').on('mail_outbox').columns(['request_id']).execute();
      // Events already turned into outbox rows (inserted in the same transaction as those rows).
      await db.schema
        .createTable('mail_event_done')
        .addColumn('event_id', 'integer', (c) => c.primaryKey())
        .addColumn('at', big, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('mail_state')
        .addColumn('key', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('mail_link_tokens')
        .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('request_id', 'integer', (c) => c.notNull())
        .addColumn('approver_id', 'integer', (c) => c.notNull())
        .addColumn('action', 'varchar(8)', (c) => c.notNull())
        .addColumn('level', 'integer', (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull())
        .addColumn('used_at', big)
        .addColumn('dead_at', big)
        .execute();
      await db.schema.createIndex('mail_link_tokens_request').on('mail_link_tokens').column('request_id').execute();
      await db.schema
        .createTable('mail_reply_secrets')
        .addColumn('request_id', 'integer', (c) => c.primaryKey())
        .addColumn('secret', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('created_at', big, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('mail_inbound_seen')
        .addColumn('message_id', 'varchar(400)', (c) => c.primaryKey())
        .addColumn('at', big, (c) => c.notNull())
        .addColumn('outcome', 'varchar(200)', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('mail_settings')
        .addColumn('key', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('updated_at', big, (c) => c.notNull())
        .execute();
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async down(db: Kysely<any>): Promise<void> {
      for (const t of [
        'mail_settings',
        'mail_inbound_seen',
        'mail_reply_secrets',
        'mail_link_tokens',
        'mail_state',
        'mail_event_done',
        'mail_outbox',
      ])
        await db.schema.dropTable(t).ifExists().execute();
    },
  };
}

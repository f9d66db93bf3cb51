import type { ColumnDefinitionBuilder, Kysely } from 'kysely';

// Chat approvals (Slack, Mattermost): settings per provider (secrets sealed by the vault), one outbox row
// per provider × request (re-queued by each event about it, claimed with a conditional update and a
// lease), and every message posted about a request, so it can be updated. The builder's cursor over the
// audit log is a `meta` row. Types live in src/storage/schema.ts.
export function migration019(dialect: 'sqlite' | 'postgres') {
  const id = (c: ColumnDefinitionBuilder) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());
  const idType = dialect === 'postgres' ? 'serial' : 'integer';
  const big = 'bigint';
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('chat_settings')
        .addColumn('provider', 'varchar(16)', (c) => c.primaryKey())
        .addColumn('api_url', 'varchar(2048)')
        .addColumn('channel', 'varchar(200)')
        .addColumn('bot_token_enc', 'text', (c) => c.notNull())
        .addColumn('secret_enc', 'text', (c) => c.notNull())
        .addColumn('updated_at', big, (c) => c.notNull())
        .addColumn('updated_by', 'varchar(200)', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('chat_jobs')
        .addColumn('id', idType, id)
        .addColumn('provider', 'varchar(16)', (c) => c.notNull())
        .addColumn('request_id', 'integer', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', big)
        .addColumn('lease_until', big)
        .addColumn('claimed_by', 'varchar(80)')
        .addColumn('last_error', 'varchar(400)')
        .addColumn('created_at', big, (c) => c.notNull())
        .addColumn('done_at', big)
        .execute();
      // One job per provider × request, whichever node queues it.
      await db.schema.createIndex('chat_jobs_once').on('chat_jobs').columns(['provider', 'request_id']).unique().execute();
      await db.schema.createIndex('chat_jobs_due').on('chat_jobs').columns(['status', 'next_attempt_at']).execute();
      await db.schema
        .createTable('chat_messages')
        .addColumn('id', idType, id)
        .addColumn('provider', 'varchar(16)', (c) => c.notNull())
        .addColumn('request_id', 'integer', (c) => c.notNull())
        .addColumn('target', 'varchar(64)', (c) => c.notNull())
        .addColumn('channel_id', 'varchar(200)', (c) => c.notNull())
        .addColumn('message_id', 'varchar(200)', (c) => c.notNull())
        .addColumn('msg_key', 'varchar(64)', (c) => c.notNull())
        .addColumn('rendered', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull())
        .addColumn('updated_at', big, (c) => c.notNull())
        .execute();
      // One message per provider × request × recipient (an approver, the channel, the requester).
      await db.schema
        .createIndex('chat_messages_once')
        .on('chat_messages')
        .columns(['provider', 'request_id', 'target'])
        .unique()
        .execute();
      await db.schema.createIndex('chat_messages_key').on('chat_messages').columns(['msg_key']).unique().execute();
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('chat_messages').ifExists().execute();
      await db.schema.dropTable('chat_jobs').ifExists().execute();
      await db.schema.dropTable('chat_settings').ifExists().execute();
      await db.deleteFrom('meta').where('key', '=', 'chat.cursor').execute();
    },
  };
}

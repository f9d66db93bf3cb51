import type { ColumnDefinitionBuilder, Kysely } from 'kysely';

// The API's tables: console sessions, API tokens, and the index that lets an approver's list be a
// range scan; plus indexes that keep the approvals and audit lists fast at 100k+ rows.
export function migration004(dialect: 'sqlite' | 'postgres') {
  const id = (c: ColumnDefinitionBuilder) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());
  const idType = dialect === 'postgres' ? 'serial' : 'integer';
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      // A console login. `id` is the SHA-256 of the cookie's value: a database leak gives no session.
      await db.schema
        .createTable('web_sessions')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('csrf_token', 'varchar(64)', (c) => c.notNull())
        .addColumn('client_addr', 'varchar(64)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('web_sessions_user').on('web_sessions').column('user_id').execute();
      // Bearer tokens for scripts; only the SHA-256 of the token is stored.
      await db.schema
        .createTable('api_tokens')
        .addColumn('id', idType, id)
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('name', 'varchar(64)', (c) => c.notNull())
        .addColumn('token_hash', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('prefix', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('last_used_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema.createIndex('api_tokens_user').on('api_tokens').column('user_id').execute();
      // Who is named as an approver (at any level) of which request: filled from the requests' routes.
      await db.schema
        .createTable('approval_approvers')
        .addColumn('request_id', 'integer', (c) => c.notNull().references('approval_requests.id').onDelete('cascade'))
        .addColumn('user_id', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('approval_approvers_pk', ['request_id', 'user_id'])
        .execute();
      await db.schema.createIndex('approval_approvers_user').on('approval_approvers').columns(['user_id', 'request_id']).execute();
      await db.schema.createIndex('approval_requests_requester_id').on('approval_requests').columns(['requester_id', 'id']).execute();
      await db.schema.createIndex('approval_requests_status_id').on('approval_requests').columns(['status', 'id']).execute();
      await db.schema.createIndex('approval_requests_created').on('approval_requests').column('created_at').execute();
      await db.schema.createIndex('approval_decisions_approver').on('approval_decisions').columns(['approver_id', 'request_id']).execute();
      await db.schema.createIndex('audit_log_actor').on('audit_log').columns(['actor', 'id']).execute();
      await db.schema.createIndex('sessions_started').on('sessions').columns(['user_id', 'id']).execute();
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async down(db: Kysely<any>): Promise<void> {
      for (const i of [
        'approval_requests_requester_id',
        'approval_requests_status_id',
        'approval_requests_created',
        'approval_decisions_approver',
        'audit_log_actor',
        'sessions_started',
      ])
        await db.schema.dropIndex(i).ifExists().execute();
      for (const t of ['approval_approvers', 'api_tokens', 'web_sessions']) await db.schema.dropTable(t).ifExists().execute();
    },
  };
}

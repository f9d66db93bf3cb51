import { sql, type Kysely, type ColumnDefinitionBuilder } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export function migration001(dialect: Dialect) {
  // One id column shape for both databases: SQLite's rowid alias, PostgreSQL's serial.
  const id = (c: ColumnDefinitionBuilder) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());
  const idType = dialect === 'postgres' ? 'serial' : 'integer';
  const big = 'bigint';
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('users')
        .addColumn('id', idType, id)
        .addColumn('username', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('display_name', 'varchar(200)', (c) => c.notNull())
        .addColumn('email', 'varchar(320)')
        .addColumn('password_hash', 'text')
        .addColumn('manager_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('source', 'varchar(32)', (c) => c.notNull().defaultTo('local'))
        .addColumn('created_at', big, (c) => c.notNull())
        .addColumn('updated_at', big, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('user_keys')
        .addColumn('id', idType, id)
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'varchar(128)', (c) => c.notNull())
        .addColumn('comment', 'varchar(200)')
        .addColumn('created_at', big, (c) => c.notNull())
        .addUniqueConstraint('user_keys_fp', ['fingerprint'])
        .execute();
      for (const t of ['user_groups', 'device_groups']) {
        await db.schema
          .createTable(t)
          .addColumn('id', idType, id)
          .addColumn('name', 'varchar(64)', (c) => c.notNull().unique())
          .addColumn('description', 'text')
          .addColumn('require_approval', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('require_reason', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', big, (c) => c.notNull())
          .execute();
      }
      for (const [t, g] of [
        ['user_group_members', 'user_groups'],
        ['user_group_managers', 'user_groups'],
        ['device_group_managers', 'device_groups'],
      ]) {
        await db.schema
          .createTable(t)
          .addColumn('group_id', 'integer', (c) => c.notNull().references(`${g}.id`).onDelete('cascade'))
          .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addPrimaryKeyConstraint(`${t}_pk`, ['group_id', 'user_id'])
          .execute();
      }
      await db.schema.createIndex('user_group_members_user').on('user_group_members').column('user_id').execute();
      await db.schema
        .createTable('devices')
        .addColumn('id', idType, id)
        .addColumn('name', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('host', 'varchar(255)', (c) => c.notNull())
        .addColumn('ports', 'text', (c) => c.notNull())
        .addColumn('protocols', 'varchar(64)', (c) => c.notNull())
        .addColumn('group_id', 'integer', (c) => c.references('device_groups.id').onDelete('set null'))
        .addColumn('host_key', 'text')
        .addColumn('host_key_pinned_at', big)
        .addColumn('options', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', big, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('accounts')
        .addColumn('id', idType, id)
        .addColumn('device_id', 'integer', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('name', 'varchar(64)', (c) => c.notNull())
        .addColumn('secret_kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('secret_enc', 'text', (c) => c.notNull())
        .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', big, (c) => c.notNull())
        .addUniqueConstraint('accounts_device_name', ['device_id', 'name'])
        .execute();
      await db.schema
        .createTable('access_rules')
        .addColumn('id', idType, id)
        .addColumn('user_group_id', 'integer', (c) => c.notNull().references('user_groups.id').onDelete('cascade'))
        .addColumn('device_group_id', 'integer', (c) => c.notNull().references('device_groups.id').onDelete('cascade'))
        .addColumn('protocols', 'varchar(64)', (c) => c.notNull())
        .addColumn('allow_port_forwarding', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', big, (c) => c.notNull())
        .addUniqueConstraint('access_rules_pair', ['user_group_id', 'device_group_id'])
        .execute();
      await db.schema
        .createTable('workflows')
        .addColumn('id', idType, id)
        .addColumn('name', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('user_group_id', 'integer', (c) => c.notNull().references('user_groups.id').onDelete('cascade'))
        .addColumn('device_group_id', 'integer', (c) => c.notNull().references('device_groups.id').onDelete('cascade'))
        .addColumn('levels', 'text', (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull())
        .addUniqueConstraint('workflows_pair', ['user_group_id', 'device_group_id'])
        .execute();
      await db.schema
        .createTable('params')
        .addColumn('name', 'varchar(128)', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('updated_at', big, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('approval_requests')
        .addColumn('id', idType, id)
        .addColumn('requester_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('device_id', 'integer', (c) => c.notNull().references('devices.id'))
        .addColumn('account_id', 'integer', (c) => c.notNull().references('accounts.id'))
        .addColumn('protocol', 'varchar(8)', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull())
        .addColumn('expires_at', big)
        .addColumn('decided_at', big)
        .addColumn('current_level', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('level_started_at', big, (c) => c.notNull())
        .addColumn('route', 'text', (c) => c.notNull())
        .addColumn('auto_approved', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('grant_start', big)
        .addColumn('grant_end', big)
        .addColumn('client_addr', 'varchar(64)')
        .addColumn('last_notified_at', big)
        .addColumn('decided_by', 'integer')
        .addColumn('decision_comment', 'text')
        .execute();
      await db.schema.createIndex('approval_requests_status_exp').on('approval_requests').columns(['status', 'expires_at']).execute();
      await db.schema
        .createIndex('approval_requests_lookup')
        .on('approval_requests')
        .columns(['requester_id', 'device_id', 'account_id', 'protocol', 'status'])
        .execute();
      await db.schema.createIndex('approval_requests_grant').on('approval_requests').columns(['status', 'grant_end']).execute();
      await db.schema
        .createTable('approval_decisions')
        .addColumn('id', idType, id)
        .addColumn('request_id', 'integer', (c) => c.notNull().references('approval_requests.id').onDelete('cascade'))
        .addColumn('level', 'integer', (c) => c.notNull())
        .addColumn('approver_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('on_behalf_of', 'integer')
        .addColumn('decision', 'varchar(8)', (c) => c.notNull())
        .addColumn('channel', 'varchar(16)', (c) => c.notNull())
        .addColumn('comment', 'text')
        .addColumn('created_at', big, (c) => c.notNull())
        .addUniqueConstraint('approval_decisions_once', ['request_id', 'level', 'approver_id'])
        .execute();
      await db.schema
        .createTable('delegations')
        .addColumn('id', idType, id)
        .addColumn('from_user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('to_user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('starts_at', big, (c) => c.notNull())
        .addColumn('ends_at', big, (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('created_at', big, (c) => c.notNull())
        .addColumn('revoked_at', big)
        .execute();
      await db.schema.createIndex('delegations_to').on('delegations').columns(['to_user_id', 'ends_at']).execute();
      await db.schema
        .createTable('audit_log')
        .addColumn('id', idType, id)
        .addColumn('at', big, (c) => c.notNull())
        .addColumn('actor', 'varchar(64)', (c) => c.notNull())
        .addColumn('actor_id', 'integer')
        .addColumn('channel', 'varchar(16)', (c) => c.notNull())
        .addColumn('action', 'varchar(64)', (c) => c.notNull())
        .addColumn('target_type', 'varchar(32)')
        .addColumn('target_id', 'varchar(64)')
        .addColumn('details', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_log_target').on('audit_log').columns(['target_type', 'target_id']).execute();
      await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
      await db.schema
        .createTable('events')
        .addColumn('id', idType, id)
        .addColumn('at', big, (c) => c.notNull())
        .addColumn('type', 'varchar(64)', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('events_at').on('events').column('at').execute();
      await db.schema
        .createTable('sessions')
        .addColumn('id', idType, id)
        .addColumn('user_id', 'integer', (c) => c.notNull())
        .addColumn('device_id', 'integer', (c) => c.notNull())
        .addColumn('account_id', 'integer', (c) => c.notNull())
        .addColumn('protocol', 'varchar(8)', (c) => c.notNull())
        .addColumn('approval_id', 'integer')
        .addColumn('client_addr', 'varchar(64)')
        .addColumn('node_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('started_at', big, (c) => c.notNull())
        .addColumn('ended_at', big)
        .addColumn('end_reason', 'varchar(200)')
        .addColumn('bytes_in', big, (c) => c.notNull().defaultTo(0))
        .addColumn('bytes_out', big, (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('sessions_live').on('sessions').columns(['ended_at', 'approval_id']).execute();
      await db.schema
        .createTable('meta')
        .addColumn('key', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await db.insertInto('meta').values({ key: 'policy_version', value: '1' }).execute();
      void sql;
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async down(db: Kysely<any>): Promise<void> {
      for (const t of [
        'meta',
        'sessions',
        'events',
        'audit_log',
        'delegations',
        'approval_decisions',
        'approval_requests',
        'params',
        'workflows',
        'access_rules',
        'accounts',
        'devices',
        'device_group_managers',
        'user_group_managers',
        'user_group_members',
        'device_groups',
        'user_groups',
        'user_keys',
        'users',
      ])
        await db.schema.dropTable(t).ifExists().execute();
    },
  };
}

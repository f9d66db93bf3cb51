import type { Kysely } from 'kysely';

// Directory identity (LDAP / Active Directory) and the TOTP second factor.
// - directory_config: one row (id 1): the settings as JSON, the bind password sealed in the vault, the
//   last sync's summary, and a lease so only one node syncs at a time.
// - directory_links: which local user/group comes from the directory, by its DN. Keyed by local name
//   (names of synced objects cannot change locally), so a link can be written before the policy write.
// - totp_secrets: one per user, the secret sealed in the vault; last_step is the replay guard (a code is
//   accepted only for a time step later than the last one used).
// - totp_recovery_codes: SHA-256 of each single-use recovery code.
// - user_group_second_factor: groups whose members must pass the second factor.
export function migration009(dialect: 'sqlite' | 'postgres') {
  const idType = dialect === 'postgres' ? 'serial' : 'integer';
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('directory_config')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('bind_password_enc', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('last_sync_at', 'bigint')
        .addColumn('last_summary', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('lease_owner', 'varchar(64)')
        .execute();
      await db.schema
        .createTable('directory_links')
        .addColumn('kind', 'varchar(8)', (c) => c.notNull())
        .addColumn('name', 'varchar(64)', (c) => c.notNull())
        .addColumn('dn', 'varchar(1024)', (c) => c.notNull())
        .addColumn('source', 'varchar(32)', (c) => c.notNull())
        .addColumn('disabled_by_sync', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('synced_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('directory_links_pk', ['kind', 'name'])
        .execute();
      await db.schema
        .createTable('totp_secrets')
        .addColumn('user_id', 'integer', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('secret_enc', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_step', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('enabled_at', 'bigint')
        .execute();
      await db.schema
        .createTable('totp_recovery_codes')
        .addColumn('id', idType, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('code_hash', 'varchar(64)', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema.createIndex('totp_recovery_codes_user').on('totp_recovery_codes').column('user_id').execute();
      await db.schema
        .createTable('user_group_second_factor')
        .addColumn('group_id', 'integer', (c) => c.primaryKey().references('user_groups.id').onDelete('cascade'))
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async down(db: Kysely<any>): Promise<void> {
      for (const t of ['user_group_second_factor', 'totp_recovery_codes', 'totp_secrets', 'directory_links', 'directory_config'])
        await db.schema.dropTable(t).ifExists().execute();
    },
  };
}

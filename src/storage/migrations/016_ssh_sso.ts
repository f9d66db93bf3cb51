import type { Kysely } from 'kysely';

// SSH login through a link: one row per code printed at the keyboard-interactive prompt (only its hash),
// confirmed in the console and then used by the SSH connection, each with one conditional update, so
// two nodes share them. And the per-group choice of the SSH login method (ssh.login.method).
export function migration016(dialect: 'sqlite' | 'postgres') {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('ssh_sso_codes')
        .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('code_hash', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('username', 'varchar(200)', (c) => c.notNull())
        .addColumn('client_addr', 'varchar(100)', (c) => c.notNull())
        .addColumn('node_id', 'varchar(100)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('confirmed_at', 'bigint')
        .addColumn('confirmed_user_id', 'integer')
        .addColumn('confirmed_from', 'varchar(100)')
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema.createIndex('ssh_sso_codes_expires').on('ssh_sso_codes').column('expires_at').execute();
      await db.schema
        .createTable('ssh_sso_group_methods')
        .addColumn('group_id', 'integer', (c) => c.primaryKey().references('user_groups.id').onDelete('cascade'))
        .addColumn('method', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('ssh_sso_group_methods').ifExists().execute();
      await db.schema.dropTable('ssh_sso_codes').ifExists().execute();
    },
  };
}

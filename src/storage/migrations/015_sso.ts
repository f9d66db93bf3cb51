import type { Kysely } from 'kysely';

// OpenID Connect login.
// - sso_config: one row (id 1): the settings as JSON, the client secret sealed in the vault, on/off.
// - sso_logins: login transactions (state, nonce, PKCE verifier, return target, and a hash of the cookie
//   that binds them to the browser that started them), single use, short-lived; in the database so the
//   callback may land on any node.
// - sso_links: which provider subject (iss + sub) a local user was first seen with, and the groups the
//   groups claim put them in (only those are removed when the claim drops them).
export function migration015(_dialect: 'sqlite' | 'postgres') {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('sso_config')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('client_secret_enc', 'text')
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('sso_logins')
        .addColumn('state', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('nonce', 'varchar(64)', (c) => c.notNull())
        .addColumn('verifier', 'varchar(128)', (c) => c.notNull())
        .addColumn('return_to', 'varchar(2000)', (c) => c.notNull())
        .addColumn('browser_hash', 'varchar(64)', (c) => c.notNull())
        .addColumn('client_addr', 'varchar(64)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sso_logins_expiry').on('sso_logins').column('expires_at').execute();
      await db.schema.createIndex('sso_logins_addr').on('sso_logins').column('client_addr').execute();
      await db.schema
        .createTable('sso_links')
        .addColumn('user_id', 'integer', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('subject', 'varchar(512)', (c) => c.notNull().unique())
        .addColumn('groups', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('last_login_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('sso_links').execute();
      await db.schema.dropTable('sso_logins').execute();
      await db.schema.dropTable('sso_config').execute();
    },
  };
}

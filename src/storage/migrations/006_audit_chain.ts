import { sql, type Kysely } from 'kysely';

// The tamper-evident audit log: each record carries its sequence number, the previous record's hash,
// its own hash and an HMAC signature under a key derived from the vault key.
export function migration006(_dialect: 'sqlite' | 'postgres') {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('audit_log').addColumn('seq', 'integer').execute();
      await db.schema.alterTable('audit_log').addColumn('prev_hash', 'varchar(64)').execute();
      await db.schema.alterTable('audit_log').addColumn('hash', 'varchar(64)').execute();
      await db.schema.alterTable('audit_log').addColumn('sig', 'varchar(64)').execute();
      // Records written before the chain existed keep their order; `gatehouse audit verify` reports them as unsigned.
      await sql`update audit_log set seq = id`.execute(db);
      await db.schema.createIndex('audit_log_seq').on('audit_log').column('seq').unique().execute();
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('audit_log_seq').execute();
      for (const c of ['sig', 'hash', 'prev_hash', 'seq']) await db.schema.alterTable('audit_log').dropColumn(c).execute();
    },
  };
}

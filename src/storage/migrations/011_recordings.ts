import type { Kysely } from 'kysely';

// Where a session's recording is (a path under the recordings directory), and when retention removed it.
export function migration011(_dialect: 'sqlite' | 'postgres') {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('sessions').addColumn('recording', 'varchar(255)').execute();
      await db.schema.alterTable('sessions').addColumn('recording_deleted_at', 'bigint').execute();
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('sessions').dropColumn('recording_deleted_at').execute();
      await db.schema.alterTable('sessions').dropColumn('recording').execute();
    },
  };
}

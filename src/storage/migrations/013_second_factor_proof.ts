import type { Kysely } from 'kysely';

// Whether a console session was started with the second factor, and whether an API token was made from
// such a session: deciding needs that proof while the decider's second factor is required. Rows from
// before this migration carry no proof (0), so they fail closed.
export function migration013(_dialect: 'sqlite' | 'postgres') {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .alterTable('web_sessions')
        .addColumn('second_factor', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('api_tokens')
        .addColumn('second_factor', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('api_tokens').dropColumn('second_factor').execute();
      await db.schema.alterTable('web_sessions').dropColumn('second_factor').execute();
    },
  };
}

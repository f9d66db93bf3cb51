import type { Kysely } from 'kysely';

// Reserved for the mail work; empty until it needs tables.
export function migration003(_dialect: 'sqlite' | 'postgres') {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(_db: Kysely<any>): Promise<void> {},
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async down(_db: Kysely<any>): Promise<void> {},
  };
}

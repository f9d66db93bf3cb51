// Test databases: SQLite always; PostgreSQL when scripts/test.mjs (or CI) provides a server.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { missing } from './peers.js';

export const PG_URL = process.env.GATEHOUSE_TEST_PG_URL;
export const PG_SKIP = missing('PostgreSQL', !!PG_URL, process.env.GATEHOUSE_TEST_PG_SKIP_REASON ?? 'set GATEHOUSE_TEST_PG_URL');

export interface DbTarget {
  name: 'sqlite' | 'postgres';
  skip: string | false;
}
export const DB_TARGETS: DbTarget[] = [
  { name: 'sqlite', skip: false },
  { name: 'postgres', skip: PG_SKIP },
];

/** A fresh, empty PostgreSQL database; returns its URL and a drop function. */
export async function freshPgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!PG_URL) throw new Error('no PostgreSQL');
  const name = `gh_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

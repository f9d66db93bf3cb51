// Opens the database: embedded SQLite (better-sqlite3) by default, PostgreSQL when a URL is given.
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, sql, PostgresDialect, type Migration, type MigrationProvider } from 'kysely';
import type { Database } from './schema.js';
import { allMigrations } from './migrations/index.js';
import { ensurePrivateDir, ensurePrivateFile } from './private-files.js';
import { BusyRetrySqliteDialect, type SqliteBusyOptions } from './sqlite-driver.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  /** Where the data lives, for messages: a file path or a URL with the password masked. */
  where: string;
}

// PostgreSQL returns bigint (int8) as strings; our bigints are millisecond times that fit in a double.
pg.types.setTypeParser(20, (v) => Number(v));

export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

export function openDb(opts: {
  databaseUrl?: string;
  sqlitePath: string;
  poolSize?: number;
  onQuery?: (sql: string) => void;
  sqliteBusy?: SqliteBusyOptions;
}): Db {
  const log = opts.onQuery ? (e: { query: { sql: string } }) => opts.onQuery!(e.query.sql) : undefined;
  if (opts.databaseUrl) {
    // Under load a request waits its turn for a connection rather than failing; past 30 s it is a 503
    // (storage/retry.ts), not a 500.
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolSize ?? 10, connectionTimeoutMillis: 30_000 });
    // An idle client that loses its server must not crash the process; the next query reports the error.
    pool.on('error', () => {});
    // Nor a checked-out one: pg-pool removes its error listener while a client is lent out, so a server
    // that goes away between two statements (inside a transaction) made the client emit an unhandled
    // 'error' and killed the gateway (found by test/reliability/db-down.test.ts under load). The
    // statement in progress still fails; the dead client is dropped when it is released.
    pool.on('connect', (client) => client.on('error', () => {}));
    return {
      kysely: new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log }),
      dialect: 'postgres',
      where: maskUrl(opts.databaseUrl),
    };
  }
  // The database and its WAL and shared-memory files are private (0600 in a 0700 dir); SQLite gives
  // the -wal and -shm files the database file's mode, and any left from an older run are tightened.
  ensurePrivateDir(dirname(opts.sqlitePath));
  ensurePrivateFile(opts.sqlitePath);
  // The timeout covers only the opening pragmas below; the dialect then sets it to 0 and waits for another
  // process's lock itself, between attempts, without blocking the event loop (sqlite-driver.ts).
  const sqlite = new SQLite(opts.sqlitePath, { timeout: 10_000 });
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  for (const f of [`${opts.sqlitePath}-wal`, `${opts.sqlitePath}-shm`]) if (existsSync(f)) ensurePrivateFile(f);
  return {
    kysely: new Kysely<Database>({ dialect: new BusyRetrySqliteDialect(sqlite, opts.sqliteBusy), log }),
    dialect: 'sqlite',
    where: opts.sqlitePath,
  };
}

class StaticProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return allMigrations(this.dialect);
  }
}

/** Applies every pending migration. Safe to call from several processes: Kysely takes a lock. */
export async function migrate(db: Db): Promise<string[]> {
  // Most starts (every CLI command) find nothing to do: one query says so, without the Migrator's introspection.
  const done = await sql<{ name: string }>`select name from kysely_migration`.execute(db.kysely).then(
    (r) => new Set(r.rows.map((x) => x.name)),
    () => new Set<string>(),
  );
  if (Object.keys(allMigrations(db.dialect)).every((n) => done.has(n))) return [];
  const migrator = new Migrator({ db: db.kysely, provider: new StaticProvider(db.dialect), allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Names of migrations not yet applied (for /readyz). */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db: db.kysely, provider: new StaticProvider(db.dialect), allowUnorderedMigrations: true });
  return (await migrator.getMigrations()).filter((m) => !m.executedAt).map((m) => m.name);
}

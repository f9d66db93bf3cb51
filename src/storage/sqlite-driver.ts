// The SQLite driver for Kysely: SQLite's lock, waited for without stalling the gateway.
//
// better-sqlite3 is synchronous: with a busy timeout, a write that meets another process's lock blocks
// the whole event loop until the lock is free (live sessions freeze, nothing else answers). So the
// handle's own busy timeout stays at 0 and the wait happens here, between attempts, with `await`:
//
// - A statement that meets SQLITE_BUSY / SQLITE_LOCKED outside a transaction is retried with a growing
//   delay (2 ms doubling to 100 ms, with jitter) until it succeeds or the budget (5 s) is spent. Such a
//   statement did nothing when it failed, so running it again is safe.
// - Transactions start with BEGIN IMMEDIATE: the write lock is taken at the start, so BEGIN is the only
//   statement of a transaction that can meet the lock (in WAL mode), and it is retried like the above.
//   COMMIT that meets it is retried too (SQLite keeps the transaction open). Any other statement that
//   meets the lock inside a transaction fails at once and Kysely rolls back.
// - While the first statement of a use of the connection waits, it lets go of the (only) connection so
//   the process's other queries — reads, which WAL never blocks, and writes with their own budget — go
//   on meanwhile; it takes the connection back before trying again. Later statements of a held
//   connection (inside a transaction, or Kysely's `connection()`) wait holding it.
// - When the budget is spent the last SqliteError is thrown (code SQLITE_BUSY, "gave up after N ms",
//   with `waitedMs`); retry.ts turns it into a 409 conflict. A statement inside a transaction that
//   meets the lock fails at once; retry.ts runs the whole transaction again (a bounded number of times).
import { setTimeout as sleep } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import { CompiledQuery, SqliteDialect, type DatabaseConnection, type Driver, type QueryResult } from 'kysely';

export interface SqliteBusyOptions {
  /** How long a statement may wait for another process's lock, in total (default 5000 ms). */
  budgetMs?: number;
  /** First delay between attempts (default 2 ms); doubles up to `maxDelayMs` (default 100 ms). */
  firstDelayMs?: number;
  maxDelayMs?: number;
}

export const SQLITE_BUSY_BUDGET_MS = 5000;

/** SQLITE_BUSY, SQLITE_LOCKED and their extended codes (SQLITE_BUSY_SNAPSHOT, …). */
export function isSqliteBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)(_|$)/.test(code);
}

/** Kysely's SQLite dialect on a better-sqlite3 handle, with the lock waited for asynchronously (see above). */
export class BusyRetrySqliteDialect extends SqliteDialect {
  constructor(
    private readonly handle: SQLite.Database,
    private readonly busy: SqliteBusyOptions = {},
  ) {
    super({ database: handle });
    // The wait is ours, between attempts; SQLite's own would block the event loop.
    handle.pragma('busy_timeout = 0');
  }

  override createDriver(): Driver {
    return new BusyRetrySqliteDriver(this.handle, this.busy);
  }
}

/** First come, first served; the only connection is handed over in order. */
class Mutex {
  private held = false;
  private readonly queue: (() => void)[] = [];

  async lock(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
  }

  unlock(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.held = false;
  }
}

class BusyRetrySqliteDriver implements Driver {
  private readonly mutex = new Mutex();
  private readonly connection: BusyRetryConnection;

  constructor(
    private readonly handle: SQLite.Database,
    busy: SqliteBusyOptions,
  ) {
    this.connection = new BusyRetryConnection(handle, this.mutex, {
      budgetMs: busy.budgetMs ?? SQLITE_BUSY_BUDGET_MS,
      firstDelayMs: busy.firstDelayMs ?? 2,
      maxDelayMs: busy.maxDelayMs ?? 100,
    });
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    // Statements run synchronously and background work chains several; one event-loop turn before each
    // use of the connection lets pending requests in between (a transaction still runs back to back).
    await new Promise<void>((resolve) => setImmediate(resolve));
    await this.mutex.lock();
    this.connection.statements = 0;
    return this.connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    // SQLite may already have rolled back by itself (after SQLITE_IOERR, SQLITE_FULL, …): a ROLLBACK
    // would then fail with "no transaction is active" and hide the error that caused it.
    if (this.handle.inTransaction) await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint ${ident(name)}`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to ${ident(name)}`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release ${ident(name)}`));
  }

  async releaseConnection(): Promise<void> {
    this.mutex.unlock();
  }

  async destroy(): Promise<void> {
    this.handle.close();
  }
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

class BusyRetryConnection implements DatabaseConnection {
  /** Statements run since the connection was last acquired. */
  statements = 0;

  constructor(
    private readonly handle: SQLite.Database,
    private readonly mutex: Mutex,
    private readonly busy: Required<SqliteBusyOptions>,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    // Nothing has been done on this hold of the connection yet: it may step aside while it waits.
    const first = this.statements++ === 0;
    const started = Date.now();
    let delay = this.busy.firstDelayMs;
    for (;;) {
      const inTransaction = this.handle.inTransaction;
      try {
        return this.run<R>(query);
      } catch (err) {
        if (!isSqliteBusy(err)) throw err;
        // Inside a transaction only COMMIT may be tried again; anything else fails and Kysely rolls back.
        if (inTransaction && !/^\s*commit\b/i.test(query.sql)) throw err;
        const waited = Date.now() - started;
        if (waited >= this.busy.budgetMs) throw gaveUp(err, waited);
        const pause = Math.min(delay * (0.5 + Math.random()), this.busy.budgetMs - waited);
        delay = Math.min(delay * 2, this.busy.maxDelayMs);
        if (first && !this.handle.inTransaction) {
          this.mutex.unlock();
          try {
            await sleep(pause);
          } finally {
            await this.mutex.lock();
            this.statements = 1;
          }
        } else {
          await sleep(pause);
        }
      }
    }
  }

  /**
   * Prepared statements by SQL text: Kysely sends the same few hundred texts over and over, and
   * preparing cost more than running (2,000 sessions starting: 45k prepares, 2 s). Bounded; the
   * oldest text is dropped first. Not used for iteration (a statement being iterated is busy).
   */
  private readonly prepared = new Map<string, SQLite.Statement>();

  private statement(sql: string): SQLite.Statement {
    let stmt = this.prepared.get(sql);
    if (stmt) return stmt;
    stmt = this.handle.prepare(sql);
    if (this.prepared.size >= STATEMENT_CACHE) this.prepared.delete(this.prepared.keys().next().value as string);
    this.prepared.set(sql, stmt);
    return stmt;
  }

  private run<R>(query: CompiledQuery): QueryResult<R> {
    const stmt = this.statement(query.sql);
    const parameters = query.parameters as unknown[];
    if (stmt.reader) return { rows: stmt.all(parameters) as R[] };
    const { changes, lastInsertRowid } = stmt.run(parameters);
    return {
      numAffectedRows: changes !== undefined && changes !== null ? BigInt(changes) : undefined,
      insertId: lastInsertRowid !== undefined && lastInsertRowid !== null ? BigInt(lastInsertRowid) : undefined,
      rows: [],
    };
  }

  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    this.statements++;
    const stmt = this.handle.prepare(query.sql);
    if (!stmt.reader) throw new Error('Sqlite driver only supports streaming of select queries');
    for (const row of stmt.iterate(query.parameters as unknown[])) yield { rows: [row as R] };
  }
}

const STATEMENT_CACHE = 500;

function gaveUp(err: unknown, waitedMs: number): Error {
  const e = err as { message?: string; code: string };
  const out = new SQLite.SqliteError(
    `${e.message ?? 'database is locked'} (gave up after ${waitedMs} ms waiting for another process's lock)`,
    e.code,
  );
  // Marks a wait already spent: retry.ts does not wait the whole budget again.
  return Object.assign(out, { waitedMs });
}

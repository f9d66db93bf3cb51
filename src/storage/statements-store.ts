// Statements seen on database sessions (migration 020), appended in batches by the protocols' writer.
import { CompiledQuery, type Kysely } from 'kysely';
import type { StatementKind, StatementRecord, StatementRepository, StoredStatement } from '../core/ports/statements.js';
import type { Database } from './schema.js';

/** Row counts whose INSERT text is kept (a writer's batch is at most a few hundred rows). */
const TEXT_CACHE = 512;

export class KyselyStatements implements StatementRepository {
  /**
   * The INSERT text per row count. Building the same multi-row INSERT through Kysely for every batch cost
   * more than SQLite's insert; the text is taken from Kysely once and kept only when its parameters are
   * exactly the rows' values in column order, so the dialect's placeholders and quoting stay Kysely's.
   */
  private readonly texts = new Map<number, string | null>();

  constructor(private readonly db: Kysely<Database>) {}

  async append(rows: StatementRecord[]): Promise<void> {
    if (!rows.length) return;
    const values = rows.map(toRow);
    const params: unknown[] = [];
    for (const v of values) for (const c of COLUMNS) params.push(v[c]);
    const text = this.texts.get(rows.length);
    if (text) {
      await this.db.executeQuery(CompiledQuery.raw(text, params));
      return;
    }
    const q = this.db.insertInto('db_statements').values(values).compile();
    if (text === undefined && this.texts.size < TEXT_CACHE)
      this.texts.set(rows.length, sameValues(q.parameters, params) && q.sql.includes(COLUMN_LIST) ? q.sql : null);
    await this.db.executeQuery(q);
  }

  async forSession(sessionId: number, afterId: number, limit: number): Promise<StoredStatement[]> {
    const rows = await this.db
      .selectFrom('db_statements')
      .selectAll()
      .where('session_id', '=', sessionId)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      sessionId: r.session_id,
      at: Number(r.at),
      user: r.username,
      device: r.device,
      account: r.account,
      protocol: r.protocol === 'mysql' ? 'mysql' : 'postgres',
      kind: r.kind as StatementKind,
      statement: r.statement,
      parameters: r.parameters,
      rowCount: r.row_count === null ? null : Number(r.row_count),
      error: r.error,
    }));
  }
}

const COLUMNS = [
  'session_id',
  'at',
  'username',
  'device',
  'account',
  'protocol',
  'kind',
  'statement',
  'parameters',
  'row_count',
  'error',
] as const;

/** The column list as Kysely writes it: the kept text must name the columns in the order params follow. */
const COLUMN_LIST = `(${COLUMNS.map((c) => `"${c}"`).join(', ')})`;

function toRow(r: StatementRecord) {
  return {
    session_id: r.sessionId,
    at: r.at,
    username: r.user,
    device: r.device,
    account: r.account,
    protocol: r.protocol,
    kind: r.kind,
    statement: r.statement,
    parameters: r.parameters,
    row_count: r.rowCount,
    error: r.error,
  };
}

function sameValues(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

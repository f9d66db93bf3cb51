// Statements seen on database sessions (migration 020), appended in batches by the protocols' writer.
import type { Kysely } from 'kysely';
import type { StatementKind, StatementRecord, StatementRepository, StoredStatement } from '../core/ports/statements.js';
import type { Database } from './schema.js';

export class KyselyStatements implements StatementRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async append(rows: StatementRecord[]): Promise<void> {
    if (!rows.length) return;
    await this.db
      .insertInto('db_statements')
      .values(
        rows.map((r) => ({
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
        })),
      )
      .execute();
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

// Statements of a database session (PostgreSQL, MySQL), as the gateway saw them.
import { Type } from '@sinclair/typebox';
import { Nullable } from '../schema.js';

export const Statement = Type.Object({
  id: Type.Integer(),
  sessionId: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  user: Type.String(),
  device: Type.String(),
  account: Type.String(),
  protocol: Type.String(),
  /** query (simple protocol, COM_QUERY), parse/prepare (a prepared statement), execute (a run of one). */
  kind: Type.String(),
  statement: Type.String(),
  /** JSON array of the values, or of "[redacted]" unless recording.db.parameters is true. */
  parameters: Nullable(Type.String()),
  rowCount: Nullable(Type.Number()),
  error: Nullable(Type.String()),
});

export const StatementQuery = Type.Object({
  afterId: Type.Optional(Type.Integer({ minimum: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
});

export const StatementPage = Type.Object({ items: Type.Array(Statement), nextAfterId: Nullable(Type.Integer()) });

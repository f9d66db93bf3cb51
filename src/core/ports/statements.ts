// The statement audit of database sessions (PostgreSQL, MySQL): what core and the protocols need from storage.

export const STATEMENT_KINDS = ['query', 'parse', 'execute', 'prepare'] as const;
export type StatementKind = (typeof STATEMENT_KINDS)[number];

/** Longest statement text kept; the rest is cut and marked. */
export const STATEMENT_MAX_CHARS = 16_384;
/** Longest parameter list kept (as JSON), and longest error text. */
export const PARAMETERS_MAX_CHARS = 4096;
export const STATEMENT_ERROR_MAX_CHARS = 400;

export interface StatementRecord {
  sessionId: number;
  /** Epoch ms. */
  at: number;
  user: string;
  device: string;
  account: string;
  protocol: 'postgres' | 'mysql';
  kind: StatementKind;
  statement: string;
  /** JSON array of values, or of "[redacted]" markers; null when the statement had none. */
  parameters: string | null;
  /** Rows from the server's completion (PostgreSQL CommandComplete, MySQL OK packet); null when unknown. */
  rowCount: number | null;
  error: string | null;
}

export interface StoredStatement extends StatementRecord {
  id: number;
}

export interface StatementRepository {
  /** Appends a batch in one transaction. */
  append(rows: StatementRecord[]): Promise<void>;
  /** A session's statements in order, after `afterId`, at most `limit`. */
  forSession(sessionId: number, afterId: number, limit: number): Promise<StoredStatement[]>;
}

/** Caps a statement's text so one huge query cannot fill the database. */
export function capText(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}… [${s.length - max} more characters]` : s;
}

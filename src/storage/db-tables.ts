// Database sessions' statements (migration 020) and the workers' shared state (migration 021).
import type { Generated } from 'kysely';

export interface DbTables {
  db_statements: DbStatementsTable;
  login_tickets: LoginTicketsTable;
}

// Database sessions (migration 020): every statement seen on a PostgreSQL or MySQL session.
export interface DbStatementsTable {
  id: Generated<number>;
  session_id: number;
  at: number;
  username: string;
  device: string;
  account: string;
  protocol: string;
  kind: string;
  statement: string;
  parameters: string | null;
  row_count: number | null;
  error: string | null;
}

// Workers (migration 021): the login's second-factor tickets, shared by every worker.
export interface LoginTicketsTable {
  ticket_hash: string;
  user_id: number;
  client_addr: string;
  expires_at: number;
  tries: number;
}

// The tables the protocols keep (migrations 005 and 007), declared once here next to schema.ts.
import type { Generated, Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface RdpTicketsTable {
  id: Generated<number>;
  token_hash: string;
  user_id: number;
  device_id: number;
  account_id: number;
  approval_id: number | null;
  channel: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  used_by: string | null;
}
export interface HttpLoginTokensTable {
  id: Generated<number>;
  token_hash: string;
  user_id: number;
  host: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}
export interface HttpSessionStatsTable {
  session_id: number;
  requests: number;
  first_request_at: number;
  last_request_at: number;
}

// A type, not an interface: withTables() needs an index-compatible record.
export type ProtocolTables = {
  rdp_tickets: RdpTicketsTable;
  http_login_tokens: HttpLoginTokensTable;
  http_session_stats: HttpSessionStatsTable;
};

export type ProtocolDatabase = Database & ProtocolTables;

/** The database seen with the protocols' tables too. */
export const withProtocolTables = (db: Kysely<Database>): Kysely<ProtocolDatabase> => db.withTables<ProtocolTables>();

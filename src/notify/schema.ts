// Table types of the mail tables (migration 003_mail) and a typed handle on them.
import type { Generated, Kysely } from 'kysely';
import type { Database } from '../storage/schema.js';
import type { Services } from '../services.js';

export type OutboxStatus = 'queued' | 'sending' | 'sent' | 'failed';

export interface MailOutboxTable {
  id: Generated<number>;
  mail_key: string;
  request_id: number | null;
  kind: string;
  /** Which occurrence of the kind (migration 014): unique with request_id, to_addr and kind. */
  occurrence: Generated<string>;
  to_addr: string;
  subject: string;
  text_body: string | null;
  html_body: string | null;
  /** JSON: extra headers (Reply-To, In-Reply-To, References, Auto-Submitted). */
  headers: string;
  message_id: string;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  claimed_by: string | null;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}

export interface MailEventDoneTable {
  event_id: number;
  at: number;
}

export interface MailStateTable {
  key: string;
  value: string;
}

export interface MailLinkTokensTable {
  token_hash: string;
  request_id: number;
  approver_id: number;
  action: 'approve' | 'reject';
  level: number;
  created_at: number;
  used_at: number | null;
  dead_at: number | null;
}

export interface MailReplySecretsTable {
  request_id: number;
  secret: string;
  created_at: number;
}

export interface MailInboundSeenTable {
  message_id: string;
  at: number;
  outcome: string;
}

export interface MailSettingsTable {
  key: string;
  value: string;
  updated_at: number;
}

export interface MailTables {
  mail_outbox: MailOutboxTable;
  mail_event_done: MailEventDoneTable;
  mail_state: MailStateTable;
  mail_link_tokens: MailLinkTokensTable;
  mail_reply_secrets: MailReplySecretsTable;
  mail_inbound_seen: MailInboundSeenTable;
  mail_settings: MailSettingsTable;
}

export type MailDb = Kysely<Database & MailTables>;

export function mailDb(s: Pick<Services, 'store'>): MailDb {
  return s.store.db as unknown as MailDb;
}

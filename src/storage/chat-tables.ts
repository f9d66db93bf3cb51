// Chat approvals' tables (migration 019): settings, the per-request outbox, the messages posted.
import type { Generated } from 'kysely';

export interface ChatTables {
  chat_settings: ChatSettingsTable;
  chat_jobs: ChatJobsTable;
  chat_messages: ChatMessagesTable;
}
export interface ChatSettingsTable {
  provider: string;
  api_url: string | null;
  channel: string | null;
  bot_token_enc: string;
  secret_enc: string;
  updated_at: number;
  updated_by: string;
}
export interface ChatJobsTable {
  id: Generated<number>;
  provider: string;
  request_id: number;
  version: number;
  status: string;
  attempts: number;
  next_attempt_at: number | null;
  lease_until: number | null;
  claimed_by: string | null;
  last_error: string | null;
  created_at: number;
  done_at: number | null;
}
export interface ChatMessagesTable {
  id: Generated<number>;
  provider: string;
  request_id: number;
  target: string;
  channel_id: string;
  message_id: string;
  msg_key: string;
  rendered: string;
  created_at: number;
  updated_at: number;
}

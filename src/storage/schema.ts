// Table types for Kysely. Times are milliseconds since the epoch (bigint); booleans are 0/1 integers so
// one set of queries serves SQLite and PostgreSQL.
import type { Generated } from 'kysely';
import type { OutboxStatus } from '../core/ports/mail.js';
import type { AuthTables } from './auth-tables.js';
import type { ChatTables } from './chat-tables.js';
import type { DbTables } from './db-tables.js';

export interface UsersTable {
  id: Generated<number>;
  username: string;
  display_name: string;
  email: string | null;
  password_hash: string | null;
  manager_id: number | null;
  is_admin: number;
  disabled: number;
  source: string;
  created_at: number;
  updated_at: number;
}
export interface UserKeysTable {
  id: Generated<number>;
  user_id: number;
  public_key: string;
  fingerprint: string;
  comment: string | null;
  created_at: number;
}
export interface UserGroupsTable {
  id: Generated<number>;
  name: string;
  description: string | null;
  require_approval: number;
  require_reason: number;
  created_at: number;
}
export interface MembershipTable {
  group_id: number;
  user_id: number;
}
export interface DeviceGroupsTable {
  id: Generated<number>;
  name: string;
  description: string | null;
  require_approval: number;
  require_reason: number;
  created_at: number;
}
export interface DevicesTable {
  id: Generated<number>;
  name: string;
  host: string;
  ports: string;
  protocols: string;
  group_id: number | null;
  host_key: string | null;
  host_key_pinned_at: number | null;
  options: string;
  enabled: number;
  created_at: number;
}
export interface AccountsTable {
  id: Generated<number>;
  device_id: number;
  name: string;
  secret_kind: string;
  secret_enc: string;
  is_default: number;
  created_at: number;
}
export interface AccessRulesTable {
  id: Generated<number>;
  user_group_id: number;
  device_group_id: number;
  protocols: string;
  allow_port_forwarding: number;
  created_at: number;
}
export interface WorkflowsTable {
  id: Generated<number>;
  name: string;
  user_group_id: number;
  device_group_id: number;
  levels: string;
  created_at: number;
}
export interface ParamsTable {
  name: string;
  value: string;
  updated_at: number;
}
export interface ApprovalRequestsTable {
  id: Generated<number>;
  requester_id: number;
  device_id: number;
  account_id: number;
  protocol: string;
  reason: string | null;
  status: string;
  kind: string;
  created_at: number;
  expires_at: number | null;
  decided_at: number | null;
  current_level: number;
  level_started_at: number;
  route: string;
  auto_approved: number;
  grant_start: number | null;
  grant_end: number | null;
  client_addr: string | null;
  last_notified_at: number | null;
  decided_by: number | null;
  decision_comment: string | null;
  escalate_at: number | null;
}
export interface ApprovalDecisionsTable {
  id: Generated<number>;
  request_id: number;
  level: number;
  approver_id: number;
  on_behalf_of: number | null;
  decision: string;
  channel: string;
  comment: string | null;
  created_at: number;
}
export interface DelegationsTable {
  id: Generated<number>;
  from_user_id: number;
  to_user_id: number;
  starts_at: number;
  ends_at: number;
  reason: string | null;
  created_at: number;
  revoked_at: number | null;
}
export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  actor: string;
  actor_id: number | null;
  channel: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  details: string;
  seq: number | null;
  prev_hash: string | null;
  hash: string | null;
  sig: string | null;
}
export interface EventsTable {
  id: Generated<number>;
  at: number;
  type: string;
  payload: string;
}
export interface SessionsTable {
  id: Generated<number>;
  user_id: number;
  device_id: number;
  account_id: number;
  protocol: string;
  approval_id: number | null;
  client_addr: string | null;
  node_id: string;
  started_at: number;
  ended_at: number | null;
  end_reason: string | null;
  bytes_in: number;
  bytes_out: number;
  recording: Generated<string | null>;
  recording_deleted_at: Generated<number | null>;
  /** The worker process holding the session (migration 021). */
  worker_pid: Generated<number | null>;
}
export interface NodesTable {
  id: string;
  host: string;
  pid: number;
  version: string;
  started_at: number;
  last_seen: number;
  status: string;
}
export interface MetaTable {
  key: string;
  value: string;
}

// Login and code attempts per key (migration 012).
export interface LoginAttemptsTable {
  key: string;
  n: number;
  window_start: number;
  refused: number;
}

// The console's sessions and API tokens, and the approver index (migrations 004, 013).
export interface WebSessionsTable {
  id: string;
  user_id: number;
  csrf_token: string;
  client_addr: string | null;
  created_at: number;
  expires_at: number;
  /** 1 when the login that started this session proved the second factor. */
  second_factor: Generated<number>;
}
export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  token_hash: string;
  prefix: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
  /** 1 when the token was created from a session that proved the second factor. */
  second_factor: Generated<number>;
}
export interface ApprovalApproversTable {
  request_id: number;
  user_id: number;
}

// The directory (migration 009): settings, links from local users/groups to DNs, TOTP secrets,
// recovery codes and the per-group second-factor flag.
export interface DirectoryConfigTable {
  id: number;
  settings: string;
  bind_password_enc: string | null;
  updated_at: number;
  last_sync_at: number | null;
  last_summary: string | null;
  lease_until: number | null;
  lease_owner: string | null;
}
export interface DirectoryLinksTable {
  kind: string;
  name: string;
  dn: string;
  source: string;
  disabled_by_sync: number;
  synced_at: number;
}
export interface TotpSecretsTable {
  user_id: number;
  secret_enc: string;
  enabled: number;
  last_step: number | null;
  created_at: number;
  enabled_at: number | null;
}
export interface TotpRecoveryTable {
  id: Generated<number>;
  user_id: number;
  code_hash: string;
  used_at: number | null;
}
export interface SecondFactorGroupsTable {
  group_id: number;
  updated_at: number;
}

// Mail (migrations 003, 014): the outbox, the builder's progress, link tokens, reply secrets, inbound
// messages already handled and the console's mail settings.
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

export interface Database extends MailTables, AuthTables, ChatTables, DbTables {
  users: UsersTable;
  user_keys: UserKeysTable;
  user_groups: UserGroupsTable;
  user_group_members: MembershipTable;
  user_group_managers: MembershipTable;
  device_groups: DeviceGroupsTable;
  device_group_managers: MembershipTable;
  devices: DevicesTable;
  accounts: AccountsTable;
  access_rules: AccessRulesTable;
  workflows: WorkflowsTable;
  params: ParamsTable;
  approval_requests: ApprovalRequestsTable;
  approval_decisions: ApprovalDecisionsTable;
  delegations: DelegationsTable;
  audit_log: AuditLogTable;
  events: EventsTable;
  sessions: SessionsTable;
  meta: MetaTable;
  nodes: NodesTable;
  login_attempts: LoginAttemptsTable;
  web_sessions: WebSessionsTable;
  api_tokens: ApiTokensTable;
  approval_approvers: ApprovalApproversTable;
  directory_config: DirectoryConfigTable;
  directory_links: DirectoryLinksTable;
  totp_secrets: TotpSecretsTable;
  totp_recovery_codes: TotpRecoveryTable;
  user_group_second_factor: SecondFactorGroupsTable;
}

// Webhooks (migration 018): endpoints and their delivery outbox.
export interface WebhooksTable {
  id: Generated<number>;
  name: string;
  url: string;
  events: string;
  secret_enc: string;
  allow_http: number;
  created_at: number;
  created_by: string;
}
export interface WebhookDeliveriesTable {
  id: Generated<number>;
  delivery_id: string;
  webhook_id: number;
  webhook_name: string;
  event_key: string;
  event_type: string;
  body: string;
  status: string;
  attempts: number;
  next_attempt_at: number | null;
  lease_until: number | null;
  claimed_by: string | null;
  response_code: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}
export interface Database {
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
}

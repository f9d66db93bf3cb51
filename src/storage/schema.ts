// Table types for Kysely. Times are milliseconds since the epoch (bigint); booleans are 0/1 integers so
// one set of queries serves SQLite and PostgreSQL.
import type { Generated } from 'kysely';

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

export interface Database {
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
}

// Domain types in the product's words. Plain data: no I/O here.

export const PROTOCOLS = ['ssh', 'sftp', 'rdp', 'http', 'postgres', 'mysql'] as const;
export type Protocol = (typeof PROTOCOLS)[number];
export function isProtocol(v: string): v is Protocol {
  return (PROTOCOLS as readonly string[]).includes(v);
}

export const APPROVAL_STATUSES = ['waiting', 'approved', 'rejected', 'expired', 'cancelled', 'revoked'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

export const CHANNELS = ['web', 'email-link', 'email-reply', 'cli', 'api', 'ssh', 'db', 'system', 'auto'] as const;
export type Channel = (typeof CHANNELS)[number];

export interface User {
  id: number;
  username: string;
  displayName: string;
  email: string | null;
  managerId: number | null;
  isAdmin: boolean;
  disabled: boolean;
  source: string;
}

export interface UserGroup {
  id: number;
  name: string;
  requireApproval: boolean;
  requireReason: boolean;
  memberIds: number[];
  managerIds: number[];
}

export interface DeviceGroup {
  id: number;
  name: string;
  requireApproval: boolean;
  requireReason: boolean;
  managerIds: number[];
}

export interface Device {
  id: number;
  name: string;
  host: string;
  ports: Partial<Record<Protocol, number>>;
  protocols: Protocol[];
  groupId: number | null;
  hostKey: string | null;
  enabled: boolean;
}

export interface Account {
  id: number;
  deviceId: number;
  name: string;
  secretKind: 'password' | 'key';
  isDefault: boolean;
}

export interface AccessRule {
  id: number;
  userGroupId: number;
  deviceGroupId: number;
  protocols: Protocol[];
  allowPortForwarding: boolean;
}

/** A workflow level's authority, written as in the CLI: group-manager, group-members:<g>, users:<a,b>, line-manager. */
export type Authority =
  { kind: 'group-manager' } | { kind: 'group-members'; group: string } | { kind: 'users'; users: string[] } | { kind: 'line-manager' };

export interface WorkflowLevel {
  authority: Authority;
  quorum: number;
  /** Minutes at this level before it escalates; null = never. */
  escalateAfterMinutes: number | null;
}

export interface Workflow {
  id: number;
  name: string;
  userGroupId: number;
  deviceGroupId: number;
  levels: WorkflowLevel[];
}

/** One level of a concrete route: who may approve it and how many must. */
export interface RouteLevel {
  authority: string;
  quorum: number;
  escalateAfterMinutes: number | null;
  approverIds: number[];
  /** Filled in when the level escalates: the approvers added by escalation. */
  escalatedApproverIds?: number[];
}

export interface Route {
  /** What produced the route: workflow, user-group or device-group approval. */
  source: 'workflow' | 'user-group' | 'device-group';
  sourceName: string;
  why: string;
  levels: RouteLevel[];
}

export type Decision =
  | { outcome: 'denied'; why: string }
  | { outcome: 'allowed'; why: string; grantId?: number; requireReason: boolean; allowPortForwarding: boolean; accountId: number }
  | {
      outcome: 'approval-required';
      why: string;
      route: Route;
      requireReason: boolean;
      allowPortForwarding: boolean;
      accountId: number;
      /** True when no eligible approver exists: the request cannot be made. */
      noApprover: boolean;
      /** True when the requester is an approver at every level (auto-approve may apply). */
      requesterIsApprover: boolean;
    };

export interface ApprovalRequest {
  id: number;
  requesterId: number;
  deviceId: number;
  accountId: number;
  protocol: Protocol;
  reason: string | null;
  status: ApprovalStatus;
  kind: 'instant' | 'reservation';
  createdAt: number;
  expiresAt: number | null;
  decidedAt: number | null;
  currentLevel: number;
  levelStartedAt: number;
  route: Route;
  autoApproved: boolean;
  grantStart: number | null;
  grantEnd: number | null;
  clientAddr: string | null;
  lastNotifiedAt: number | null;
  decidedBy: number | null;
  decisionComment: string | null;
  /** When the current level escalates (null: it does not, or already did). */
  escalateAt: number | null;
}

export interface ApprovalDecision {
  id: number;
  requestId: number;
  level: number;
  approverId: number;
  onBehalfOf: number | null;
  decision: 'approve' | 'reject';
  channel: Channel;
  comment: string | null;
  createdAt: number;
}

export interface Delegation {
  id: number;
  fromUserId: number;
  toUserId: number;
  startsAt: number;
  endsAt: number;
  reason: string | null;
  revokedAt: number | null;
}

export interface AuditEntry {
  actor: string;
  actorId?: number | null;
  channel: Channel;
  action: string;
  targetType?: string;
  targetId?: string | number;
  details?: Record<string, unknown>;
}

/** An event as stored in the `events` table: its payload is untyped JSON until read as a BusEvent. */
export interface GatehouseEvent {
  id: number;
  at: number;
  type: string;
  payload: Record<string, unknown>;
}

/** Every transition of an approval request writes one of these, with the request as it now stands. */
export const APPROVAL_EVENTS = [
  'approval.created',
  'approval.reminder',
  'approval.vote',
  'approval.level-approved',
  'approval.escalated',
  'approval.approved',
  'approval.rejected',
  'approval.expired',
  'approval.cancelled',
  'approval.revoked',
] as const;
export type ApprovalEventType = (typeof APPROVAL_EVENTS)[number];

/** What the event bus delivers: one payload type per kind of event. */
export type BusEvent = { id: number; at: number } & (
  | { type: ApprovalEventType; payload: { request: ApprovalRequest } }
  | { type: 'policy.changed'; payload: { action?: string } }
  | { type: 'session.kill'; payload: { id: number; reason?: string } }
  | { type: `delegation.${string}`; payload: { id: number; fromUserId?: number; toUserId?: number } }
);
export type ApprovalEvent = Extract<BusEvent, { type: ApprovalEventType }>;

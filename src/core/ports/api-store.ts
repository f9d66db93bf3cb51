// What the API needs from storage: console sessions, API tokens, the approver index, and the list queries
// the console pages need (paginated by id, always on an index).
import type { ApprovalRequest, ApprovalStatus } from '../types.js';

export interface ApiToken {
  id: number;
  userId: number;
  name: string;
  prefix: string;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
  /** Made from a console session that proved the second factor: only such tokens decide while one is required. */
  secondFactor: boolean;
}

export interface AuditFilter {
  action?: string;
  actor?: string;
  targetType?: string;
  targetId?: string;
  channel?: string;
  from?: number;
  to?: number;
  beforeId?: number;
  limit: number;
}

export type ApprovalScope = 'mine' | 'to-decide' | 'decided' | 'all';

/** A proxied session as stored; the presenters choose what a response shows. */
export interface SessionRow {
  id: number;
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
  recording: string | null;
  recording_deleted_at: number | null;
}

/** An audit record as stored (the chain columns included). */
export interface AuditRow {
  id: number;
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

export interface ApiStore {
  createSession(
    userId: number,
    clientAddr: string | null,
    now: number,
    ttlMs: number,
    secondFactor?: boolean,
  ): Promise<{ token: string; csrf: string; expiresAt: number }>;
  findSession(token: string, now: number): Promise<{ userId: number; csrf: string; id: string; secondFactor: boolean } | undefined>;
  sessionAlive(id: string, now: number): Promise<boolean>;
  deleteSession(id: string): Promise<void>;

  createToken(
    userId: number,
    name: string,
    now: number,
    expiresAt: number | null,
    secondFactor?: boolean,
  ): Promise<{ token: string; row: ApiToken }>;
  listTokens(userId: number): Promise<ApiToken[]>;
  /** Revokes a token of `userId`; false when it is not theirs or already revoked. */
  revokeToken(userId: number, id: number, now: number): Promise<boolean>;
  findToken(token: string, now: number): Promise<ApiToken | undefined>;

  /** A request was created or escalated somewhere (an event said so): the next list re-reads. */
  markDirty(): void;
  /** Brings the approver index up to date with the requests created since the last call. */
  syncApproverIndex(now: number): Promise<void>;
  /**
   * One page of requests, newest first. `approverIds`: the caller and whoever delegated to them (for
   * 'to-decide'); `userId`: the caller (for 'mine' and 'decided').
   */
  listApprovals(o: {
    scope: ApprovalScope;
    userId: number;
    approverIds: number[];
    admin: boolean;
    status?: ApprovalStatus;
    beforeId?: number;
    limit: number;
  }): Promise<ApprovalRequest[]>;
  isNamedApprover(requestId: number, userIds: number[]): Promise<boolean>;
  hasDecided(requestId: number, userId: number): Promise<boolean>;

  listSessions(o: { live?: boolean; userId?: number; approvalId?: number; beforeId?: number; limit: number }): Promise<SessionRow[]>;
  getSession(id: number): Promise<SessionRow | undefined>;
  listAudit(f: AuditFilter): Promise<AuditRow[]>;
  /** The distinct actions, actors and target types in the audit log (at most `max` of each), for filters. */
  auditValues(max: number): Promise<{ actions: string[]; actors: string[]; targetTypes: string[] }>;
}

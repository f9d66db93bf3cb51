// What the core needs from storage. Implemented in src/storage with Kysely (SQLite and PostgreSQL).
import type { PolicyData } from '../policy/snapshot.js';
import type { DelegationStore } from './delegations.js';
import type { ApprovalDecision, ApprovalRequest, ApprovalStatus, AuditEntry, GatehouseEvent, Protocol } from '../types.js';

export type NewApprovalRequest = Omit<ApprovalRequest, 'id'>;

export interface ApprovalListFilter {
  requesterId?: number;
  status?: ApprovalStatus;
  /** Only requests whose stored route names this user (or a delegator of theirs) as an approver. */
  ids?: number[];
  limit?: number;
  beforeId?: number;
}

/** Operations that run inside one database transaction. Approval transitions lock the request row first. */
export interface TxStore {
  /** Reads a request and locks it for the rest of the transaction (FOR UPDATE on PostgreSQL). */
  lockRequest(id: number): Promise<ApprovalRequest | undefined>;
  findWaiting(
    userId: number,
    deviceId: number,
    accountId: number,
    protocol: Protocol,
    kind: 'instant' | 'reservation',
  ): Promise<ApprovalRequest | undefined>;
  insertRequest(r: NewApprovalRequest): Promise<ApprovalRequest>;
  /** Conditional update: applies only while the request still has `expect` status and level. Returns whether it applied. */
  updateRequest(id: number, expect: { status: ApprovalStatus; level?: number }, patch: Partial<NewApprovalRequest>): Promise<boolean>;
  insertDecision(d: Omit<ApprovalDecision, 'id'>): Promise<void>;
  decisions(requestId: number): Promise<ApprovalDecision[]>;
  appendAudit(e: AuditEntry, at: number): Promise<void>;
  appendEvent(type: string, payload: Record<string, unknown>, at: number): Promise<void>;
}

export interface Store extends DelegationStore {
  readonly dialect: 'sqlite' | 'postgres';
  /** Where the data lives, for messages: a file path, or a URL with the password masked. */
  readonly where: string;
  tx<T>(fn: (tx: TxStore) => Promise<T>): Promise<T>;

  // policy
  loadPolicy(): Promise<PolicyData>;
  policyVersion(): Promise<number>;

  // params
  loadParams(): Promise<Map<string, string>>;

  // approvals (reads outside transactions)
  getRequest(id: number): Promise<ApprovalRequest | undefined>;
  listRequests(f: ApprovalListFilter): Promise<ApprovalRequest[]>;
  decisions(requestId: number): Promise<ApprovalDecision[]>;
  /** Approved requests whose grant window has not ended: seeds the in-memory grant cache. */
  activeGrants(now: number): Promise<ApprovalRequest[]>;
  /** Waiting requests past their deadline (sweeper) or due for escalation. */
  waitingIds(opts: { expiredBy?: number; escalateBy?: number; all?: boolean; limit: number }): Promise<number[]>;

  // events
  eventsSince(afterId: number, sinceAt: number, limit: number): Promise<GatehouseEvent[]>;
  /** Events with an id above `afterId`, and those of `alsoIds` (ids skipped earlier that may commit late). */
  eventsAfter(afterId: number, alsoIds: readonly number[], limit: number): Promise<GatehouseEvent[]>;
  maxEventId(): Promise<number>;
  pruneEvents(before: number): Promise<number>;

  close(): Promise<void>;
}

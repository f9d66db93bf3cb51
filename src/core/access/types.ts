// What the access gate takes, what it yields while a request waits, and how it ends.
import type { GatehouseError } from '../errors.js';
import type { RequestInput, RequestResult } from '../approvals/service.js';
import type { Clock } from '../ports/clock.js';
import type { PolicySnapshot } from '../policy/snapshot.js';
import type { ApprovalRequest, BusEvent, Channel, Decision, Protocol, User } from '../types.js';

/** The approval engine as the gate uses it. */
export interface ApprovalsPort {
  decide(username: string, device: string, protocol: Protocol, account?: string): Promise<Decision>;
  request(input: RequestInput): Promise<RequestResult>;
  get(id: number): Promise<ApprovalRequest | undefined>;
  cancel(id: number, actorName: string, channel: Channel): Promise<ApprovalRequest>;
}

export interface BusPort {
  subscribe(fn: (e: BusEvent) => void): () => void;
  /** Only the approval events about request `id`. */
  subscribeRequest(id: number, fn: (e: BusEvent) => void): () => void;
  /** Take in events not polled yet. */
  kick(): Promise<void>;
}

export interface AccessPorts {
  approvals: ApprovalsPort;
  policy: { current(): Promise<Pick<PolicySnapshot, 'devicesByName' | 'usersById' | 'accountsOfDevice'>> };
  grants: { window(requestId: number): { end: number } | undefined };
  bus: BusPort;
  clock: Clock;
  /** Counts a connection held for a decision (gatehouse_waiting_connections); the returned function ends it. */
  sessions: { beginWait(protocol: Protocol): () => void };
}

export interface AccessQuery {
  user: Pick<User, 'id' | 'username'>;
  device: string;
  account: string | null;
  protocol: Protocol;
  reason: string | null;
  clientAddr: string | null;
  channel: Channel;
}

export interface Approver {
  id: number;
  username?: string;
  displayName?: string;
}

/** Where a waiting request stands. */
export interface WaitingState {
  request: ApprovalRequest;
  /** The request was already waiting (a reconnect): this caller waits for it too. */
  reused: boolean;
  device: string;
  account: string;
  approvers: Approver[];
  /** 1-based level and how many there are. */
  level: number;
  levels: number;
  /** When the request expires (null: never). */
  until: number | null;
  why: string;
}

export type AccessUpdate =
  /** The request waits (first update), or a level was approved and the next one waits. */
  | ({ kind: 'waiting' } & WaitingState)
  /** The current level's approvers were joined by others. */
  | ({ kind: 'escalated' } & WaitingState)
  /** The approvers were reminded; nothing else changed. */
  | { kind: 'reminded'; request: ApprovalRequest };

export interface Granted {
  kind: 'granted';
  /** The grant (approval request) that allows it; null when the rule alone does. */
  approvalId: number | null;
  grantEnd: number | null;
  deviceId: number;
  accountId: number;
  allowPortForwarding: boolean;
  /** True when this caller waited for the approval. */
  waited: boolean;
}

export type Refused =
  /**
   * The engine refused: policy denies it or the device does not exist (one answer for both, so nobody
   * probes names), a reason is missing, nobody may approve, or instant approval is off. `error` is the
   * engine's own error when there was one (callers that pass errors on rethrow it).
   */
  | { kind: 'refused'; reason: 'denied' | 'reason-required' | 'no-approver' | 'not-allowed'; message: string; error?: GatehouseError }
  | { kind: 'refused'; reason: 'rejected'; request: ApprovalRequest; decidedBy: string; comment: string | null }
  | { kind: 'refused'; reason: 'expired' | 'cancelled' | 'revoked'; request: ApprovalRequest }
  /** The caller stopped waiting (its signal): the request keeps waiting. */
  | { kind: 'refused'; reason: 'left' }
  /** The engine or its store failed: fail closed. */
  | { kind: 'refused'; reason: 'error'; error: unknown };

/** How asking the engine can fail (before any wait). */
export type AskRefusal = Extract<Refused, { reason: 'denied' | 'reason-required' | 'no-approver' | 'not-allowed' | 'error' }>;

export type AccessOutcome = Granted | Refused;
export type AccessStep = AccessUpdate | AccessOutcome;

export function isOutcome(s: AccessStep): s is AccessOutcome {
  return s.kind === 'granted' || s.kind === 'refused';
}

/** The updates of one access attempt, ending in its outcome; `cancel()` withdraws the waiting request. */
export interface AccessStream extends AsyncIterable<AccessStep> {
  cancel(): void;
}

// Who may do what through the API. Every route names one rule (its `config.allow`); the request hook
// checks it before the handler runs. Rules about one record (an approval, a session) are here too, so
// handlers never decide authorization themselves.
import type { FactorProof } from '../core/approvals/approver.js';
import { levelApprovers } from '../core/approvals/rules.js';
import type { ApprovalRequest, Channel, Delegation, User } from '../core/types.js';

export interface Caller {
  user: User;
  /** 'web' for the console (cookie session), 'api' for Bearer tokens: recorded on every decision. */
  channel: Extract<Channel, 'web' | 'api'>;
  /** The console session's id (sha-256 of the cookie); null for tokens. */
  sessionId: string | null;
  csrf: string | null;
  /** The session was started with the second factor, or the token was made from such a session. */
  factor: boolean;
}

/**
 * Route-level rules:
 * - `public`: no login (health, login itself, the console's files);
 * - `user`: any logged-in user; the handler narrows what they see with the record rules below;
 * - `admin`: administrators only.
 */
export type Rule = 'public' | 'user' | 'admin';

export const isAdmin = (c: Caller) => c.user.isAdmin && !c.user.disabled;

/** What a decision through this caller proves to the approval engine. */
export const proofOf = (c: Caller): FactorProof => (c.factor ? 'factor' : 'none');

/** Everyone `c` may act for on approvals: themself and whoever delegated to them now. */
export function actingFor(c: Caller, delegations: Delegation[]): number[] {
  return [c.user.id, ...delegations.map((d) => d.fromUserId)];
}

/** Approvers of a request at any level (escalation included), the requester excluded. */
export function namedApprovers(r: ApprovalRequest): number[] {
  return [...new Set(r.route.levels.flatMap((_, i) => levelApprovers(r, i)))];
}

/**
 * May `c` see request `r`? Admins see all; the requester sees their own; its approvers (directly or
 * by delegation) see it; so does anyone who decided it (history stays visible after a policy change).
 */
export function canSeeApproval(c: Caller, r: ApprovalRequest, actingIds: number[], decided: boolean): boolean {
  if (isAdmin(c) || r.requesterId === c.user.id || decided) return true;
  const approvers = namedApprovers(r);
  return actingIds.some((id) => approvers.includes(id));
}

/** May `c` decide the current level of `r` (for the console's buttons; the engine checks again)? */
export function canDecideNow(c: Caller, r: ApprovalRequest, actingIds: number[]): boolean {
  if (r.status !== 'waiting' || r.requesterId === c.user.id) return false;
  if (isAdmin(c)) return true;
  const now = levelApprovers(r, r.currentLevel);
  return actingIds.some((id) => now.includes(id));
}

/** Sessions: admins see all; a user sees their own. Only admins kill. */
export function canSeeSession(c: Caller, s: { user_id: number }): boolean {
  return isAdmin(c) || s.user_id === c.user.id;
}

/** Events on the live stream: which approval events `c` receives. */
export function canSeeEvent(c: Caller, type: string, r: ApprovalRequest | undefined, actingIds: number[]): boolean {
  if (r) return canSeeApproval(c, r, actingIds, false);
  if (type === 'policy.changed' || type.startsWith('session.')) return isAdmin(c);
  return false;
}

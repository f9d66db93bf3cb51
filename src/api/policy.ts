// Who may do what through the API. Every route names one rule (its `config.allow`); the request hook
// checks it before the handler runs. Rules about one record (an approval, a session) are here too, so
// handlers never decide authorization themselves.
import { mayApproveSomething, type FactorProof } from '../core/approvals/approver.js';
import { levelApprovers } from '../core/approvals/rules.js';
import type { ApprovalRequest, Channel, Delegation, Device, User } from '../core/types.js';
import type { Services } from '../services.js';

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

/** May this user approve anything at all (the console's Approval Requests page)? The one answer is core's. */
export async function mayApprove(s: Services, u: User): Promise<boolean> {
  const now = s.clock.now();
  return mayApproveSomething(await s.policy.current(), u, await s.store.delegationsTo(u.id, now), now);
}

/** Users: admins see anyone; others only themselves (another's record looks like a missing one). */
export function canSeeUser(c: Caller, u: User): boolean {
  return isAdmin(c) || u.id === c.user.id;
}

/** Devices: admins see all; a user sees those decide() lets them reach over some protocol. */
export async function canSeeDevice(s: Services, c: Caller, d: Device): Promise<boolean> {
  if (isAdmin(c)) return true;
  for (const pr of d.protocols) if ((await s.approvals.decide(c.user.username, d.name, pr)).outcome !== 'denied') return true;
  return false;
}

/**
 * May `c` mint an API token? A token carries its session's proof: minting with less than the second
 * factor the user needs would launder a missing one.
 */
export async function mayMintToken(s: Services, c: Caller): Promise<boolean> {
  return c.factor || !(await s.auth.secondFactorRequired(c.user));
}

/** A second factor is enrolled from the console, never with an API token (a token could not prove it). */
export const mayEnrolSecondFactor = (c: Caller) => c.channel === 'web';

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

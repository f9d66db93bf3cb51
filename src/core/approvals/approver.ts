// Who is an approver, and what a decision must prove. One answer for the login (who must use a second
// factor), the console (who sees Approval Requests) and the approval engine (who may act on a request).
import type { PolicySnapshot } from '../policy/snapshot.js';
import type { ApprovalDecision, ApprovalRequest, Delegation, User } from '../types.js';
import { levelApprovers } from './rules.js';

/**
 * What the channel of a decision proved about the decider:
 * - `factor`: a second factor at decision time (a session started with one, a token made from such a
 *   session, a code on the email link's page);
 * - `none`: nothing beyond the password or the token (an email reply never carries more);
 * - `operator`: the CLI, which acts with the database's own rights and is the operator's tool.
 */
export type FactorProof = 'factor' | 'none' | 'operator';

/** Answers whether a decider must prove a second factor now (the directory's TOTP settings). */
export interface DeciderFactor {
  requiredToDecide(user: User): Promise<boolean>;
}

/** A delegation in force at `now`, or planned: its holder may become a decider while logged in. */
const live = (d: Delegation, now: number) => d.revokedAt === null && now < d.endsAt;

/**
 * May `u` approve anything at all: an admin, a user-group or device-group manager, the line manager of
 * an enabled user, someone a workflow names (directly or as a member of a named group), or the holder
 * of a delegation that has not ended.
 */
export function mayApproveSomething(p: PolicySnapshot, u: User, delegationsToU: Delegation[], now: number): boolean {
  if (u.disabled) return false;
  if (u.isAdmin) return true;
  if (delegationsToU.some((d) => d.toUserId === u.id && live(d, now))) return true;
  if ([...p.userGroupsById.values()].some((g) => g.managerIds.includes(u.id))) return true;
  if ([...p.deviceGroupsById.values()].some((g) => g.managerIds.includes(u.id))) return true;
  if ([...p.usersById.values()].some((x) => x.managerId === u.id && !x.disabled)) return true;
  const mine = new Set((p.groupsOfUser.get(u.id) ?? []).map((g) => p.userGroupsById.get(g)?.name));
  return [...p.workflows.values()].some((w) =>
    w.levels.some(
      (l) =>
        (l.authority.kind === 'users' && l.authority.users.includes(u.username)) ||
        (l.authority.kind === 'group-members' && mine.has(l.authority.group)),
    ),
  );
}

/** Delegations to `actor` in force at `now` from one of `approvers` (never from the requester). */
function delegatedFrom(r: ApprovalRequest, actor: User, delegations: Delegation[], approvers: number[], now: number): number | null {
  const d = delegations.find(
    (x) =>
      x.toUserId === actor.id &&
      x.revokedAt === null &&
      x.startsAt <= now &&
      now < x.endsAt &&
      approvers.includes(x.fromUserId) &&
      x.fromUserId !== r.requesterId,
  );
  return d ? d.fromUserId : null;
}

/** Approvers of `r` at any level (escalation included), the requester excluded. */
export function anyLevelApprovers(r: ApprovalRequest): number[] {
  return [...new Set(r.route.levels.flatMap((_, i) => levelApprovers(r, i)))];
}

/**
 * May `actor` see `r` (and so learn its status)? Admins, the requester, its approvers at any level
 * (directly or for a delegator), and anyone who decided it. Checked before any state is revealed.
 */
export function maySeeRequest(
  r: ApprovalRequest,
  actor: User,
  delegations: Delegation[],
  decisions: Pick<ApprovalDecision, 'approverId'>[],
  now: number,
): boolean {
  if (actor.isAdmin || r.requesterId === actor.id) return true;
  if (decisions.some((d) => d.approverId === actor.id)) return true;
  const approvers = anyLevelApprovers(r);
  return approvers.includes(actor.id) || delegatedFrom(r, actor, delegations, approvers, now) !== null;
}

/** Revoke: an approver of any level, a delegate of one, or an admin. */
export function mayRevoke(r: ApprovalRequest, actor: User, delegations: Delegation[], now: number): boolean {
  if (actor.isAdmin) return true;
  const approvers = anyLevelApprovers(r);
  return approvers.includes(actor.id) || delegatedFrom(r, actor, delegations, approvers, now) !== null;
}

/** Escalate: an approver of the current level, a delegate of one, or an admin. */
export function mayEscalate(r: ApprovalRequest, actor: User, delegations: Delegation[], now: number): boolean {
  if (actor.isAdmin) return true;
  const approvers = levelApprovers(r, r.currentLevel);
  return approvers.includes(actor.id) || delegatedFrom(r, actor, delegations, approvers, now) !== null;
}

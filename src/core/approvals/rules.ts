// Pure rules of the approval lifecycle: deadlines and who may decide which level.
import type { ApprovalDecision, ApprovalRequest, ApprovalStatus, Delegation, User } from '../types.js';

/** The status a reader must see: a waiting request past its deadline is expired, whatever the sweeper did. */
export function effectiveStatus(r: Pick<ApprovalRequest, 'status' | 'expiresAt'>, now: number): ApprovalStatus {
  if (r.status === 'waiting' && r.expiresAt !== null && now >= r.expiresAt) return 'expired';
  return r.status;
}

/** Everyone who may decide a level: its approvers plus those added by escalation. */
export function levelApprovers(r: ApprovalRequest, level: number): number[] {
  const l = r.route.levels[level];
  if (!l) return [];
  return [...new Set([...l.approverIds, ...(l.escalatedApproverIds ?? [])])].filter((id) => id !== r.requesterId);
}

export type Eligibility = { ok: true; onBehalfOf: number | null } | { ok: false; why: string };

/**
 * May `actor` decide the current level of `r`? Directly, through an active delegation from an
 * approver, or as an admin. One person counts once per request: whoever decided an earlier level
 * (directly or for someone) cannot decide a later one, so multi-level approval means several people.
 */
export function eligibility(
  r: ApprovalRequest,
  actor: User,
  delegations: Delegation[],
  decisions: ApprovalDecision[],
  now: number,
): Eligibility {
  const approvers = levelApprovers(r, r.currentLevel);
  let onBehalfOf: number | null = null;
  let ok = approvers.includes(actor.id);
  if (!ok) {
    const d = delegations.find(
      (x) =>
        x.toUserId === actor.id &&
        x.revokedAt === null &&
        x.startsAt <= now &&
        now < x.endsAt &&
        approvers.includes(x.fromUserId) &&
        x.fromUserId !== r.requesterId,
    );
    if (d) {
      ok = true;
      onBehalfOf = d.fromUserId;
    }
  }
  if (!ok && actor.isAdmin) ok = true;
  if (!ok) return { ok: false, why: `you are not an approver of request #${r.id} at level ${r.currentLevel + 1}` };
  const me = onBehalfOf ?? actor.id;
  for (const d of decisions) {
    const who = d.onBehalfOf ?? d.approverId;
    if (d.level === r.currentLevel && (who === me || d.approverId === actor.id))
      return { ok: false, why: `you already decided level ${r.currentLevel + 1} of request #${r.id}` };
    if (d.level < r.currentLevel && (who === me || d.approverId === actor.id))
      return {
        ok: false,
        why: `you approved level ${d.level + 1} of request #${r.id}; another approver must decide level ${r.currentLevel + 1}`,
      };
  }
  return { ok: true, onBehalfOf };
}

// Approval requests and decide() answers, with user ids turned into names.
import type { PolicySnapshot } from '../core/policy/snapshot.js';
import type { ApprovalDecision, ApprovalRequest, Decision } from '../core/types.js';
import { effectiveStatus, levelApprovers } from '../core/approvals/rules.js';
import { iso } from './time.js';
import { personById } from './people.js';

export function presentApproval(p: PolicySnapshot, r: ApprovalRequest, now: number, decisions?: ApprovalDecision[]) {
  const status = effectiveStatus(r, now);
  const names = (ids: number[]) => ids.map((id) => personById(p, id));
  const level = r.route.levels[r.currentLevel];
  const device = p.devicesById.get(r.deviceId);
  return {
    id: r.id,
    status,
    requester: personById(p, r.requesterId),
    device: device?.name ?? `#${r.deviceId}`,
    account: (p.accountsOfDevice.get(r.deviceId) ?? []).find((a) => a.id === r.accountId)?.name ?? `#${r.accountId}`,
    protocol: r.protocol,
    reason: r.reason,
    kind: r.kind,
    createdAt: iso(r.createdAt),
    expiresAt: iso(r.expiresAt),
    decidedAt: iso(r.decidedAt),
    decidedBy: r.decidedBy === null ? null : personById(p, r.decidedBy),
    comment: r.decisionComment,
    autoApproved: r.autoApproved,
    grantStart: iso(r.grantStart),
    grantEnd: iso(r.grantEnd),
    clientAddress: r.clientAddr,
    route: { source: r.route.source, name: r.route.sourceName, why: r.route.why },
    currentLevel: r.currentLevel + 1,
    levels: r.route.levels.map((l, i) => ({
      level: i + 1,
      authority: l.authority,
      quorum: l.quorum,
      escalateAfterMinutes: l.escalateAfterMinutes,
      approvers: names(levelApprovers(r, i)),
      escalated: !!l.escalatedApproverIds,
    })),
    /** The guide's "Approver Manager": who can decide the request now. */
    approverManager: status === 'waiting' && level ? names(levelApprovers(r, r.currentLevel)) : [],
    decisions: decisions?.map((d) => ({
      level: d.level + 1,
      by: personById(p, d.approverId),
      onBehalfOf: d.onBehalfOf === null ? null : personById(p, d.onBehalfOf),
      decision: d.decision,
      channel: d.channel,
      comment: d.comment,
      at: iso(d.createdAt),
    })),
  };
}

export function presentDecision(p: PolicySnapshot, d: Decision) {
  if (d.outcome !== 'approval-required')
    return { outcome: d.outcome, why: d.why, ...(d.outcome === 'allowed' ? { grant: d.grantId ?? null } : {}) };
  return {
    outcome: d.outcome,
    why: d.why,
    requireReason: d.requireReason,
    noEligibleApprover: d.noApprover,
    requesterIsApprover: d.requesterIsApprover,
    route: {
      source: d.route.source,
      name: d.route.sourceName,
      levels: d.route.levels.map((l, i) => ({
        level: i + 1,
        authority: l.authority,
        quorum: l.quorum,
        escalateAfterMinutes: l.escalateAfterMinutes,
        approvers: l.approverIds.map((id) => personById(p, id)),
      })),
    },
    approverManager: (d.route.levels[0]?.approverIds ?? []).map((id) => personById(p, id)),
  };
}

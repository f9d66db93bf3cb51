// Presenters choose the fields a response shows (CLI --json and the API share them). Secrets, password
// hashes and tokens have no field here, so they cannot leak through a response.
import type { PolicySnapshot } from '../core/policy/snapshot.js';
import type { AccessRule, ApprovalDecision, ApprovalRequest, Decision, Device, DeviceGroup, User, UserGroup, Workflow } from '../core/types.js';
import { authorityLabel } from '../core/policy/decide.js';
import { effectiveStatus, levelApprovers } from '../core/approvals/rules.js';

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export function presentUser(p: PolicySnapshot, u: User) {
  return {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    email: u.email,
    manager: u.managerId === null ? null : p.userName(u.managerId),
    admin: u.isAdmin,
    disabled: u.disabled,
    source: u.source,
    groups: (p.groupsOfUser.get(u.id) ?? []).map((g) => p.userGroupsById.get(g)?.name),
  };
}

export function presentDevice(p: PolicySnapshot, d: Device) {
  return {
    id: d.id,
    name: d.name,
    host: d.host,
    ports: d.ports,
    protocols: d.protocols,
    group: d.groupId === null ? null : (p.deviceGroupsById.get(d.groupId)?.name ?? null),
    hostKey: d.hostKey,
    enabled: d.enabled,
    accounts: (p.accountsOfDevice.get(d.id) ?? []).map((a) => ({ name: a.name, secretKind: a.secretKind, default: a.isDefault })),
  };
}

export function presentApproval(p: PolicySnapshot, r: ApprovalRequest, now: number, decisions?: ApprovalDecision[]) {
  const status = effectiveStatus(r, now);
  const names = (ids: number[]) => ids.map((id) => p.userName(id));
  const level = r.route.levels[r.currentLevel];
  const device = p.devicesById.get(r.deviceId);
  return {
    id: r.id,
    status,
    requester: p.userName(r.requesterId),
    device: device?.name ?? `#${r.deviceId}`,
    account: (p.accountsOfDevice.get(r.deviceId) ?? []).find((a) => a.id === r.accountId)?.name ?? `#${r.accountId}`,
    protocol: r.protocol,
    reason: r.reason,
    kind: r.kind,
    createdAt: iso(r.createdAt),
    expiresAt: iso(r.expiresAt),
    decidedAt: iso(r.decidedAt),
    decidedBy: r.decidedBy === null ? null : p.userName(r.decidedBy),
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
      by: p.userName(d.approverId),
      onBehalfOf: d.onBehalfOf === null ? null : p.userName(d.onBehalfOf),
      decision: d.decision,
      channel: d.channel,
      comment: d.comment,
      at: iso(d.createdAt),
    })),
  };
}

export function presentDecision(p: PolicySnapshot, d: Decision) {
  if (d.outcome !== 'approval-required') return { outcome: d.outcome, why: d.why, ...(d.outcome === 'allowed' ? { grant: d.grantId ?? null } : {}) };
  return {
    outcome: d.outcome,
    why: d.why,
    requireReason: d.requireReason,
    noEligibleApprover: d.noApprover,
    requesterIsApprover: d.requesterIsApprover,
    route: {
      source: d.route.source,
      name: d.route.sourceName,
      levels: d.route.levels.map((l, i) => ({ level: i + 1, authority: l.authority, quorum: l.quorum, escalateAfterMinutes: l.escalateAfterMinutes, approvers: l.approverIds.map((id) => p.userName(id)) })),
    },
    approverManager: (d.route.levels[0]?.approverIds ?? []).map((id) => p.userName(id)),
  };
}

// ---- API presenters (console and JSON API)

export function presentUserGroup(p: PolicySnapshot, g: UserGroup) {
  return {
    id: g.id,
    name: g.name,
    requireApproval: g.requireApproval,
    requireReason: g.requireReason,
    managers: g.managerIds.map((id) => p.userName(id)),
    members: g.memberIds.map((id) => p.userName(id)),
  };
}

export function presentDeviceGroup(p: PolicySnapshot, g: DeviceGroup) {
  return {
    id: g.id,
    name: g.name,
    requireApproval: g.requireApproval,
    requireReason: g.requireReason,
    managers: g.managerIds.map((id) => p.userName(id)),
    devices: [...p.devicesById.values()].filter((d) => d.groupId === g.id).map((d) => d.name),
  };
}

export function presentAccessRule(p: PolicySnapshot, r: AccessRule) {
  return {
    id: r.id,
    userGroup: p.userGroupsById.get(r.userGroupId)?.name ?? `#${r.userGroupId}`,
    deviceGroup: p.deviceGroupsById.get(r.deviceGroupId)?.name ?? `#${r.deviceGroupId}`,
    protocols: r.protocols,
    allowPortForwarding: r.allowPortForwarding,
  };
}

export function presentWorkflow(p: PolicySnapshot, w: Workflow) {
  return {
    id: w.id,
    name: w.name,
    userGroup: p.userGroupsById.get(w.userGroupId)?.name ?? `#${w.userGroupId}`,
    deviceGroup: p.deviceGroupsById.get(w.deviceGroupId)?.name ?? `#${w.deviceGroupId}`,
    levels: w.levels.map((l, i) => ({ level: i + 1, authority: authorityLabel(l.authority), quorum: l.quorum, escalateAfterMinutes: l.escalateAfterMinutes })),
  };
}

export function presentSession(
  p: PolicySnapshot,
  r: { id: number; user_id: number; device_id: number; account_id: number; protocol: string; approval_id: number | null; client_addr: string | null; node_id: string; started_at: number; ended_at: number | null; end_reason: string | null; bytes_in: number; bytes_out: number; recording?: string | null; recording_deleted_at?: number | null },
) {
  return {
    id: r.id,
    user: p.userName(r.user_id),
    device: p.devicesById.get(r.device_id)?.name ?? `#${r.device_id}`,
    account: (p.accountsOfDevice.get(r.device_id) ?? []).find((a) => a.id === r.account_id)?.name ?? `#${r.account_id}`,
    protocol: r.protocol,
    approvalId: r.approval_id,
    clientAddress: r.client_addr,
    node: r.node_id,
    startedAt: iso(r.started_at),
    endedAt: iso(r.ended_at),
    endReason: r.end_reason,
    live: r.ended_at === null,
    bytesIn: Number(r.bytes_in),
    bytesOut: Number(r.bytes_out),
    /** A recording exists (GET /api/v1/sessions/:id/recording, admins). */
    recording: !!r.recording && !r.recording_deleted_at,
  };
}

export function presentAudit(r: { id: number; at: number; actor: string; channel: string; action: string; target_type: string | null; target_id: string | null; details: string }) {
  return { id: r.id, at: iso(r.at), actor: r.actor, channel: r.channel, action: r.action, targetType: r.target_type, targetId: r.target_id, details: JSON.parse(r.details) as Record<string, unknown> };
}

/** An API token as its owner sees it: never the token itself (shown once, at creation) nor its hash. */
export function presentToken(t: { id: number; name: string; prefix: string; createdAt: number; expiresAt: number | null; lastUsedAt: number | null; revokedAt: number | null; secondFactor: boolean }) {
  return { id: t.id, name: t.name, prefix: t.prefix, createdAt: iso(t.createdAt), expiresAt: iso(t.expiresAt), lastUsedAt: iso(t.lastUsedAt), revokedAt: iso(t.revokedAt), secondFactor: t.secondFactor };
}

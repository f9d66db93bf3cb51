// Creating an approval request inside its transaction: reuse a waiting one (reminding its approvers) or insert
// the new request with its audit record and events.
import type { TxStore } from '../ports/store.js';
import type { ApprovalRequest, ApprovalStatus, Decision, Device, Protocol, User } from '../types.js';
import { effectiveStatus } from './rules.js';
import { escalateAt, type RequestInput } from './inputs.js';

export interface CreateArgs {
  input: RequestInput;
  user: User;
  device: Device;
  decision: Extract<Decision, { outcome: 'approval-required' }>;
  reason: string | null;
  reservation: boolean;
  auto: boolean;
  now: number;
  reuseMs: number;
  validityMs: number;
  window: { grantStart: number | null; grantEnd: number | null; expiresAt: number | null };
  /** Protocols whose waiting request this one reuses: those one grant would cover (approval.grant.scope). */
  reuseProtocols?: Protocol[];
}

export async function createInTx(tx: TxStore, c: CreateArgs): Promise<{ request: ApprovalRequest; created: boolean; reminded: boolean }> {
  const { input, user, device, decision, reason, reservation, auto, now, reuseMs, validityMs } = c;
  const { grantStart, grantEnd, expiresAt } = c.window;
  if (!reservation && !auto) {
    // With scope 'account', an sftp attempt while the ssh request waits joins it: one request, one mail.
    for (const protocol of c.reuseProtocols?.length ? c.reuseProtocols : [input.protocol]) {
      const existing = await tx.findWaiting(user.id, device.id, decision.accountId, protocol, 'instant');
      if (existing && effectiveStatus(existing, now) === 'waiting')
        return { request: existing, created: false, reminded: await remind(tx, existing, reuseMs, now) };
    }
  }
  const status: ApprovalStatus = auto ? 'approved' : 'waiting';
  const request = await tx.insertRequest({
    requesterId: user.id,
    deviceId: device.id,
    accountId: decision.accountId,
    protocol: input.protocol,
    reason,
    status,
    kind: reservation ? 'reservation' : 'instant',
    createdAt: now,
    expiresAt,
    decidedAt: auto ? now : null,
    currentLevel: 0,
    levelStartedAt: now,
    route: decision.route,
    autoApproved: auto,
    grantStart: auto && !reservation ? now : grantStart,
    grantEnd: auto && !reservation ? now + validityMs : grantEnd,
    clientAddr: input.clientAddr ?? null,
    lastNotifiedAt: now,
    decidedBy: auto ? user.id : null,
    decisionComment: auto ? 'auto-approved: the requester is an eligible approver' : null,
    escalateAt: escalateAt(decision.route.levels[0], now),
  });
  const actor = { actor: user.username, actorId: user.id, channel: input.channel };
  await tx.appendAudit(
    {
      ...actor,
      action: 'approval.create',
      targetType: 'approval',
      targetId: request.id,
      details: { device: device.name, protocol: input.protocol, reason, kind: request.kind, route: decision.why },
    },
    now,
  );
  await tx.appendEvent('approval.created', { request }, now);
  if (auto) {
    await tx.appendAudit({ ...actor, channel: 'auto', action: 'approval.auto-approve', targetType: 'approval', targetId: request.id }, now);
    await tx.appendEvent('approval.approved', { request }, now);
  }
  return { request, created: true, reminded: false };
}

/** A reused request reminds its approvers again, at most once per reuse interval. */
async function remind(tx: TxStore, r: ApprovalRequest, reuseMs: number, now: number): Promise<boolean> {
  if (r.lastNotifiedAt !== null && now - r.lastNotifiedAt < reuseMs) return false;
  const reminded = await tx.updateRequest(r.id, { status: 'waiting' }, { lastNotifiedAt: now });
  if (reminded) {
    r.lastNotifiedAt = now;
    await tx.appendEvent('approval.reminder', { request: r }, now);
  }
  return reminded;
}

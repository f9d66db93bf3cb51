// The gate in front of every upstream session: decide(), then — when approval is needed — create the
// request (or reuse the waiting one) and wait for its decision. We subscribe to the event bus before
// the request exists, so no decision can slip through between the two; decisions made by any process
// or node arrive as events within one poll interval.
import { GatehouseError } from '../../core/errors.js';
import { effectiveStatus, levelApprovers } from '../../core/approvals/rules.js';
import type { ApprovalRequest, Protocol, User } from '../../core/types.js';
import type { Services } from '../../services.js';
import { printable } from './target.js';
import { capitalise } from './terminal.js';

export interface AccessQuery {
  user: User;
  device: string;
  account: string | null;
  protocol: Protocol;
  reason: string | null;
  clientAddr: string;
}

export type Access = {
  ok: true;
  approvalId: number | null;
  grantEnd: number | null;
  allowPortForwarding: boolean;
  deviceId: number;
  accountId: number;
  /** True when this connection waited for the approval (the user is told it came through). */
  waited: boolean;
};
export type Refusal = { ok: false; message: string; exitCode: number };

/** What a waiting connection shows; the gate drives it. */
export interface WaitView {
  /** The request is waiting (first call) or changed while waiting (a level approved, escalation). */
  show(w: WaitingInfo): void;
  /** The user asked to cancel (q / Ctrl-C). Set by the gate. */
  onCancel?: () => void;
  /** The wait is over, whatever the outcome; the view stops drawing. */
  end(): void;
}

export interface WaitingInfo {
  request: ApprovalRequest;
  reused: boolean;
  device: string;
  account: string;
  approvers: string[];
  /** 1-based level and how many there are. */
  level: number;
  levels: number;
  why: string;
}

export const NO_ACCESS_MESSAGE = (device: string) =>
  `You cannot connect to '${printable(device, 64)}': it does not exist or no access rule lets you reach it over this protocol.`;

/**
 * Whether connecting needs a reason typed now: the target needs approval with a reason over one of
 * `protocols`, and no request of the user for it is already waiting (a reconnect reuses that one).
 */
export async function needsReason(s: Services, user: User, device: string, account: string | null, protocols: Protocol[]): Promise<boolean> {
  const params = await s.params.params();
  const wanted: Protocol[] = [];
  let accountId: number | null = null;
  for (const p of protocols) {
    const d = await s.approvals.decide(user.username, device, p, account ?? undefined);
    if (d.outcome === 'approval-required' && d.requireReason && !d.noApprover && !params.bool(`disable.instant.approval.for.${p}`)) {
      wanted.push(p);
      accountId = d.accountId;
    }
  }
  if (!wanted.length) return false;
  const deviceId = (await s.policy.current()).devicesByName.get(device)?.id;
  const now = s.clock.now();
  const waiting = await s.store.listRequests({ requesterId: user.id, status: 'waiting', limit: 100 });
  return !waiting.some((r) => r.deviceId === deviceId && r.accountId === accountId && wanted.includes(r.protocol) && r.kind === 'instant' && effectiveStatus(r, now) === 'waiting');
}

export async function obtainAccess(s: Services, q: AccessQuery, view: WaitView, abort: AbortSignal): Promise<Access | Refusal> {
  let decision = await s.approvals.decide(q.user.username, q.device, q.protocol, q.account ?? undefined);
  if (decision.outcome === 'approval-required') {
    // About to ask: first take in events not polled yet, so an approval made a moment ago elsewhere counts.
    await s.bus.kick();
    decision = await s.approvals.decide(q.user.username, q.device, q.protocol, q.account ?? undefined);
  }
  const p = await s.policy.current();
  const device = p.devicesByName.get(q.device);
  if (decision.outcome === 'denied' || !device) return { ok: false, message: NO_ACCESS_MESSAGE(q.device), exitCode: 1 };
  const base = { ok: true as const, allowPortForwarding: decision.allowPortForwarding, deviceId: device.id, accountId: decision.accountId, waited: false };
  // Allowed by the rule alone (no grant), or by the grant of an earlier approval.
  const allowed = (grantId: number | undefined): Access => ({ ...base, approvalId: grantId ?? null, grantEnd: grantId !== undefined ? (s.grants.window(grantId)?.end ?? null) : null });
  if (decision.outcome === 'allowed') return allowed(decision.grantId);

  // Subscribe first: events of this user are kept until we know which request is ours.
  const early: ApprovalRequest[] = [];
  let onRequest: ((r: ApprovalRequest) => void) | null = null;
  const unsubscribe = s.bus.subscribe((e) => {
    const r = e.payload.request as ApprovalRequest | undefined;
    if (!r || r.requesterId !== q.user.id) return;
    if (onRequest) onRequest(r);
    else early.push(r);
  });
  try {
    let res;
    try {
      res = await s.approvals.request({
        username: q.user.username, device: q.device, account: q.account ?? undefined, protocol: q.protocol, reason: q.reason, clientAddr: q.clientAddr, channel: 'ssh',
      });
    } catch (err) {
      if (err instanceof GatehouseError) return { ok: false, message: refusalText(err, q), exitCode: 1 };
      throw err;
    }
    if (res.outcome === 'allowed') return allowed(res.decision.outcome === 'allowed' ? res.decision.grantId : undefined);
    if (res.outcome === 'approved') return { ...base, approvalId: res.request.id, grantEnd: res.request.grantEnd };
    return await waitFor(s, res.request, !res.created, q, base, view, abort, early, (fn) => (onRequest = fn));
  } finally {
    unsubscribe();
  }
}

function refusalText(err: GatehouseError, q: AccessQuery): string {
  switch (err.code) {
    case 'reason_required':
      return `${capitalise(err.message)}. Connect again and type it at the prompt, or pass it with -o SetEnv=GATEHOUSE_REASON="…".`;
    case 'no_approver':
      return `Access to ${q.device} needs approval, but ${err.message}.`;
    case 'forbidden':
      return err.message.startsWith('instant approval') ? `${capitalise(err.message)}.` : NO_ACCESS_MESSAGE(q.device);
    default:
      return `${capitalise(err.message)}.`;
  }
}

function waitFor(
  s: Services,
  first: ApprovalRequest,
  reused: boolean,
  q: AccessQuery,
  base: Omit<Access, 'approvalId' | 'grantEnd' | 'waited'>,
  view: WaitView,
  abort: AbortSignal,
  early: ApprovalRequest[],
  listen: (fn: (r: ApprovalRequest) => void) => void,
): Promise<Access | Refusal> {
  return new Promise((resolve) => {
    let current = first;
    let done = false;
    let expiryTimer: NodeJS.Timeout | null = null;

    const finish = (out: Access | Refusal) => {
      if (done) return;
      done = true;
      if (expiryTimer) clearTimeout(expiryTimer);
      abort.removeEventListener('abort', onAbort);
      view.onCancel = undefined;
      view.end();
      resolve(out);
    };
    const onAbort = () => finish({ ok: false, message: 'the client left; the request keeps waiting', exitCode: 255 });

    const info = async (r: ApprovalRequest): Promise<WaitingInfo> => {
      const p = await s.policy.current();
      const who = (id: number) => {
        const u = p.usersById.get(id);
        return u ? (u.displayName && u.displayName !== u.username ? `${printable(u.displayName, 60)} (${u.username})` : u.username) : `#${id}`;
      };
      return {
        request: r,
        reused,
        device: q.device,
        account: (p.accountsOfDevice.get(r.deviceId) ?? []).find((a) => a.id === r.accountId)?.name ?? q.account ?? '?',
        approvers: levelApprovers(r, r.currentLevel).map(who),
        level: r.currentLevel + 1,
        levels: r.route.levels.length,
        why: r.route.why,
      };
    };

    const decidedBy = async (r: ApprovalRequest) => {
      if (r.decidedBy === null) return 'an approver';
      const u = (await s.policy.current()).usersById.get(r.decidedBy);
      return u ? u.username : 'an approver';
    };

    const armExpiry = (r: ApprovalRequest) => {
      if (expiryTimer) clearTimeout(expiryTimer);
      if (r.expiresAt === null) return;
      // The sweeper expires it and the event arrives; reading it at the deadline covers a late sweeper.
      const ms = Math.min(2 ** 31 - 1, Math.max(0, r.expiresAt - s.clock.now()) + 250);
      expiryTimer = setTimeout(() => {
        s.approvals
          .get(r.id)
          .then((now) => now && update(now))
          .catch(() => {});
      }, ms);
      expiryTimer.unref();
    };

    const update = (r: ApprovalRequest) => {
      if (done || r.id !== current.id) return;
      void (async () => {
        switch (r.status) {
          case 'approved':
            return finish({ ...base, approvalId: r.id, grantEnd: r.grantEnd, waited: true });
          case 'rejected': {
            const comment = r.decisionComment ? printable(r.decisionComment, 1000) : '';
            return finish({ ok: false, message: `Request #${r.id} was rejected by ${await decidedBy(r)}${comment ? `: ${comment}` : ' (no comment given)'}`, exitCode: 1 });
          }
          case 'expired':
            return finish({ ok: false, message: `Request #${r.id} expired: nobody decided it in time. Connect again to ask again.`, exitCode: 1 });
          case 'cancelled':
            return finish({ ok: false, message: `Request #${r.id} was cancelled.`, exitCode: 1 });
          case 'revoked':
            return finish({ ok: false, message: `Request #${r.id} was revoked.`, exitCode: 1 });
          case 'waiting': {
            // Reminders and partial votes change nothing the user sees; a level or escalation does.
            const changed = r.currentLevel !== current.currentLevel || levelApprovers(r, r.currentLevel).join() !== levelApprovers(current, current.currentLevel).join();
            current = r;
            armExpiry(r);
            if (changed) view.show(await info(r));
          }
        }
      })().catch(() => {});
    };

    view.onCancel = () => {
      if (done) return;
      s.approvals
        .cancel(current.id, q.user.username, 'ssh')
        .then(update)
        .catch(async () => {
          // Decided meanwhile: show whatever it became.
          const r = await s.approvals.get(current.id).catch(() => undefined);
          if (r) update(r);
        });
    };
    abort.addEventListener('abort', onAbort);
    if (abort.aborted) return onAbort();

    listen(update);
    void info(first).then((i) => !done && view.show(i));
    armExpiry(first);
    for (const r of early) update(r);
  });
}

// The SSH face of the access gate (core/access): it renders the gate's updates in a WaitView and its
// outcome as the text and exit code the client sees.
import { obtain, settle, type Approver, type Refused, type WaitingState } from '../../core/access/index.js';
import { effectiveStatus } from '../../core/approvals/rules.js';
import type { ApprovalRequest, Protocol, User } from '../../core/types.js';
import type { Services } from '../../services.js';
import { printable } from './target.js';
import { capitalise } from './terminal.js';
import { personById, personName } from '../../presenters/people.js';

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
export async function needsReason(
  s: Services,
  user: User,
  device: string,
  account: string | null,
  protocols: Protocol[],
): Promise<boolean> {
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
  return !waiting.some(
    (r) =>
      r.deviceId === deviceId &&
      r.accountId === accountId &&
      wanted.includes(r.protocol) &&
      r.kind === 'instant' &&
      effectiveStatus(r, now) === 'waiting',
  );
}

export async function obtainAccess(s: Services, q: AccessQuery, view: WaitView, abort: AbortSignal): Promise<Access | Refusal> {
  const stream = obtain(s, { ...q, channel: 'ssh' }, abort);
  view.onCancel = () => stream.cancel();
  let waiting = false;
  try {
    const out = await settle(stream, (u) => {
      if (u.kind === 'reminded') return;
      waiting = true;
      view.show(waitingInfo(u));
    });
    if (out.kind === 'granted') {
      const { kind: _, ...rest } = out;
      return { ok: true, ...rest };
    }
    if (out.reason === 'error') throw out.error;
    // The decider as every other channel names them: "Display Name (username)".
    const by = out.reason === 'rejected' ? out.request.decidedBy : null;
    const shown = by === null ? out : { ...out, decidedBy: personById(await s.policy.current(), by) };
    return { ok: false, message: refusalText(shown, q), exitCode: out.reason === 'left' ? 255 : 1 };
  } finally {
    view.onCancel = undefined;
    if (waiting) view.end();
  }
}

function who(a: Approver): string {
  if (a.username === undefined) return `#${a.id}`;
  return personName({ username: a.username, displayName: a.displayName ? printable(a.displayName, 60) : '' });
}

function waitingInfo(w: WaitingState): WaitingInfo {
  return {
    request: w.request,
    reused: w.reused,
    device: w.device,
    account: w.account,
    approvers: w.approvers.map(who),
    level: w.level,
    levels: w.levels,
    why: w.why,
  };
}

function refusalText(out: Exclude<Refused, { reason: 'error' }>, q: AccessQuery): string {
  switch (out.reason) {
    case 'denied':
      return NO_ACCESS_MESSAGE(q.device);
    case 'reason-required':
      return `${capitalise(out.message)}. Connect again and type it at the prompt, or pass it with -o SetEnv=GATEHOUSE_REASON="…".`;
    case 'no-approver':
      return `Access to ${q.device} needs approval, but ${out.message}.`;
    case 'not-allowed':
      return `${capitalise(out.message)}.`;
    case 'left':
      return 'the client left; the request keeps waiting';
    case 'rejected': {
      const comment = out.comment ? printable(out.comment, 1000) : '';
      return `Request #${out.request.id} was rejected by ${out.decidedBy}${comment ? `: ${comment}` : ' (no comment given)'}`;
    }
    case 'expired':
      return `Request #${out.request.id} expired: nobody decided it in time. Connect again to ask again.`;
    case 'cancelled':
      return `Request #${out.request.id} was cancelled.`;
    case 'revoked':
      return `Request #${out.request.id} was revoked.`;
  }
}

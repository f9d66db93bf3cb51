// The MySQL face of the access gate (core/access). A stock client shows nothing while its login is
// held, so the wait is silent: the outcome is the final OK, or an ERR naming the request and the
// decider's comment. A request still waiting at the hold deadline gets an ERR with its number (the
// request keeps waiting; connecting again after the approval goes straight through).
import { obtain, settle, type Approver, type Refused, type WaitingState } from '../../core/access/index.js';
import type { User } from '../../core/types.js';
import { personById, personName } from '../../presenters/people.js';
import type { Services } from '../../services.js';

export type MysqlAccess =
  | { ok: true; approvalId: number | null; grantEnd: number | null; deviceId: number; accountId: number; waited: boolean }
  | { ok: false; message: string; denied: boolean };

export interface GateQuery {
  user: User;
  device: string;
  account: string | null;
  reason: string | null;
  clientAddr: string;
  /** The client went away: stop waiting. */
  signal: AbortSignal;
  /** How long a login may be held for a decision. */
  holdMs: number;
}

/** One answer for a wrong password, an unknown device and a forbidden one: nobody probes names. */
export const NO_ACCESS = (target: string) =>
  `Access denied for '${clean(target, 200)}': the password is wrong, or the device does not exist, or no access rule lets you reach it over MySQL`;

export async function obtainAccess(s: Services, q: GateQuery): Promise<MysqlAccess> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  q.signal.addEventListener('abort', onAbort, { once: true });
  let waiting: WaitingState | null = null;
  let deadline: NodeJS.Timeout | null = null;
  const stream = obtain(
    s,
    {
      user: q.user,
      device: q.device,
      account: q.account,
      protocol: 'mysql',
      reason: q.reason,
      clientAddr: q.clientAddr,
      channel: 'db',
    },
    stop.signal,
  );
  try {
    const out = await settle(stream, (u) => {
      if (u.kind === 'reminded') return;
      waiting = u;
      if (!deadline) {
        deadline = setTimeout(() => stop.abort(), q.holdMs);
        deadline.unref();
      }
      s.log.info({ mysql: q.device, user: q.user.username, request: u.request.id }, 'mysql login held for approval');
    });
    if (out.kind === 'granted') {
      const { kind: _, allowPortForwarding: __, ...rest } = out;
      return { ok: true, ...rest };
    }
    if (out.reason === 'error') throw out.error;
    if (out.reason === 'left') return { ok: false, message: stillWaiting(waiting), denied: false };
    const by =
      out.reason === 'rejected' && out.request.decidedBy !== null ? personById(await s.policy.current(), out.request.decidedBy) : '';
    return { ok: false, message: refusalText(out, by, q.device), denied: out.reason === 'denied' };
  } finally {
    if (deadline) clearTimeout(deadline);
    q.signal.removeEventListener('abort', onAbort);
  }
}

function who(a: Approver): string {
  if (a.username === undefined) return `#${a.id}`;
  return personName({ username: a.username, displayName: a.displayName ? clean(a.displayName, 60) : '' });
}

function stillWaiting(w: WaitingState | null): string {
  if (!w) return 'the connection ended while waiting';
  const until = w.until === null ? '' : ` until ${new Date(w.until).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const by = w.approvers.length ? ` by ${w.approvers.slice(0, 5).map(who).join(', ')}` : '';
  return `Request #${w.request.id} is waiting for approval${by}${until}. Connect again once it is approved; the request keeps waiting`;
}

function refusalText(out: Exclude<Refused, { reason: 'error' | 'left' }>, by: string, device: string): string {
  switch (out.reason) {
    case 'denied':
      return '';
    case 'reason-required':
      return `${out.message}: answer the reason question when connecting, or ask ahead with 'gatehouse approvals request ${clean(device, 64)} --protocol mysql --reason …'`;
    case 'no-approver':
      return `Access to ${clean(device, 64)} needs approval, but ${out.message}`;
    case 'not-allowed':
      return out.message;
    case 'rejected': {
      const comment = out.comment ? clean(out.comment, 1000) : '';
      return `Request #${out.request.id} was rejected by ${by}${comment ? `: ${comment}` : ' (no comment given)'}`;
    }
    case 'expired':
      return `Request #${out.request.id} expired: nobody decided it in time. Connect again to ask again`;
    case 'cancelled':
      return `Request #${out.request.id} was cancelled`;
    case 'revoked':
      return `Request #${out.request.id} was revoked`;
  }
}

/** Text for an error message: no control or bidi characters, bounded. */
export function clean(s: string, max: number): string {
  const c = s.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '');
  return c.length > max ? `${c.slice(0, max)}…` : c;
}

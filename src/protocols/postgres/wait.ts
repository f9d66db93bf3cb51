// The PostgreSQL face of the access gate: updates become NoticeResponses (libpq prints them while it
// connects, before ReadyForQuery), the outcome an ErrorResponse carrying the decider's comment.
import { obtain, settle, type Approver, type Granted, type Refused, type WaitingState } from '../../core/access/index.js';
import { printable } from '../../core/target.js';
import type { User } from '../../core/types.js';
import type { Services } from '../../services.js';
import { personById, personName } from '../../presenters/people.js';

export interface PgAccessQuery {
  user: User;
  device: string;
  account: string | null;
  reason: string | null;
  clientAddr: string;
}

export async function pgAccess(
  s: Services,
  q: PgAccessQuery,
  notice: (text: string) => void,
  abort: AbortSignal,
): Promise<Granted | Exclude<Refused, { reason: 'error' }>> {
  const stream = obtain(s, { ...q, protocol: 'postgres', channel: 'db' }, abort);
  const out = await settle(stream, (u) => {
    if (u.kind === 'reminded') return;
    notice(waitingText(u, u.kind === 'escalated'));
  });
  if (out.kind === 'granted') return out;
  if (out.reason === 'error') throw out.error;
  const by = out.reason === 'rejected' ? out.request.decidedBy : null;
  if (out.reason === 'rejected' && by !== null) return { ...out, decidedBy: personById(await s.policy.current(), by) };
  return out;
}

function who(a: Approver): string {
  if (a.username === undefined) return `#${a.id}`;
  return personName({ username: a.username, displayName: a.displayName ? printable(a.displayName, 60) : '' });
}

const clock = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';

export function waitingText(w: WaitingState, escalated: boolean): string {
  const approvers = w.approvers.map(who).join(', ') || 'nobody named yet';
  const level = w.levels > 1 ? ` (level ${w.level} of ${w.levels})` : '';
  const until = w.until !== null ? ` until ${clock(w.until)}` : '';
  const head = escalated ? `Gatehouse: request #${w.request.id} escalated` : `Gatehouse: request #${w.request.id} waiting`;
  const again = w.reused ? ' (your earlier request: still waiting)' : '';
  return `${head} for approval by ${approvers}${until}${level}${again}. Access to ${w.device} as ${w.account} starts once it is approved; Ctrl-C leaves (the request keeps waiting).`;
}

/** The one answer for a wrong password, an unknown device and a device the user may not reach. */
export const NO_ACCESS_TEXT = (raw: string) =>
  `Gatehouse: login as "${printable(raw, 130)}" failed: wrong password, or no device by that name that you may reach over PostgreSQL`;

export function refusalText(out: Exclude<Refused, { reason: 'error' }>, raw: string): string {
  switch (out.reason) {
    case 'denied':
      return NO_ACCESS_TEXT(raw);
    case 'reason-required':
      return `Gatehouse: ${out.message}: connect with PGOPTIONS='-c gatehouse.reason=your\\ reason'`;
    case 'no-approver':
    case 'not-allowed':
      return `Gatehouse: ${out.message}`;
    case 'left':
      return 'Gatehouse: the client left; the request keeps waiting';
    case 'rejected': {
      const comment = out.comment ? printable(out.comment, 1000) : '';
      return `Gatehouse: request #${out.request.id} was rejected by ${out.decidedBy}${comment ? `: ${comment}` : ' (no comment given)'}`;
    }
    case 'expired':
      return `Gatehouse: request #${out.request.id} expired: nobody decided it in time. Connect again to ask again.`;
    case 'cancelled':
      return `Gatehouse: request #${out.request.id} was cancelled.`;
    case 'revoked':
      return `Gatehouse: request #${out.request.id} was revoked.`;
  }
}

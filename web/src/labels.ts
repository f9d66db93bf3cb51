// The guide's words in the console: capitalised status labels (the API keeps them lower case) and the
// same "nobody" and Approver Manager wording the server's presenters/people.ts gives the CLI, SSH and mail.

const STATUS_LABELS: Record<string, string> = {
  waiting: 'Waiting',
  approved: 'Approved',
  rejected: 'Rejected',
  expired: 'Expired',
  cancelled: 'Cancelled',
  revoked: 'Revoked',
};

/** The API's approval statuses, in the guide's order. */
export const APPROVAL_STATUSES = Object.keys(STATUS_LABELS);

/** "Waiting", "Approved", …; any other status (sessions, mail) capitalised the same way. */
export function statusLabel(s: string): string {
  return STATUS_LABELS[s] ?? s.charAt(0).toUpperCase() + s.slice(1);
}

/** What every view says when a request names no approver (the server's NOBODY_NAMED). */
export const NOBODY_NAMED = 'nobody is named';

/** A list of people for one line, or NOBODY_NAMED when it is empty. */
export function peopleLine(names: readonly string[]): string {
  return names.length ? names.join(', ') : NOBODY_NAMED;
}

interface DecidedView {
  status: string;
  approverManager: readonly string[];
  decidedBy: string | null;
}

/** The Approver Manager cell: who can decide a waiting request, who decided a decided one. */
export function approverManagerText(v: DecidedView): string {
  if (v.status === 'waiting') return peopleLine(v.approverManager);
  return v.decidedBy && v.status !== 'expired' ? v.decidedBy : NOBODY_NAMED;
}

/** The verb for when a request ended: an expired request was not decided. */
export function endedVerb(status: string): string {
  return status === 'expired' ? 'expired' : status === 'cancelled' ? 'cancelled' : 'decided';
}

// What a link's page says about its request: why it cannot decide any more, or the request's details.
import type { PolicySnapshot } from '../../../core/policy/snapshot.js';
import type { ApprovalRequest } from '../../../core/types.js';
import { personById, personName } from '../../../presenters/people.js';
import type { TokenRow } from './links.js';
import { STALE, h } from './page.js';

/** How a request ended, in the words every view uses: "approved by Bob Manager (bob)", "expired". */
function ended(r: ApprovalRequest, p: PolicySnapshot | undefined): string {
  if (r.status === 'expired' || r.decidedBy === null || !p) return r.status;
  return `${r.status} by ${personById(p, r.decidedBy)}`;
}

/** Why this token cannot decide now (title, body), or null when it can. */
export function staleness(t: TokenRow, r: ApprovalRequest | undefined, p?: PolicySnapshot): [string, string] | null {
  if (!r) return [...STALE.unknown];
  if (t.used_at !== null) return [...STALE.used];
  if (r.status !== 'waiting')
    return [`Request #${r.id} is ${r.status}`, `This request is ${h(ended(r, p))} and can no longer be decided. Nothing was changed.`];
  if (t.dead_at !== null || t.level !== r.currentLevel)
    return [
      'Link no longer valid',
      `This link was for level ${t.level + 1} of request #${r.id}, which has been decided. Nothing was changed.`,
    ];
  return null;
}

/** The request as a table: who asks, for what, why, and until when. */
export function requestDetails(p: PolicySnapshot, r: ApprovalRequest): string {
  const u = p.usersById.get(r.requesterId);
  const acct = (p.accountsOfDevice.get(r.deviceId) ?? []).find((a) => a.id === r.accountId);
  const iso = (t: number | null) => (t ? new Date(t).toISOString() : 'never');
  const rows: [string, unknown][] = [
    ['Requester', `${personName(u, r.requesterId)}${u?.email ? `, ${u.email}` : ''}`],
    ['Device', p.devicesById.get(r.deviceId)?.name ?? `#${r.deviceId}`],
    ['Account', acct?.name ?? `#${r.accountId}`],
    ['Protocol', r.protocol],
    ['Client', r.clientAddr],
    ['Reason', r.reason],
    ['Requested', iso(r.createdAt)],
    ['Expires', iso(r.expiresAt)],
    ['Level', `${r.currentLevel + 1} of ${r.route.levels.length}`],
  ];
  return `<table>${rows.map(([k, v]) => `<tr><th>${h(k)}</th><td>${h(v)}</td></tr>`).join('')}</table>`;
}

// One way to show a person in every channel (console, CLI, SSH, mail, HTTP pages): "Display Name (username)".
import type { PolicySnapshot } from '../core/policy/snapshot.js';

/** What every view says when a request names no approver. */
export const NOBODY_NAMED = 'nobody is named';

export interface Named {
  username: string;
  displayName?: string | null;
}

/** "Display Name (username)", or the username alone when the display name is empty or the same. */
export function personName(u: Named | null | undefined, id?: number): string {
  if (!u) return id === undefined ? NOBODY_NAMED : `#${id}`;
  const display = (u.displayName ?? '').replace(/[\x00-\x1f\x7f]/g, '').trim();
  return display && display !== u.username ? `${display} (${u.username})` : u.username;
}

/** The person with this id in the policy snapshot, shown as personName does. */
export function personById(p: PolicySnapshot, id: number): string {
  return personName(p.usersById.get(id), id);
}

/** A list of people for one line: "A (a), B (b)", or NOBODY_NAMED when it is empty. */
export function peopleLine(names: readonly string[]): string {
  return names.length ? names.join(', ') : NOBODY_NAMED;
}

interface DecidedView {
  status: string;
  approverManager: readonly string[];
  decidedBy: string | null;
  decidedAt: string | null;
  expiresAt: string | null;
}

/** The Approver Manager cell: who can decide a waiting request, who decided a decided one. */
export function approverManagerText(v: DecidedView): string {
  if (v.status === 'waiting') return peopleLine(v.approverManager);
  return v.decidedBy && v.status !== 'expired' ? v.decidedBy : NOBODY_NAMED;
}

/** How a request ended: "approved by Bob Manager (bob) at <time>", "expired <time>" (nobody decided it). */
export function outcomeText(v: DecidedView): string | null {
  if (v.status === 'waiting') return null;
  if (v.status === 'expired') return `expired ${v.decidedAt ?? v.expiresAt ?? ''}`.trim();
  return `${v.status}${v.decidedBy ? ` by ${v.decidedBy}` : ''}${v.decidedAt ? ` at ${v.decidedAt}` : ''}`;
}

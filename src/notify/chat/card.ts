// What a chat message about a request says, whatever the chat: the request's facts, its state now ("✅
// Approved by Bob Manager (bob) in the console at 12:04"), and what the recipient can do (decide with the
// buttons, open the request page, or nothing). Slack (slack.ts) and Mattermost (mattermost.ts) render it.
import { createHash } from 'node:crypto';
import { effectiveStatus, levelApprovers } from '../../core/approvals/rules.js';
import type { PolicySnapshot } from '../../core/policy/snapshot.js';
import type { ApprovalDecision, ApprovalRequest, Channel } from '../../core/types.js';
import { personById } from '../../presenters/people.js';

/** `decide`: Approve and Reject buttons; `link`: only "Open in Gatehouse" (a second factor or a passkey is needed); `none`. */
export type Actions = 'decide' | 'link' | 'none';

export interface Card {
  requestId: number;
  title: string;
  fields: [string, string][];
  /** The state line: who decides now, or how it ended. */
  state: string;
  actions: Actions;
  url: string;
  /** Plain text, for notifications and clients that show no blocks. */
  fallback: string;
}

const WHERE: Record<Channel, string> = {
  web: 'in the console',
  api: 'through the API',
  cli: 'with the CLI',
  'email-link': 'from the email link',
  'email-reply': 'by email reply',
  ssh: 'in the SSH menu',
  db: 'from a database client',
  system: 'by Gatehouse',
  auto: 'automatically',
  slack: 'in Slack',
  mattermost: 'in Mattermost',
};

/** Printable, one line, bounded: names and reasons come from users. */
export function plain(text: string | null | undefined, max = 300): string {
  const s = (text ?? '').replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

const hhmm = (ms: number | null) => (ms === null ? '' : `${new Date(ms).toISOString().slice(11, 16)} UTC`);

export const requestUrl = (publicUrl: string, id: number) => `${publicUrl.replace(/\/+$/, '')}/approvals/${id}`;

/** "Approved by Bob Manager (bob) in the console at 12:04": the decision that ended it, when there is one. */
export function outcomeLine(p: PolicySnapshot, r: ApprovalRequest, decisions: ApprovalDecision[], now: number): string | null {
  const status = effectiveStatus(r, now);
  const by = (id: number | null) => (id === null ? '' : ` by ${personById(p, id)}`);
  const last = (what: 'approve' | 'reject') => [...decisions].reverse().find((d) => d.decision === what);
  if (status === 'approved') {
    if (r.autoApproved) return `✅ Approved automatically at ${hhmm(r.decidedAt)}`;
    const d = last('approve');
    return `✅ Approved${by(r.decidedBy)}${d ? ` ${WHERE[d.channel] ?? ''}` : ''} at ${hhmm(r.decidedAt)}`;
  }
  if (status === 'rejected') {
    const d = last('reject');
    const why = r.decisionComment ? `: “${plain(r.decisionComment, 500)}”` : '';
    return `❌ Rejected${by(r.decidedBy)}${d ? ` ${WHERE[d.channel] ?? ''}` : ''} at ${hhmm(r.decidedAt)}${why}`;
  }
  if (status === 'expired') return `⌛ Expired at ${hhmm(r.decidedAt ?? r.expiresAt)} without a decision`;
  if (status === 'cancelled') return `🚫 Cancelled by the requester at ${hhmm(r.decidedAt)}`;
  if (status === 'revoked') return `⛔ Revoked${by(r.decidedBy)} at ${hhmm(r.decidedAt)}`;
  return null;
}

function waitingLine(p: PolicySnapshot, r: ApprovalRequest, decisions: ApprovalDecision[]): string {
  const levels = r.route.levels.length;
  const level = r.route.levels[r.currentLevel];
  const who = levelApprovers(r, r.currentLevel)
    .map((id) => personById(p, id))
    .join(', ');
  const votes = new Set(
    decisions.filter((d) => d.level === r.currentLevel && d.decision === 'approve').map((d) => d.onBehalfOf ?? d.approverId),
  );
  const escalated = level?.escalatedApproverIds ? ' (escalated)' : '';
  const quorum = level && level.quorum > 1 ? `, ${votes.size} of ${level.quorum} approvals so far` : '';
  const step = levels > 1 ? `level ${r.currentLevel + 1} of ${levels}${escalated}` : `approval${escalated}`;
  return `⏳ Waiting for ${step}: ${plain(who, 600) || 'nobody is named'}${quorum}`;
}

export interface CardInput {
  policy: PolicySnapshot;
  request: ApprovalRequest;
  decisions: ApprovalDecision[];
  now: number;
  publicUrl: string;
  actions: Actions;
}

export function card(c: CardInput): Card {
  const { policy: p, request: r } = c;
  const device = p.devicesById.get(r.deviceId)?.name ?? `#${r.deviceId}`;
  const account = (p.accountsOfDevice.get(r.deviceId) ?? []).find((a) => a.id === r.accountId)?.name ?? `#${r.accountId}`;
  const requester = personById(p, r.requesterId);
  const waiting = effectiveStatus(r, c.now) === 'waiting';
  const state = outcomeLine(p, r, c.decisions, c.now) ?? waitingLine(p, r, c.decisions);
  const title = `Access request #${r.id}: ${plain(requester, 120)} → ${plain(device, 80)}`;
  const fields: [string, string][] = [
    ['Requester', plain(requester)],
    ['Device', plain(device)],
    ['Account', plain(account)],
    ['Protocol', r.protocol],
    ['Reason', plain(r.reason, 1000) || '(none given)'],
    ['Expires', r.expiresAt === null ? 'never' : new Date(r.expiresAt).toISOString().replace('.000Z', 'Z')],
    ['Route', plain(`${r.route.source} ${r.route.sourceName}: ${r.route.why}`, 500)],
  ];
  return {
    requestId: r.id,
    title,
    fields,
    state,
    actions: waiting ? c.actions : 'none',
    url: requestUrl(c.publicUrl, r.id),
    fallback: `${title}. ${state}`,
  };
}

/** Hash of what a card shows: a message whose card did not change is not updated again. */
export const cardHash = (c: Card) => createHash('sha256').update(JSON.stringify(c)).digest('hex').slice(0, 40);

/** The requester's DM about the outcome. */
export function outcomeCard(c: Omit<CardInput, 'actions'>): Card {
  const full = card({ ...c, actions: 'none' });
  return {
    ...full,
    title: `Your access request #${c.request.id} to ${full.fields[1][1]}`,
    fallback: `Your access request #${c.request.id}: ${full.state}`,
  };
}

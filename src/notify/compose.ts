// What mail an approval event causes, and what it says. Pure: the builder supplies tokens and secrets.
import { levelApprovers } from '../core/approvals/rules.js';
import { personName } from '../presenters/people.js';
import type { PolicySnapshot } from '../core/policy/snapshot.js';
import type { ApprovalRequest, Delegation, GatehouseEvent, User } from '../core/types.js';
import { render, type Vars } from './templates.js';
import { requestOf } from '../core/events.js';

export interface OutMail {
  /** Unique per request × recipient × kind × occurrence: inserting it twice is a no-op. */
  key: string;
  requestId: number | null;
  kind: string;
  /** Tells legitimate repeats of a kind apart (the level, the reminder's time); '' for once-per-request kinds. */
  occurrence: string;
  to: string;
  subject: string;
  text: string;
  html: string | null;
  headers: MailHeaders;
  messageId: string;
}

export interface MailHeaders {
  replyTo?: string;
  inReplyTo?: string;
  references?: string[];
  autoSubmitted?: string;
}

export interface ComposeContext {
  policy: PolicySnapshot;
  instance: string;
  publicUrl: string;
  domain: string;
  templatesDirs: string[];
  /** Current state of the request in the database (approver mail is skipped when it moved on). */
  current?: ApprovalRequest;
  /** Users holding an approver's rights now, each with the delegation they act under: mailed with that approver. */
  delegates?: ReadonlyMap<number, Delegation>;
  now: number;
  /** A fresh single-use link token for approver × request × action × level (stored hashed by the caller). */
  token(approverId: number, action: 'approve' | 'reject', level: number): Promise<string>;
  /** The request's reply secret (created on first use). */
  replySecret(): Promise<string>;
  replyTo(secret: string): string;
  /** Approvers who must prove a second factor to decide: a reply cannot, so their mail does not offer it. */
  needsFactor?(userId: number): boolean;
}

const EMAIL = /^[^\s@<>(),;:"\\[\]]+@[^\s@<>(),;:"\\[\]]+$/;
export const validEmail = (e: string | null | undefined): e is string => !!e && e.length <= 320 && EMAIL.test(e);

export function subjectFor(instance: string, id: number): string {
  // instance.name is validated as one line; strip anything header-breaking anyway.
  return `${instance.replace(/[\r\n\0]/g, ' ')} - Connection Approval Notification - #${id}`;
}

/** Message-ID of mails about a request: carries the reply secret, so a reply's References prove it. */
export function approvalMessageId(requestId: number, secret: string, unique: string, domain: string): string {
  return `<gh.${requestId}.${secret}.${unique}@${domain}>`;
}

/** The secret named in a Message-ID we generated, if any. */
export function secretFromMessageId(id: string): { requestId: number; secret: string } | null {
  const m = /<?gh\.(\d+)\.([A-Za-z0-9_-]{16,64})\.[A-Za-z0-9_.-]+@[^>\s]+>?/.exec(id);
  return m ? { requestId: Number(m[1]), secret: m[2] } : null;
}

const iso = (t: number | null | undefined) => (t ? new Date(t).toISOString().replace('.000Z', 'Z') : null);

function requestVars(ctx: ComposeContext, r: ApprovalRequest): Vars {
  const p = ctx.policy;
  const requester = p.usersById.get(r.requesterId);
  const account = (p.accountsOfDevice.get(r.deviceId) ?? []).find((a) => a.id === r.accountId);
  return {
    instance: ctx.instance,
    id: r.id,
    requester: personName(requester, r.requesterId),
    requesterName: requester?.displayName ?? null,
    requesterUsername: requester?.username ?? `#${r.requesterId}`,
    requesterEmail: requester?.email ?? null,
    device: p.devicesById.get(r.deviceId)?.name ?? `#${r.deviceId}`,
    account: account?.name ?? `#${r.accountId}`,
    protocol: r.protocol,
    clientAddr: r.clientAddr,
    reason: r.reason,
    requestedAt: iso(r.createdAt),
    expiresAt: r.expiresAt ? iso(r.expiresAt) : 'never',
    level: `${r.currentLevel + 1} of ${r.route.levels.length}`,
    // Why this approver is asked (the route, and who takes over when the requester is an approver).
    route: r.route.why,
  };
}

/** "approved by Bob Manager (bob) at <time>", and for an expired request "expired <time>" (nobody decided). */
function outcomeLine(r: ApprovalRequest, by: string | null): string {
  const at = iso(r.decidedAt ?? r.expiresAt);
  if (r.status === 'expired') return `expired ${at ?? ''}`.trim();
  return `${r.status}${by ? ` by ${by}` : ''}${at ? ` at ${at}` : ''}`;
}

const APPROVER_HEADLINES: Record<string, string> = {
  request: 'A connection is waiting for your approval.',
  reminder: 'Reminder: a connection is still waiting for your approval.',
  escalated: 'A waiting connection was escalated to you for approval.',
  'next-level': 'The previous level approved this connection; it now needs your approval.',
};

/** A new request is mailed once; next-level and escalated once per level; each reminder once. */
function approverOccurrence(kind: string, r: ApprovalRequest, e: GatehouseEvent): string {
  if (kind === 'reminder') return String(r.lastNotifiedAt ?? e.at);
  if (kind === 'escalated' || kind === 'next-level') return `L${r.currentLevel}`;
  return '';
}

async function approverMails(
  ctx: ComposeContext,
  e: GatehouseEvent,
  r: ApprovalRequest,
  kind: string,
  recipients: number[],
): Promise<OutMail[]> {
  // Skip mail that could no longer be acted on: the request moved on before we got to it.
  const cur = ctx.current ?? r;
  if (cur.status !== 'waiting' || cur.currentLevel !== r.currentLevel) return [];
  if (cur.expiresAt !== null && cur.expiresAt <= ctx.now) return [];
  const out: OutMail[] = [];
  const occurrence = approverOccurrence(kind, r, e);
  const secret = await ctx.replySecret();
  const asked = new Set(recipients);
  const acting = [...(ctx.delegates ?? [])].filter(([to, d]) => asked.has(d.fromUserId) && !asked.has(to));
  for (const uid of [...asked, ...acting.map(([to]) => to)]) {
    const u = ctx.policy.usersById.get(uid);
    if (!u || u.disabled || !validEmail(u.email)) continue;
    const approve = await ctx.token(uid, 'approve', r.currentLevel);
    const reject = await ctx.token(uid, 'reject', r.currentLevel);
    const d = asked.has(uid) ? undefined : ctx.delegates?.get(uid);
    const base = requestVars(ctx, r);
    const vars: Vars = {
      ...base,
      ...(d
        ? {
            route: `${base.route}; you are asked as the delegate of ${personName(ctx.policy.usersById.get(d.fromUserId), d.fromUserId)} until ${iso(d.endsAt)}`,
          }
        : {}),
      headline: APPROVER_HEADLINES[kind],
      approverEmail: u.email,
      approveUrl: `${ctx.publicUrl}/email/approval/${approve}`,
      rejectUrl: `${ctx.publicUrl}/email/approval/${reject}`,
    };
    const { text, html } = render(ctx.templatesDirs, ctx.needsFactor?.(uid) ? 'approver-factor' : 'approver', vars);
    out.push({
      key: `r${r.id}:${kind}:${occurrence}:u${uid}`,
      requestId: r.id,
      kind,
      occurrence,
      to: u.email,
      subject: subjectFor(ctx.instance, r.id),
      text,
      html,
      headers: { replyTo: ctx.replyTo(secret) },
      messageId: approvalMessageId(r.id, secret, `${e.id}.${uid}`, ctx.domain),
    });
  }
  return out;
}

function requesterMail(ctx: ComposeContext, e: GatehouseEvent, r: ApprovalRequest): OutMail[] {
  const u = ctx.policy.usersById.get(r.requesterId);
  if (!u || !validEmail(u.email)) return [];
  const decider = r.decidedBy !== null ? ctx.policy.usersById.get(r.decidedBy) : undefined;
  const headline: Record<string, string> = {
    approved: `Your request #${r.id} was approved.`,
    rejected: `Your request #${r.id} was rejected.`,
    expired: `Your request #${r.id} expired: nobody decided it in time.`,
    revoked: `Your access granted by request #${r.id} was revoked.`,
  };
  const vars: Vars = {
    ...requestVars(ctx, r),
    headline: headline[r.status],
    status: r.status,
    decidedBy: r.status === 'expired' || !decider ? null : personName(decider),
    outcome: outcomeLine(r, decider ? personName(decider) : null),
    comment: r.decisionComment,
    window:
      r.status === 'approved' && r.grantEnd
        ? `from ${iso(r.grantStart)} until ${iso(r.grantEnd)}`
        : r.status === 'revoked'
          ? `ended ${iso(r.grantEnd)}`
          : null,
  };
  const { text, html } = render(ctx.templatesDirs, 'requester', vars);
  return [
    {
      key: `r${r.id}:${r.status}::u${u.id}`,
      requestId: r.id,
      kind: r.status,
      occurrence: '',
      to: u.email,
      subject: subjectFor(ctx.instance, r.id),
      text,
      html,
      headers: { autoSubmitted: 'auto-generated' },
      messageId: `<gh.${r.id}.${r.status}.${e.id}@${ctx.domain}>`,
    },
  ];
}

/** Event types that may cause mail. */
export const MAIL_EVENTS = [
  'approval.created',
  'approval.reminder',
  'approval.escalated',
  'approval.level-approved',
  'approval.approved',
  'approval.rejected',
  'approval.expired',
  'approval.revoked',
];

export async function mailsForEvent(ctx: ComposeContext, e: GatehouseEvent): Promise<OutMail[]> {
  const r = requestOf(e);
  if (!r || typeof r.id !== 'number') return [];
  switch (e.type) {
    case 'approval.created':
      return r.status === 'waiting' ? approverMails(ctx, e, r, 'request', levelApprovers(r, r.currentLevel)) : [];
    case 'approval.reminder':
      return approverMails(ctx, e, r, 'reminder', levelApprovers(r, r.currentLevel));
    case 'approval.escalated':
      return approverMails(
        ctx,
        e,
        r,
        'escalated',
        (r.route.levels[r.currentLevel]?.escalatedApproverIds ?? []).filter((u) => u !== r.requesterId),
      );
    case 'approval.level-approved':
      return approverMails(ctx, e, r, 'next-level', levelApprovers(r, r.currentLevel));
    case 'approval.approved':
      // An auto-approved request was made by the requester a moment ago: nothing to tell them.
      return r.autoApproved ? [] : requesterMail(ctx, e, r);
    case 'approval.rejected':
    case 'approval.expired':
    case 'approval.revoked':
      return requesterMail(ctx, e, r);
    default:
      return [];
  }
}

export function refusalMail(
  ctx: Pick<ComposeContext, 'instance' | 'domain' | 'templatesDirs'>,
  key: string,
  to: User & { email: string },
  requestId: number | null,
  why: string,
  hint: string,
  inReplyTo?: string,
): OutMail {
  const { text } = render(ctx.templatesDirs, 'refused', { instance: ctx.instance, id: requestId ?? '?', why, hint });
  return {
    key,
    requestId,
    kind: 'reply-refused',
    occurrence: key,
    to: to.email,
    subject: requestId ? `Re: ${subjectFor(ctx.instance, requestId)}` : `${ctx.instance} - reply not accepted`,
    text,
    html: null,
    headers: { autoSubmitted: 'auto-replied', inReplyTo, references: inReplyTo ? [inReplyTo] : undefined },
    messageId: `<gh.refused.${key.replace(/[^A-Za-z0-9]/g, '').slice(0, 40)}@${ctx.domain}>`,
  };
}

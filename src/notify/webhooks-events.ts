// Which audit records become webhook events, under which type, and the JSON each carries. Webhooks follow
// the hash-chained audit log (its seq has no gaps and is in commit order), so every recorded approval
// transition and session start, end and kill is delivered, whichever node, process or CLI made it.
import type { AuditFeedRecord } from '../core/ports/audit-feed.js';
import type { PolicySnapshot } from '../core/policy/snapshot.js';
import type { ApprovalRequest } from '../core/types.js';
import { GatehouseError } from '../core/errors.js';
import { presentApproval } from '../presenters/approvals.js';
import { personById } from '../presenters/people.js';

/** Audit action -> webhook event type. Actions not listed here are not sent. */
const FROM_AUDIT: Record<string, string> = {
  'approval.create': 'approval.created',
  'approval.approve-partial': 'approval.vote',
  'approval.level-approved': 'approval.level-approved',
  'approval.approve': 'approval.approved',
  'approval.auto-approve': 'approval.approved',
  'approval.reject': 'approval.rejected',
  'approval.escalate': 'approval.escalated',
  'approval.expire': 'approval.expired',
  'approval.cancel': 'approval.cancelled',
  'approval.revoke': 'approval.revoked',
  'session.start': 'session.started',
  'session.end': 'session.ended',
  'session.kill': 'session.killed',
};

/** Every event type a webhook can subscribe to (`ping` is sent by `webhook test` whatever the filter). */
export const WEBHOOK_EVENTS = [...new Set(Object.values(FROM_AUDIT))].sort();
const FAMILIES = new Set(WEBHOOK_EVENTS.map((t) => t.split('.')[0]));

export function eventTypeOf(action: string): string | undefined {
  return Object.hasOwn(FROM_AUDIT, action) ? FROM_AUDIT[action] : undefined;
}

/** Parses `approval.*,session.ended`: each a known type, a known family with `.*`, or `*`. */
export function parsePatterns(list: string | string[] | undefined): string[] {
  const items = (Array.isArray(list) ? list : (list ?? '*').split(',')).map((x) => x.trim()).filter(Boolean);
  if (!items.length) throw new GatehouseError('invalid', 'events: give at least one pattern, e.g. approval.*', 'events');
  if (items.length > 30) throw new GatehouseError('invalid', 'events: at most 30 patterns', 'events');
  for (const p of items) {
    const ok = p === '*' || WEBHOOK_EVENTS.includes(p) || (p.endsWith('.*') && FAMILIES.has(p.slice(0, -2)));
    if (!ok)
      throw new GatehouseError(
        'invalid',
        `events: unknown pattern '${p.slice(0, 60)}' (known: *, ${[...FAMILIES].map((f) => `${f}.*`).join(', ')}, ${WEBHOOK_EVENTS.join(', ')})`,
        'events',
      );
  }
  return [...new Set(items)];
}

export function matches(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))));
}

export interface WebhookEvent {
  id: string;
  type: string;
  created_at: string;
  data: Record<string, unknown>;
}

function parseDetails(text: string): Record<string, unknown> {
  try {
    const d = JSON.parse(text) as unknown;
    return d && typeof d === 'object' && !Array.isArray(d) ? (d as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function sessionData(p: PolicySnapshot, rec: AuditFeedRecord, d: Record<string, unknown>): Record<string, unknown> {
  const deviceId = num(d.deviceId);
  const accountId = num(d.accountId);
  const userId = num(d.userId);
  const out: Record<string, unknown> = { session: { id: Number(rec.targetId) } };
  if (rec.action === 'session.start')
    out.session = {
      id: Number(rec.targetId),
      user: userId === null ? null : personById(p, userId),
      device: deviceId === null ? null : (p.devicesById.get(deviceId)?.name ?? `#${deviceId}`),
      account:
        deviceId === null || accountId === null
          ? null
          : ((p.accountsOfDevice.get(deviceId) ?? []).find((a) => a.id === accountId)?.name ?? `#${accountId}`),
      protocol: d.protocol ?? null,
      approvalId: num(d.approvalId),
      clientAddress: d.clientAddr ?? null,
      node: d.nodeId ?? null,
    };
  if (rec.action === 'session.end')
    out.session = {
      id: Number(rec.targetId),
      protocol: d.protocol ?? null,
      reason: d.reason ?? null,
      bytesIn: num(d.bytesIn),
      bytesOut: num(d.bytesOut),
    };
  if (rec.action === 'session.kill') out.session = { id: Number(rec.targetId), reason: d.reason ?? null, live: d.live ?? null };
  return out;
}

export interface EventInputs {
  policy: PolicySnapshot;
  /** The request as the event saw it (the bus event written beside the audit record), when still kept. */
  snapshot(type: string, at: number, id: number): Promise<ApprovalRequest | undefined>;
  /** Otherwise the request as it stands now. */
  request(id: number): Promise<ApprovalRequest | undefined>;
  now: number;
  /** The console's base URL, when known: events link to the request page. */
  publicUrl?: string;
}

/** The event an audit record becomes, or undefined when webhooks do not carry it. */
export async function eventOf(rec: AuditFeedRecord, inp: EventInputs): Promise<WebhookEvent | undefined> {
  const type = eventTypeOf(rec.action);
  if (!type || rec.seq === null) return undefined;
  const d = parseDetails(rec.details);
  const data: Record<string, unknown> = { actor: { name: rec.actor, channel: rec.channel } };
  if (type.startsWith('approval.')) {
    const id = Number(rec.targetId);
    const r = Number.isInteger(id) ? ((await inp.snapshot(type, rec.at, id)) ?? (await inp.request(id))) : undefined;
    data.request = r ? presentApproval(inp.policy, r, inp.now) : { id };
    if (typeof d.comment === 'string' && d.comment) data.comment = d.comment;
    if (typeof d.level === 'number') data.level = d.level + 1;
    if (inp.publicUrl) data.url = `${inp.publicUrl.replace(/\/+$/, '')}/approvals/${id}`;
  } else Object.assign(data, sessionData(inp.policy, rec, d));
  return { id: `evt_${rec.seq}`, type, created_at: new Date(rec.at).toISOString(), data };
}

export function pingEvent(id: string, webhook: string, now: number): WebhookEvent {
  return { id, type: 'ping', created_at: new Date(now).toISOString(), data: { webhook, message: 'Gatehouse webhook test' } };
}

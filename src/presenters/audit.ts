// Audit records: details parsed back into an object, and the same details as readable fields (label:
// value; people as every view shows them; times left for the reader's clock to show).
import type { PolicySnapshot } from '../core/policy/snapshot.js';
import { personById, personName } from './people.js';
import { iso } from './time.js';

/** One detail as a person reads it. A 'time' value is ISO 8601, for the console to show in local time. */
export interface AuditField {
  label: string;
  value: string;
  kind: 'text' | 'time' | 'person';
}

/** Detail keys that name people (usernames, or user ids for onBehalfOf). */
const PERSON_KEYS = new Set(['username', 'user', 'approver', 'requester', 'manager', 'managers', 'members', 'added', 'onBehalfOf', 'by']);
/** Detail keys that hold a time (ms since the epoch or ISO 8601). */
const TIME_KEYS = new Set(['at', 'start', 'end', 'grantStart', 'grantEnd', 'expiresAt', 'startsAt', 'endsAt', 'until']);
const LABELS: Record<string, string> = {
  clientAddr: 'Client address',
  client: 'Client address',
  address: 'Client address',
  approvalId: 'Approval request',
  onBehalfOf: 'On behalf of',
  retryAfterSeconds: 'Retry after (seconds)',
  bytesIn: 'Bytes in',
  bytesOut: 'Bytes out',
  grantEnd: 'Grant ends',
  grantStart: 'Grant starts',
  olderThanDays: 'Older than (days)',
  messageId: 'Message id',
  secondFactor: 'Second factor',
  notTheApprover: 'Not the approver',
  to: 'To',
};

/** "retryAfterSeconds" -> "Retry after seconds"; known keys get their own words. */
export function auditLabel(key: string): string {
  if (LABELS[key]) return LABELS[key];
  const words = key
    .replace(/[_-]+/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const printable = (s: string) => s.replace(/[\x00-\x1f\x7f]/g, ' ');

function plain(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.map(plain).join(', ') || '—';
  if (typeof v === 'object')
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${auditLabel(k).toLowerCase()}: ${plain(x)}`)
      .join('; ');
  return printable(String(v));
}

function person(p: PolicySnapshot | undefined, v: unknown): string {
  if (!p) return plain(v);
  if (typeof v === 'number' && Number.isInteger(v)) return personById(p, v);
  if (typeof v === 'string') return personName(p.usersByName.get(v) ?? { username: printable(v) });
  return plain(v);
}

function field(p: PolicySnapshot | undefined, key: string, v: unknown): AuditField {
  const label = auditLabel(key);
  if (PERSON_KEYS.has(key) && v !== null && v !== undefined) {
    const value = Array.isArray(v) ? v.map((x) => person(p, x)).join(', ') || '—' : person(p, v);
    return { label, value, kind: 'person' };
  }
  if (TIME_KEYS.has(key) && (typeof v === 'number' || (typeof v === 'string' && !Number.isNaN(Date.parse(v))))) {
    const t = typeof v === 'number' ? v : Date.parse(v);
    if (Number.isFinite(t) && Math.abs(t) < 8.64e15) return { label, value: new Date(t).toISOString(), kind: 'time' };
  }
  return { label, value: plain(v), kind: 'text' };
}

/** The details of one record as fields, in their stored order; empty values left out. */
export function auditFields(details: Record<string, unknown>, p?: PolicySnapshot): AuditField[] {
  return Object.entries(details)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => field(p, k, v));
}

/** Who acted: a known user as every view shows a person, else as recorded ('system', an unknown name). */
export function auditActor(actor: string, p?: PolicySnapshot): string {
  const u = p?.usersByName.get(actor);
  return u ? personName(u) : printable(actor);
}

export function presentAudit(
  r: {
    id: number;
    at: number;
    actor: string;
    channel: string;
    action: string;
    target_type: string | null;
    target_id: string | null;
    details: string;
  },
  p?: PolicySnapshot,
) {
  const details = JSON.parse(r.details) as Record<string, unknown>;
  return {
    id: r.id,
    at: iso(r.at),
    actor: r.actor,
    channel: r.channel,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    details,
    /** The actor as a person reads it. */
    actorName: auditActor(r.actor, p),
    /** The details as a person reads them. */
    fields: auditFields(details, p),
  };
}

/** One CSV field: quoted, and a leading = + - @ neutralised so a spreadsheet never runs it as a formula. */
export function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

const AUDIT_COLUMNS = ['id', 'at', 'actor', 'channel', 'action', 'targetType', 'targetId', 'details'] as const;

/** Presented audit records as a CSV file (header line, CRLF line ends). */
export function auditCsv(rows: Omit<ReturnType<typeof presentAudit>, 'actorName' | 'fields'>[]): string {
  const lines = [AUDIT_COLUMNS.join(','), ...rows.map((r) => AUDIT_COLUMNS.map((k) => csvField(r[k])).join(','))];
  return lines.join('\r\n') + '\r\n';
}

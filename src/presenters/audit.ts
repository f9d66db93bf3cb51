// Audit records: details parsed back into an object.
import { iso } from './time.js';

export function presentAudit(r: {
  id: number;
  at: number;
  actor: string;
  channel: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  details: string;
}) {
  return {
    id: r.id,
    at: iso(r.at),
    actor: r.actor,
    channel: r.channel,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    details: JSON.parse(r.details) as Record<string, unknown>,
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
export function auditCsv(rows: ReturnType<typeof presentAudit>[]): string {
  const lines = [AUDIT_COLUMNS.join(','), ...rows.map((r) => AUDIT_COLUMNS.map((k) => csvField(r[k])).join(','))];
  return lines.join('\r\n') + '\r\n';
}

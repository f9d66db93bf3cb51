// Approval reports: who decided what over a period, how fast, what expired, what is most requested. Pure.
import type { PolicySnapshot } from './policy/snapshot.js';
import type { ReportRepository } from './ports/database.js';
import type { ApprovalDecision, ApprovalRequest } from './types.js';

export interface ApprovalReport {
  from: string;
  to: string;
  requests: number;
  byStatus: Record<string, number>;
  expired: number;
  autoApproved: number;
  medianMinutesToDecision: number | null;
  perApprover: { approver: string; approved: number; rejected: number; medianMinutesToDecision: number | null }[];
  topDevices: { device: string; requests: number }[];
}

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const minutes = (ms: number) => Math.round((ms / 60_000) * 100) / 100;

export function approvalReport(
  from: number,
  to: number,
  requests: ApprovalRequest[],
  decisions: ApprovalDecision[],
  name: (userId: number) => string,
  deviceName: (deviceId: number) => string,
  now: number,
): ApprovalReport {
  const byStatus: Record<string, number> = {};
  const devices = new Map<string, number>();
  const created = new Map<number, number>();
  for (const r of requests) {
    const st = r.status === 'waiting' && r.expiresAt !== null && now >= r.expiresAt ? 'expired' : r.status;
    byStatus[st] = (byStatus[st] ?? 0) + 1;
    const d = deviceName(r.deviceId);
    devices.set(d, (devices.get(d) ?? 0) + 1);
    created.set(r.id, r.createdAt);
  }
  const per = new Map<number, { approved: number; rejected: number; times: number[] }>();
  const allTimes: number[] = [];
  for (const d of decisions) {
    const c = created.get(d.requestId);
    if (c === undefined) continue;
    const e = per.get(d.approverId) ?? { approved: 0, rejected: 0, times: [] };
    if (d.decision === 'approve') e.approved++;
    else e.rejected++;
    e.times.push(d.createdAt - c);
    per.set(d.approverId, e);
  }
  for (const r of requests)
    if (r.decidedAt !== null && !r.autoApproved && ['approved', 'rejected'].includes(r.status)) allTimes.push(r.decidedAt - r.createdAt);
  const med = median(allTimes);
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    requests: requests.length,
    byStatus,
    expired: byStatus.expired ?? 0,
    autoApproved: requests.filter((r) => r.autoApproved).length,
    medianMinutesToDecision: med === null ? null : minutes(med),
    perApprover: [...per.entries()]
      .map(([id, e]) => ({
        approver: name(id),
        approved: e.approved,
        rejected: e.rejected,
        medianMinutesToDecision: median(e.times) === null ? null : minutes(median(e.times)!),
      }))
      .sort((a, b) => b.approved + b.rejected - (a.approved + a.rejected) || a.approver.localeCompare(b.approver)),
    topDevices: [...devices.entries()]
      .map(([device, n]) => ({ device, requests: n }))
      .sort((a, b) => b.requests - a.requests || a.device.localeCompare(b.device))
      .slice(0, 20),
  };
}

/** CSV of a report: one section per table, RFC 4180 quoting; cells that start a formula are neutralised. */
export function reportCsv(r: ApprovalReport): string {
  const cell = (v: unknown) => {
    let s = v === null || v === undefined ? '' : String(v);
    if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const rows: unknown[][] = [
    ['section', 'key', 'value', 'extra1', 'extra2'],
    ['period', 'from', r.from],
    ['period', 'to', r.to],
    ['summary', 'requests', r.requests],
    ['summary', 'expired', r.expired],
    ['summary', 'auto_approved', r.autoApproved],
    ['summary', 'median_minutes_to_decision', r.medianMinutesToDecision],
    ...Object.entries(r.byStatus).map(([k, v]) => ['status', k, v]),
    ...r.perApprover.map((a) => ['approver', a.approver, a.approved, a.rejected, a.medianMinutesToDecision]),
    ...r.topDevices.map((d) => ['device', d.device, d.requests]),
  ];
  return rows.map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}

/**
 * The approval report over [from, to), with names from the current policy: the API and the CLI both serve
 * it, and pass the one way a person is shown (presenters/people.ts, which core may not import).
 */
export async function reportForPeriod(
  deps: { reports: ReportRepository; policy: { current(): Promise<PolicySnapshot> } },
  from: number,
  to: number,
  now: number,
  person: (p: PolicySnapshot, id: number) => string = (p, id) => p.userName(id),
): Promise<ApprovalReport> {
  const { requests, decisions } = await deps.reports.requestsInPeriod(from, to);
  const p = await deps.policy.current();
  return approvalReport(
    from,
    to,
    requests,
    decisions,
    (id) => person(p, id),
    (id) => p.devicesById.get(id)?.name ?? `#${id}`,
    now,
  );
}

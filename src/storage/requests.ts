// Approval requests and their decisions: row mapping, the transaction's operations (TxStore), the
// reads outside transactions, and the period query for reports.
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { ApprovalListFilter, NewApprovalRequest, TxStore } from '../core/ports/store.js';
import type { ApprovalDecision, ApprovalRequest, ApprovalStatus, AuditEntry, Protocol } from '../core/types.js';
import { appendAudit } from './audit-log.js';
import type { Dialect } from './db.js';
import { appendEvent } from './event-log.js';
import type { ApprovalDecisionsTable, ApprovalRequestsTable, Database } from './schema.js';

type Req = Selectable<ApprovalRequestsTable>;

export function toRequest(r: Req): ApprovalRequest {
  return {
    id: r.id,
    requesterId: r.requester_id,
    deviceId: r.device_id,
    accountId: r.account_id,
    protocol: r.protocol as Protocol,
    reason: r.reason,
    status: r.status as ApprovalStatus,
    kind: r.kind as 'instant' | 'reservation',
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    decidedAt: r.decided_at,
    currentLevel: r.current_level,
    levelStartedAt: r.level_started_at,
    route: JSON.parse(r.route),
    autoApproved: r.auto_approved === 1,
    grantStart: r.grant_start,
    grantEnd: r.grant_end,
    clientAddr: r.client_addr,
    lastNotifiedAt: r.last_notified_at,
    decidedBy: r.decided_by,
    decisionComment: r.decision_comment,
    escalateAt: r.escalate_at ?? null,
  };
}

function fromRequest(r: Partial<NewApprovalRequest>): Partial<Omit<Req, 'id'>> {
  const out: Partial<Omit<Req, 'id'>> = {};
  const map: Record<string, string> = {
    requesterId: 'requester_id',
    deviceId: 'device_id',
    accountId: 'account_id',
    protocol: 'protocol',
    reason: 'reason',
    status: 'status',
    kind: 'kind',
    createdAt: 'created_at',
    expiresAt: 'expires_at',
    decidedAt: 'decided_at',
    currentLevel: 'current_level',
    levelStartedAt: 'level_started_at',
    grantStart: 'grant_start',
    grantEnd: 'grant_end',
    clientAddr: 'client_addr',
    lastNotifiedAt: 'last_notified_at',
    decidedBy: 'decided_by',
    decisionComment: 'decision_comment',
    escalateAt: 'escalate_at',
  };
  for (const [k, v] of Object.entries(r)) {
    if (v === undefined) continue;
    if (k === 'route') (out as Record<string, unknown>).route = JSON.stringify(v);
    else if (k === 'autoApproved') out.auto_approved = v ? 1 : 0;
    else if (map[k]) (out as Record<string, unknown>)[map[k]] = v;
  }
  return out;
}

export function toDecision(d: Selectable<ApprovalDecisionsTable>): ApprovalDecision {
  return {
    id: d.id,
    requestId: d.request_id,
    level: d.level,
    approverId: d.approver_id,
    onBehalfOf: d.on_behalf_of,
    decision: d.decision as 'approve' | 'reject',
    channel: d.channel as ApprovalDecision['channel'],
    comment: d.comment,
    createdAt: d.created_at,
  };
}

export class KyselyTx implements TxStore {
  constructor(
    private readonly t: Transaction<Database>,
    private readonly dialect: Dialect,
    private readonly auditKey: Buffer,
  ) {}

  async lockRequest(id: number) {
    let q = this.t.selectFrom('approval_requests').selectAll().where('id', '=', id);
    if (this.dialect === 'postgres') q = q.forUpdate();
    const r = await q.executeTakeFirst();
    return r ? toRequest(r) : undefined;
  }

  async findWaiting(userId: number, deviceId: number, accountId: number, protocol: Protocol, kind: 'instant' | 'reservation') {
    let q = this.t
      .selectFrom('approval_requests')
      .selectAll()
      .where('requester_id', '=', userId)
      .where('device_id', '=', deviceId)
      .where('account_id', '=', accountId)
      .where('protocol', '=', protocol)
      .where('status', '=', 'waiting')
      .where('kind', '=', kind)
      .orderBy('id', 'desc')
      .limit(1);
    if (this.dialect === 'postgres') q = q.forUpdate();
    const r = await q.executeTakeFirst();
    return r ? toRequest(r) : undefined;
  }

  async insertRequest(r: NewApprovalRequest) {
    const row = await this.t
      .insertInto('approval_requests')
      .values(fromRequest(r) as Omit<Req, 'id'>)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRequest(row);
  }

  async updateRequest(id: number, expect: { status: ApprovalStatus; level?: number }, patch: Partial<NewApprovalRequest>) {
    let q = this.t.updateTable('approval_requests').set(fromRequest(patch)).where('id', '=', id).where('status', '=', expect.status);
    if (expect.level !== undefined) q = q.where('current_level', '=', expect.level);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async insertDecision(d: Omit<ApprovalDecision, 'id'>) {
    await this.t
      .insertInto('approval_decisions')
      .values({
        request_id: d.requestId,
        level: d.level,
        approver_id: d.approverId,
        on_behalf_of: d.onBehalfOf,
        decision: d.decision,
        channel: d.channel,
        comment: d.comment,
        created_at: d.createdAt,
      })
      .execute();
  }

  async decisions(requestId: number) {
    const rows = await this.t.selectFrom('approval_decisions').selectAll().where('request_id', '=', requestId).orderBy('id').execute();
    return rows.map(toDecision);
  }

  async appendAudit(e: AuditEntry, at: number) {
    await appendAudit(this.t, this.auditKey, e, at);
  }

  async appendEvent(type: string, payload: Record<string, unknown>, at: number) {
    await appendEvent(this.t, type, payload, at);
  }
}

/** Requests, decisions and grants read outside a transaction. */
export class KyselyRequestReads {
  constructor(private readonly db: Kysely<Database>) {}

  async getRequest(id: number) {
    const r = await this.db.selectFrom('approval_requests').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toRequest(r) : undefined;
  }

  async listRequests(f: ApprovalListFilter) {
    let q = this.db
      .selectFrom('approval_requests')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(Math.min(f.limit ?? 100, 1000));
    if (f.requesterId !== undefined) q = q.where('requester_id', '=', f.requesterId);
    if (f.status) q = q.where('status', '=', f.status);
    if (f.ids) q = f.ids.length ? q.where('id', 'in', f.ids) : q.where(sql<boolean>`1 = 0`);
    if (f.beforeId !== undefined) q = q.where('id', '<', f.beforeId);
    return (await q.execute()).map(toRequest);
  }

  async decisions(requestId: number) {
    const rows = await this.db.selectFrom('approval_decisions').selectAll().where('request_id', '=', requestId).orderBy('id').execute();
    return rows.map(toDecision);
  }

  async activeGrants(now: number) {
    const rows = await this.db
      .selectFrom('approval_requests')
      .selectAll()
      .where('status', '=', 'approved')
      .where('grant_end', '>', now)
      .execute();
    return rows.map(toRequest);
  }

  async waitingIds(opts: { expiredBy?: number; escalateBy?: number; all?: boolean; limit: number }) {
    let q = this.db.selectFrom('approval_requests').select('id').where('status', '=', 'waiting').orderBy('id').limit(opts.limit);
    if (!opts.all && opts.expiredBy !== undefined) q = q.where('expires_at', '<=', opts.expiredBy);
    if (!opts.all && opts.escalateBy !== undefined) q = q.where('escalate_at', '<=', opts.escalateBy);
    return (await q.execute()).map((r) => r.id);
  }
}

/** Requests created in [from, to) with their decisions, for reports. */
export async function requestsInPeriod(
  db: Kysely<Database>,
  from: number,
  to: number,
): Promise<{ requests: ApprovalRequest[]; decisions: ApprovalDecision[] }> {
  const rows = await db
    .selectFrom('approval_requests')
    .selectAll()
    .where('created_at', '>=', from)
    .where('created_at', '<', to)
    .orderBy('id')
    .execute();
  const requests = rows.map(toRequest);
  const decisions: ApprovalDecision[] = [];
  for (let i = 0; i < requests.length; i += 500) {
    const ids = requests.slice(i, i + 500).map((r) => r.id);
    const ds = await db.selectFrom('approval_decisions').selectAll().where('request_id', 'in', ids).execute();
    decisions.push(...ds.map(toDecision));
  }
  return { requests, decisions };
}

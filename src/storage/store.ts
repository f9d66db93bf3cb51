// Kysely implementation of core's Store port. One code path for SQLite and PostgreSQL.
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { ApprovalListFilter, NewApprovalRequest, Store, TxStore } from '../core/ports/store.js';
import type { PolicyData } from '../core/policy/snapshot.js';
import type { ApprovalDecision, ApprovalRequest, ApprovalStatus, AuditEntry, Delegation, GatehouseEvent, Protocol } from '../core/types.js';
import { pendingMigrations, type Db, type Dialect } from './db.js';
import type { ApprovalDecisionsTable, ApprovalRequestsTable, Database } from './schema.js';
import { KyselyDelegationStore } from './delegations.js';
import { appendEvent } from './event-log.js';
import { toAccount, toDevice, toUser } from './mappers.js';
import { appendAudit } from './audit-log.js';
import { withRaceRetry } from './retry.js';
export { auditRow } from './audit-log.js';
export { appendEvent } from './event-log.js';

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
    requesterId: 'requester_id', deviceId: 'device_id', accountId: 'account_id', protocol: 'protocol', reason: 'reason', status: 'status',
    kind: 'kind', createdAt: 'created_at', expiresAt: 'expires_at', decidedAt: 'decided_at', currentLevel: 'current_level',
    levelStartedAt: 'level_started_at', grantStart: 'grant_start', grantEnd: 'grant_end', clientAddr: 'client_addr',
    lastNotifiedAt: 'last_notified_at', decidedBy: 'decided_by', decisionComment: 'decision_comment', escalateAt: 'escalate_at',
  };
  for (const [k, v] of Object.entries(r)) {
    if (v === undefined) continue;
    if (k === 'route') (out as Record<string, unknown>).route = JSON.stringify(v);
    else if (k === 'autoApproved') out.auto_approved = v ? 1 : 0;
    else if (map[k]) (out as Record<string, unknown>)[map[k]] = v;
  }
  return out;
}

function toDecision(d: Selectable<ApprovalDecisionsTable>): ApprovalDecision {
  return {
    id: d.id, requestId: d.request_id, level: d.level, approverId: d.approver_id, onBehalfOf: d.on_behalf_of,
    decision: d.decision as 'approve' | 'reject', channel: d.channel as ApprovalDecision['channel'], comment: d.comment, createdAt: d.created_at,
  };
}

class KyselyTx implements TxStore {
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
    const row = await this.t.insertInto('approval_requests').values(fromRequest(r) as Omit<Req, 'id'>).returningAll().executeTakeFirstOrThrow();
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
      .values({ request_id: d.requestId, level: d.level, approver_id: d.approverId, on_behalf_of: d.onBehalfOf, decision: d.decision, channel: d.channel, comment: d.comment, created_at: d.createdAt })
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

export class KyselyStore implements Store {
  readonly dialect: Dialect;
  readonly db: Kysely<Database>;
  /** Signs the audit chain; set by services.ts from the vault key. */
  auditKey: Buffer = Buffer.alloc(32);

  private readonly delegations: KyselyDelegationStore;

  constructor(readonly handle: Db) {
    this.db = handle.kysely;
    this.dialect = handle.dialect;
    this.delegations = new KyselyDelegationStore(this.db, () => this.auditKey);
  }

  get where(): string {
    return this.handle.where;
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  pendingMigrations(): Promise<string[]> {
    return pendingMigrations(this.handle);
  }

  /** One transaction; run again from the start when it loses a race in the database (retry.ts). */
  tx<T>(fn: (tx: TxStore) => Promise<T>): Promise<T> {
    return withRaceRetry(() => this.db.transaction().execute((t) => fn(new KyselyTx(t, this.dialect, this.auditKey))));
  }

  async loadPolicy(): Promise<PolicyData> {
    const db = this.db;
    const [users, ugs, members, ugManagers, dgs, dgManagers, devices, accounts, rules, workflows] = await Promise.all([
      db.selectFrom('users').selectAll().execute(),
      db.selectFrom('user_groups').selectAll().execute(),
      db.selectFrom('user_group_members').selectAll().execute(),
      db.selectFrom('user_group_managers').selectAll().execute(),
      db.selectFrom('device_groups').selectAll().execute(),
      db.selectFrom('device_group_managers').selectAll().execute(),
      db.selectFrom('devices').selectAll().execute(),
      db.selectFrom('accounts').select(['id', 'device_id', 'name', 'secret_kind', 'is_default']).execute(),
      db.selectFrom('access_rules').selectAll().execute(),
      db.selectFrom('workflows').selectAll().execute(),
    ]);
    const group = (rows: { group_id: number; user_id: number }[]) => {
      const m = new Map<number, number[]>();
      for (const r of rows) m.set(r.group_id, [...(m.get(r.group_id) ?? []), r.user_id]);
      return m;
    };
    const mem = group(members);
    const ugm = group(ugManagers);
    const dgm = group(dgManagers);
    return {
      users: users.map(toUser),
      userGroups: ugs.map((g) => ({
        id: g.id, name: g.name, requireApproval: g.require_approval === 1, requireReason: g.require_reason === 1,
        memberIds: mem.get(g.id) ?? [], managerIds: ugm.get(g.id) ?? [],
      })),
      deviceGroups: dgs.map((g) => ({ id: g.id, name: g.name, requireApproval: g.require_approval === 1, requireReason: g.require_reason === 1, managerIds: dgm.get(g.id) ?? [] })),
      devices: devices.map(toDevice),
      accounts: accounts.map(toAccount),
      accessRules: rules.map((r) => ({
        id: r.id, userGroupId: r.user_group_id, deviceGroupId: r.device_group_id, protocols: r.protocols.split(',') as Protocol[], allowPortForwarding: r.allow_port_forwarding === 1,
      })),
      workflows: workflows.map((w) => ({ id: w.id, name: w.name, userGroupId: w.user_group_id, deviceGroupId: w.device_group_id, levels: JSON.parse(w.levels) })),
    };
  }

  async policyVersion(): Promise<number> {
    const r = await this.db.selectFrom('meta').select('value').where('key', '=', 'policy_version').executeTakeFirst();
    return Number(r?.value ?? 0);
  }

  async loadParams(): Promise<Map<string, string>> {
    const rows = await this.db.selectFrom('params').selectAll().execute();
    return new Map(rows.map((r) => [r.name, r.value]));
  }

  async getRequest(id: number) {
    const r = await this.db.selectFrom('approval_requests').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toRequest(r) : undefined;
  }

  async listRequests(f: ApprovalListFilter) {
    let q = this.db.selectFrom('approval_requests').selectAll().orderBy('id', 'desc').limit(Math.min(f.limit ?? 100, 1000));
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
    const rows = await this.db.selectFrom('approval_requests').selectAll().where('status', '=', 'approved').where('grant_end', '>', now).execute();
    return rows.map(toRequest);
  }

  async waitingIds(opts: { expiredBy?: number; escalateBy?: number; all?: boolean; limit: number }) {
    let q = this.db.selectFrom('approval_requests').select('id').where('status', '=', 'waiting').orderBy('id').limit(opts.limit);
    if (!opts.all && opts.expiredBy !== undefined) q = q.where('expires_at', '<=', opts.expiredBy);
    if (!opts.all && opts.escalateBy !== undefined) q = q.where('escalate_at', '<=', opts.escalateBy);
    return (await q.execute()).map((r) => r.id);
  }

  delegationsTo(userId: number, at: number) {
    return this.delegations.delegationsTo(userId, at);
  }

  listDelegations(userId?: number) {
    return this.delegations.listDelegations(userId);
  }

  insertDelegation(d: Omit<Delegation, 'id' | 'revokedAt'>, audit: AuditEntry, at: number) {
    return this.delegations.insertDelegation(d, audit, at);
  }

  async eventsSince(afterId: number, sinceAt: number, limit: number): Promise<GatehouseEvent[]> {
    const rows = await this.db
      .selectFrom('events')
      .selectAll()
      .where((eb) => eb.or([eb('id', '>', afterId), eb('at', '>=', sinceAt)]))
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: r.id, at: r.at, type: r.type, payload: JSON.parse(r.payload) }));
  }

  async eventsAfter(afterId: number, alsoIds: readonly number[], limit: number): Promise<GatehouseEvent[]> {
    const rows = await this.db
      .selectFrom('events')
      .selectAll()
      .where((eb) => (alsoIds.length ? eb.or([eb('id', '>', afterId), eb('id', 'in', [...alsoIds])]) : eb('id', '>', afterId)))
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: r.id, at: r.at, type: r.type, payload: JSON.parse(r.payload) }));
  }

  async maxEventId(): Promise<number> {
    const r = await this.db.selectFrom('events').select((eb) => eb.fn.max('id').as('m')).executeTakeFirst();
    return Number(r?.m ?? 0);
  }

  async pruneEvents(before: number): Promise<number> {
    const r = await this.db.deleteFrom('events').where('at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/** Session rows and generic audit appends. */
export class KyselySessionStore {
  private readonly db: Kysely<Database>;
  constructor(private readonly store: KyselyStore) {
    this.db = store.db;
  }

  async insertSession(r: import('../core/sessions.js').SessionRecord, at: number): Promise<number> {
    const row = await this.db
      .insertInto('sessions')
      .values({ user_id: r.userId, device_id: r.deviceId, account_id: r.accountId, protocol: r.protocol, approval_id: r.approvalId, client_addr: r.clientAddr, node_id: r.nodeId, started_at: at, ended_at: null, end_reason: null, bytes_in: 0, bytes_out: 0 })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async endSession(id: number, at: number, reason: string, bytesIn: number, bytesOut: number): Promise<void> {
    await this.db.updateTable('sessions').set({ ended_at: at, end_reason: reason.slice(0, 200), bytes_in: bytesIn, bytes_out: bytesOut }).where('id', '=', id).where('ended_at', 'is', null).execute();
  }

  async updateSessionBytes(id: number, bytesIn: number, bytesOut: number): Promise<void> {
    await this.db.updateTable('sessions').set({ bytes_in: bytesIn, bytes_out: bytesOut }).where('id', '=', id).execute();
  }

  async appendSessionEvent(type: string, payload: Record<string, unknown>, at: number): Promise<void> {
    await appendEvent(this.db, type, payload, at);
  }

  async appendAudit(e: AuditEntry, at: number): Promise<void> {
    await appendAudit(this.db, this.store.auditKey, e, at);
  }
}

/** Requests created in [from, to) with their decisions, for reports. */
export async function requestsInPeriod(db: Kysely<Database>, from: number, to: number): Promise<{ requests: ApprovalRequest[]; decisions: ApprovalDecision[] }> {
  const rows = await db.selectFrom('approval_requests').selectAll().where('created_at', '>=', from).where('created_at', '<', to).orderBy('id').execute();
  const requests = rows.map(toRequest);
  const decisions: ApprovalDecision[] = [];
  for (let i = 0; i < requests.length; i += 500) {
    const ids = requests.slice(i, i + 500).map((r) => r.id);
    const ds = await db.selectFrom('approval_decisions').selectAll().where('request_id', 'in', ids).execute();
    decisions.push(...ds.map(toDecision));
  }
  return { requests, decisions };
}

/** The Kysely handle behind a Store: for storage code, and for tests and benchmarks that check rows directly. */
export function kyselyOf(store: Store): Kysely<Database> {
  if (!(store instanceof KyselyStore)) throw new Error('this store is not backed by Kysely');
  return store.db;
}

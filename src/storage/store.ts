// Kysely implementation of core's Store port, one code path for SQLite and PostgreSQL. It composes the
// repositories of requests (requests.ts), delegations and events, and reads policy and parameters.
import type { Kysely } from 'kysely';
import type { ApprovalListFilter, Store, TxStore } from '../core/ports/store.js';
import type { PolicyData } from '../core/policy/snapshot.js';
import type { AuditEntry, Delegation, Protocol } from '../core/types.js';
import type { Db, Dialect } from './db.js';
import type { Database } from './schema.js';
import { KyselyDelegationStore } from './delegations.js';
import { KyselyEventLog } from './event-log.js';
import { toAccount, toDevice, toUser } from './mappers.js';
import { KyselyRequestReads, KyselyTx } from './requests.js';
import { withRaceRetry } from './retry.js';
export { auditRow } from './audit-log.js';
export { appendEvent } from './event-log.js';
export { requestsInPeriod, toRequest } from './requests.js';
export { KyselySessionStore } from './sessions-store.js';

export class KyselyStore implements Store {
  readonly dialect: Dialect;
  readonly db: Kysely<Database>;
  /** Signs the audit chain; set by services.ts from the vault key. */
  auditKey: Buffer = Buffer.alloc(32);

  private readonly requests: KyselyRequestReads;
  private readonly delegations: KyselyDelegationStore;
  private readonly events: KyselyEventLog;

  constructor(readonly handle: Db) {
    this.db = handle.kysely;
    this.dialect = handle.dialect;
    this.requests = new KyselyRequestReads(this.db);
    this.delegations = new KyselyDelegationStore(this.db, () => this.auditKey);
    this.events = new KyselyEventLog(this.db);
  }

  get where(): string {
    return this.handle.where;
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
        id: g.id,
        name: g.name,
        requireApproval: g.require_approval === 1,
        requireReason: g.require_reason === 1,
        memberIds: mem.get(g.id) ?? [],
        managerIds: ugm.get(g.id) ?? [],
      })),
      deviceGroups: dgs.map((g) => ({
        id: g.id,
        name: g.name,
        requireApproval: g.require_approval === 1,
        requireReason: g.require_reason === 1,
        managerIds: dgm.get(g.id) ?? [],
      })),
      devices: devices.map(toDevice),
      accounts: accounts.map(toAccount),
      accessRules: rules.map((r) => ({
        id: r.id,
        userGroupId: r.user_group_id,
        deviceGroupId: r.device_group_id,
        protocols: r.protocols.split(',') as Protocol[],
        allowPortForwarding: r.allow_port_forwarding === 1,
      })),
      workflows: workflows.map((w) => ({
        id: w.id,
        name: w.name,
        userGroupId: w.user_group_id,
        deviceGroupId: w.device_group_id,
        levels: JSON.parse(w.levels),
      })),
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

  getRequest(id: number) {
    return this.requests.getRequest(id);
  }

  listRequests(f: ApprovalListFilter) {
    return this.requests.listRequests(f);
  }

  decisions(requestId: number) {
    return this.requests.decisions(requestId);
  }

  activeGrants(now: number) {
    return this.requests.activeGrants(now);
  }

  waitingIds(opts: { expiredBy?: number; escalateBy?: number; all?: boolean; limit: number }) {
    return this.requests.waitingIds(opts);
  }

  delegationsTo(userId: number, at: number) {
    return this.delegations.delegationsTo(userId, at);
  }

  delegationsFrom(userIds: readonly number[], at: number) {
    return this.delegations.delegationsFrom(userIds, at);
  }

  listDelegations(userId?: number) {
    return this.delegations.listDelegations(userId);
  }

  insertDelegation(d: Omit<Delegation, 'id' | 'revokedAt'>, audit: AuditEntry, at: number) {
    return this.delegations.insertDelegation(d, audit, at);
  }

  eventsSince(afterId: number, sinceAt: number, limit: number) {
    return this.events.eventsSince(afterId, sinceAt, limit);
  }

  eventsAfter(afterId: number, alsoIds: readonly number[], limit: number) {
    return this.events.eventsAfter(afterId, alsoIds, limit);
  }

  maxEventId() {
    return this.events.maxEventId();
  }

  pruneEvents(before: number) {
    return this.events.pruneEvents(before);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/** The Kysely handle behind a Store: for storage code, and for tests and benchmarks that check rows directly. */
export function kyselyOf(store: Store): Kysely<Database> {
  if (!(store instanceof KyselyStore)) throw new Error('this store is not backed by Kysely');
  return store.db;
}

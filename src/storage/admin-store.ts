// Kysely implementation of the policy writes (AdminStore).
import { sql, type Transaction, type Updateable } from 'kysely';
import type { AdminStore, AuditRecord, DeviceRow, GroupKind, GroupRow, PolicyWriter, UserRow } from '../core/ports/admin-store.js';
import type { AuditEntry, Protocol, WorkflowLevel } from '../core/types.js';
import type { Database, DevicesTable, UserGroupsTable, UsersTable } from './schema.js';
import { appendEvent } from './event-log.js';
import type { KyselyStore } from './store.js';
import { appendAudit } from './audit-log.js';

const groupTable = (k: GroupKind) => (k === 'user' ? 'user_groups' : 'device_groups');

function userCols(u: Partial<UserRow>): Updateable<UsersTable> {
  const o: Updateable<UsersTable> = {};
  if (u.username !== undefined) o.username = u.username;
  if (u.displayName !== undefined) o.display_name = u.displayName;
  if (u.email !== undefined) o.email = u.email;
  if (u.passwordHash !== undefined) o.password_hash = u.passwordHash;
  if (u.managerId !== undefined) o.manager_id = u.managerId;
  if (u.isAdmin !== undefined) o.is_admin = u.isAdmin ? 1 : 0;
  if (u.disabled !== undefined) o.disabled = u.disabled ? 1 : 0;
  if (u.source !== undefined) o.source = u.source;
  return o;
}

// Both group tables have the same columns.
function groupCols(g: Partial<GroupRow>): Updateable<UserGroupsTable> {
  const o: Updateable<UserGroupsTable> = {};
  if (g.name !== undefined) o.name = g.name;
  if (g.description !== undefined) o.description = g.description;
  if (g.requireApproval !== undefined) o.require_approval = g.requireApproval ? 1 : 0;
  if (g.requireReason !== undefined) o.require_reason = g.requireReason ? 1 : 0;
  return o;
}

function deviceCols(d: Partial<DeviceRow> & { hostKey?: string | null }, now: number): Updateable<DevicesTable> {
  const o: Updateable<DevicesTable> = {};
  if (d.name !== undefined) o.name = d.name;
  if (d.host !== undefined) o.host = d.host;
  if (d.ports !== undefined) o.ports = JSON.stringify(d.ports);
  if (d.protocols !== undefined) o.protocols = d.protocols.join(',');
  if (d.groupId !== undefined) o.group_id = d.groupId;
  if (d.enabled !== undefined) o.enabled = d.enabled ? 1 : 0;
  if (d.options !== undefined) o.options = JSON.stringify(d.options);
  if (d.hostKey !== undefined) {
    o.host_key = d.hostKey;
    o.host_key_pinned_at = d.hostKey === null ? null : now;
  }
  return o;
}

class Writer implements PolicyWriter {
  constructor(
    private readonly t: Transaction<Database>,
    private readonly now: number,
  ) {}

  async insertUser(u: UserRow) {
    const r = await this.t
      .insertInto('users')
      .values({
        username: u.username,
        display_name: u.displayName,
        email: u.email,
        password_hash: u.passwordHash,
        manager_id: u.managerId,
        is_admin: u.isAdmin ? 1 : 0,
        disabled: u.disabled ? 1 : 0,
        source: u.source ?? 'local',
        created_at: this.now,
        updated_at: this.now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return r.id;
  }
  async updateUser(id: number, patch: Partial<UserRow>) {
    await this.t
      .updateTable('users')
      .set({ ...userCols(patch), updated_at: this.now })
      .where('id', '=', id)
      .execute();
  }
  async addUserKey(userId: number, publicKey: string, fingerprint: string, comment: string | null) {
    await this.t
      .insertInto('user_keys')
      .values({ user_id: userId, public_key: publicKey, fingerprint, comment, created_at: this.now })
      .execute();
  }
  async insertGroup(kind: GroupKind, g: GroupRow) {
    const r = await this.t
      .insertInto(groupTable(kind))
      .values({
        name: g.name,
        description: g.description ?? null,
        require_approval: g.requireApproval ? 1 : 0,
        require_reason: g.requireReason ? 1 : 0,
        created_at: this.now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return r.id;
  }
  async updateGroup(kind: GroupKind, id: number, patch: Partial<GroupRow>) {
    const cols = groupCols(patch);
    if (Object.keys(cols).length) await this.t.updateTable(groupTable(kind)).set(cols).where('id', '=', id).execute();
  }
  async setManagers(kind: GroupKind, groupId: number, userIds: number[]) {
    const table = kind === 'user' ? 'user_group_managers' : 'device_group_managers';
    await this.t.deleteFrom(table).where('group_id', '=', groupId).execute();
    if (userIds.length)
      await this.t
        .insertInto(table)
        .values(userIds.map((user_id) => ({ group_id: groupId, user_id })))
        .execute();
  }
  async addMember(groupId: number, userId: number) {
    const r = await this.t
      .insertInto('user_group_members')
      .values({ group_id: groupId, user_id: userId })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }
  async removeMember(groupId: number, userId: number) {
    const r = await this.t
      .deleteFrom('user_group_members')
      .where('group_id', '=', groupId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
  async insertDevice(d: DeviceRow) {
    const r = await this.t
      .insertInto('devices')
      .values({
        name: d.name,
        host: d.host,
        ports: JSON.stringify(d.ports),
        protocols: d.protocols.join(','),
        group_id: d.groupId,
        enabled: d.enabled ? 1 : 0,
        options: JSON.stringify(d.options ?? {}),
        created_at: this.now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return r.id;
  }
  async updateDevice(id: number, patch: Partial<DeviceRow> & { hostKey?: string | null }) {
    const cols = deviceCols(patch, this.now);
    if (Object.keys(cols).length) await this.t.updateTable('devices').set(cols).where('id', '=', id).execute();
  }
  async pinHostKey(id: number, hostKey: string) {
    const r = await this.t
      .updateTable('devices')
      .set({ host_key: hostKey, host_key_pinned_at: this.now })
      .where('id', '=', id)
      .where('host_key', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
  async insertAccount(deviceId: number, a: { name: string; secretKind: 'password' | 'key'; secretEnc: string; isDefault: boolean }) {
    if (a.isDefault) await this.t.updateTable('accounts').set({ is_default: 0 }).where('device_id', '=', deviceId).execute();
    const r = await this.t
      .insertInto('accounts')
      .values({
        device_id: deviceId,
        name: a.name,
        secret_kind: a.secretKind,
        secret_enc: a.secretEnc,
        is_default: a.isDefault ? 1 : 0,
        created_at: this.now,
      })
      .onConflict((oc) =>
        oc
          .columns(['device_id', 'name'])
          .doUpdateSet({ secret_kind: a.secretKind, secret_enc: a.secretEnc, is_default: a.isDefault ? 1 : 0 }),
      )
      .returning('id')
      .executeTakeFirstOrThrow();
    return r.id;
  }
  async upsertAccessRule(userGroupId: number, deviceGroupId: number, protocols: Protocol[], allowPortForwarding: boolean) {
    const r = await this.t
      .insertInto('access_rules')
      .values({
        user_group_id: userGroupId,
        device_group_id: deviceGroupId,
        protocols: protocols.join(','),
        allow_port_forwarding: allowPortForwarding ? 1 : 0,
        created_at: this.now,
      })
      .onConflict((oc) =>
        oc
          .columns(['user_group_id', 'device_group_id'])
          .doUpdateSet({ protocols: protocols.join(','), allow_port_forwarding: allowPortForwarding ? 1 : 0 }),
      )
      .returning('id')
      .executeTakeFirstOrThrow();
    return r.id;
  }
  async deleteAccessRule(userGroupId: number, deviceGroupId: number) {
    const r = await this.t
      .deleteFrom('access_rules')
      .where('user_group_id', '=', userGroupId)
      .where('device_group_id', '=', deviceGroupId)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
  async insertWorkflow(name: string, userGroupId: number, deviceGroupId: number, levels: WorkflowLevel[]) {
    const r = await this.t
      .insertInto('workflows')
      .values({ name, user_group_id: userGroupId, device_group_id: deviceGroupId, levels: JSON.stringify(levels), created_at: this.now })
      .returning('id')
      .executeTakeFirstOrThrow();
    return r.id;
  }
  async updateWorkflow(id: number, w: { name: string; userGroupId: number; deviceGroupId: number; levels: WorkflowLevel[] }) {
    await this.t
      .updateTable('workflows')
      .set({ name: w.name, user_group_id: w.userGroupId, device_group_id: w.deviceGroupId, levels: JSON.stringify(w.levels) })
      .where('id', '=', id)
      .execute();
  }
  async deleteWorkflow(name: string) {
    const r = await this.t.deleteFrom('workflows').where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
  async setParam(name: string, value: string, at: number) {
    await this.t
      .insertInto('params')
      .values({ name, value, updated_at: at })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value, updated_at: at }))
      .execute();
  }
}

export class KyselyAdminStore implements AdminStore {
  constructor(
    private readonly store: KyselyStore,
    private readonly now: () => number = Date.now,
  ) {}

  async write<T>(audit: AuditEntry | ((result: T) => AuditEntry), fn: (w: PolicyWriter) => Promise<T>): Promise<T> {
    const now = this.now();
    return this.store.db.transaction().execute(async (t) => {
      const result = await fn(new Writer(t, now));
      const entry = typeof audit === 'function' ? audit(result) : audit;
      await appendAudit(t, this.store.auditKey, entry, now);
      await t
        .updateTable('meta')
        .set({ value: sql`cast(cast(value as integer) + 1 as varchar(32))` })
        .where('key', '=', 'policy_version')
        .execute();
      await appendEvent(t, 'policy.changed', { action: entry.action }, now);
      return result;
    });
  }

  async hostKeyOf(deviceId: number) {
    const r = await this.store.db.selectFrom('devices').select('host_key').where('id', '=', deviceId).executeTakeFirst();
    return r?.host_key ?? null;
  }

  async passwordHash(username: string) {
    const r = await this.store.db
      .selectFrom('users')
      .select(['id', 'password_hash', 'disabled'])
      .where('username', '=', username)
      .executeTakeFirst();
    return r ? { userId: r.id, hash: r.password_hash, disabled: r.disabled === 1 } : undefined;
  }

  async userKeys(userId?: number) {
    let q = this.store.db.selectFrom('user_keys').selectAll();
    if (userId !== undefined) q = q.where('user_id', '=', userId);
    return (await q.execute()).map((k) => ({ userId: k.user_id, publicKey: k.public_key, fingerprint: k.fingerprint, comment: k.comment }));
  }

  async accountSecret(accountId: number) {
    const r = await this.store.db
      .selectFrom('accounts')
      .select(['secret_kind', 'secret_enc'])
      .where('id', '=', accountId)
      .executeTakeFirst();
    return r ? { kind: r.secret_kind as 'password' | 'key', enc: r.secret_enc } : undefined;
  }

  async listAudit(f: {
    limit: number;
    action?: string;
    targetType?: string;
    targetId?: string;
    beforeId?: number;
  }): Promise<AuditRecord[]> {
    let q = this.store.db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(f.limit);
    if (f.action) q = q.where('action', 'like', `${f.action}%`);
    if (f.targetType) q = q.where('target_type', '=', f.targetType);
    if (f.targetId) q = q.where('target_id', '=', f.targetId);
    if (f.beforeId !== undefined) q = q.where('id', '<', f.beforeId);
    return (await q.execute()).map((r) => ({
      id: r.id,
      at: r.at,
      actor: r.actor,
      channel: r.channel,
      action: r.action,
      targetType: r.target_type,
      targetId: r.target_id,
      details: JSON.parse(r.details),
    }));
  }
}

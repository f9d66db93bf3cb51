// Delegations of approval rights (core/ports/delegations.ts). A new one is written with its audit record
// and its event in one transaction.
import type { Kysely, Selectable } from 'kysely';
import type { DelegationStore } from '../core/ports/delegations.js';
import type { AuditEntry, Delegation } from '../core/types.js';
import { appendAudit } from './audit-log.js';
import { appendEvent } from './event-log.js';
import type { Database, DelegationsTable } from './schema.js';

function toDelegation(d: Selectable<DelegationsTable>): Delegation {
  return {
    id: d.id,
    fromUserId: d.from_user_id,
    toUserId: d.to_user_id,
    startsAt: d.starts_at,
    endsAt: d.ends_at,
    reason: d.reason,
    revokedAt: d.revoked_at,
  };
}

export class KyselyDelegationStore implements DelegationStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly auditKey: () => Buffer,
  ) {}

  async delegationsTo(userId: number, at: number) {
    const rows = await this.db
      .selectFrom('delegations')
      .selectAll()
      .where('to_user_id', '=', userId)
      .where('starts_at', '<=', at)
      .where('ends_at', '>', at)
      .where('revoked_at', 'is', null)
      .execute();
    return rows.map(toDelegation);
  }

  async delegationsFrom(userIds: readonly number[], at: number) {
    if (!userIds.length) return [];
    const rows = await this.db
      .selectFrom('delegations')
      .selectAll()
      .where('from_user_id', 'in', [...userIds])
      .where('starts_at', '<=', at)
      .where('ends_at', '>', at)
      .where('revoked_at', 'is', null)
      .execute();
    return rows.map(toDelegation);
  }

  async listDelegations(userId?: number) {
    let q = this.db.selectFrom('delegations').selectAll().orderBy('id', 'desc');
    if (userId !== undefined) q = q.where((eb) => eb.or([eb('from_user_id', '=', userId), eb('to_user_id', '=', userId)]));
    return (await q.execute()).map(toDelegation);
  }

  async insertDelegation(d: Omit<Delegation, 'id' | 'revokedAt'>, audit: AuditEntry, at: number) {
    return this.db.transaction().execute(async (t) => {
      const row = await t
        .insertInto('delegations')
        .values({
          from_user_id: d.fromUserId,
          to_user_id: d.toUserId,
          starts_at: d.startsAt,
          ends_at: d.endsAt,
          reason: d.reason,
          created_at: at,
          revoked_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await appendAudit(t, this.auditKey(), { ...audit, targetId: row.id }, at);
      await appendEvent(t, 'delegation.created', { id: row.id, fromUserId: d.fromUserId, toUserId: d.toUserId }, at);
      return toDelegation(row);
    });
  }
}

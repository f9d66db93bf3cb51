// The directory's tables (migration 009): settings, links from local users/groups to DNs, TOTP secrets,
// recovery codes and the per-group second-factor flag.
import type { Kysely } from 'kysely';
import type { DirectoryStore, Link, LinkKind, StoredConfig } from '../core/ports/directory-store.js';
import type { Database, DirectoryConfigTable } from './schema.js';

const APPROVERS_KEY = 'second_factor.approvers';

export class KyselyDirectoryStore implements DirectoryStore {
  constructor(private readonly db: Kysely<Database>) {}

  async config(): Promise<StoredConfig | undefined> {
    const r = await this.db.selectFrom('directory_config').selectAll().where('id', '=', 1).executeTakeFirst();
    if (!r) return undefined;
    return {
      settings: JSON.parse(r.settings),
      bindPasswordEnc: r.bind_password_enc,
      updatedAt: r.updated_at,
      lastSyncAt: r.last_sync_at,
      lastSummary: r.last_summary ? JSON.parse(r.last_summary) : null,
    };
  }

  async saveConfig(settings: unknown, bindPasswordEnc: string | null | undefined, now: number): Promise<void> {
    const json = JSON.stringify(settings);
    const set: Partial<DirectoryConfigTable> = { settings: json, updated_at: now };
    if (bindPasswordEnc !== undefined) set.bind_password_enc = bindPasswordEnc;
    await this.db
      .insertInto('directory_config')
      .values({
        id: 1,
        settings: json,
        bind_password_enc: bindPasswordEnc ?? null,
        updated_at: now,
        last_sync_at: null,
        last_summary: null,
        lease_until: null,
        lease_owner: null,
      })
      .onConflict((oc) => oc.column('id').doUpdateSet(set))
      .execute();
  }

  async recordSync(summary: unknown, now: number): Promise<void> {
    await this.db
      .updateTable('directory_config')
      .set({ last_sync_at: now, last_summary: JSON.stringify(summary) })
      .where('id', '=', 1)
      .execute();
  }

  /** One node at a time: takes the sync lease when it is free or lapsed. */
  async takeLease(owner: string, now: number, ms: number): Promise<boolean> {
    const r = await this.db
      .updateTable('directory_config')
      .set({ lease_until: now + ms, lease_owner: owner })
      .where('id', '=', 1)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now), eb('lease_owner', '=', owner)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async releaseLease(owner: string): Promise<void> {
    await this.db
      .updateTable('directory_config')
      .set({ lease_until: null, lease_owner: null })
      .where('id', '=', 1)
      .where('lease_owner', '=', owner)
      .execute();
  }

  async links(kind?: LinkKind): Promise<Link[]> {
    let q = this.db.selectFrom('directory_links').selectAll();
    if (kind) q = q.where('kind', '=', kind);
    return (await q.execute()).map((r) => ({ kind: r.kind as LinkKind, name: r.name, dn: r.dn, disabledBySync: r.disabled_by_sync === 1 }));
  }

  async link(kind: LinkKind, name: string): Promise<Link | undefined> {
    const r = await this.db.selectFrom('directory_links').selectAll().where('kind', '=', kind).where('name', '=', name).executeTakeFirst();
    return r ? { kind, name: r.name, dn: r.dn, disabledBySync: r.disabled_by_sync === 1 } : undefined;
  }

  /** Records links in one transaction; only those that differ from `known` are written. */
  async upsertLinks(links: Link[], source: string, now: number, known: Link[] = []): Promise<void> {
    const have = new Map(known.map((l) => [`${l.kind}:${l.name}`, l] as const));
    const todo = links.filter((l) => {
      const k = have.get(`${l.kind}:${l.name}`);
      return !k || k.dn !== l.dn || k.disabledBySync !== l.disabledBySync;
    });
    if (!todo.length) return;
    await this.db.transaction().execute(async (t) => {
      for (const l of todo) {
        const v = { kind: l.kind, name: l.name, dn: l.dn, source, disabled_by_sync: l.disabledBySync ? 1 : 0, synced_at: now };
        await t
          .insertInto('directory_links')
          .values(v)
          .onConflict((oc) => oc.columns(['kind', 'name']).doUpdateSet({ dn: v.dn, disabled_by_sync: v.disabled_by_sync, synced_at: now }))
          .execute();
      }
    });
  }

  // ---- second factor

  async totp(userId: number) {
    return this.db.selectFrom('totp_secrets').selectAll().where('user_id', '=', userId).executeTakeFirst();
  }

  async putTotp(userId: number, secretEnc: string, now: number): Promise<void> {
    await this.db.deleteFrom('totp_secrets').where('user_id', '=', userId).execute();
    await this.db
      .insertInto('totp_secrets')
      .values({ user_id: userId, secret_enc: secretEnc, enabled: 0, last_step: null, created_at: now, enabled_at: null })
      .execute();
  }

  async enableTotp(userId: number, step: number, recoveryHashes: string[], now: number): Promise<void> {
    await this.db.transaction().execute(async (t) => {
      await t.updateTable('totp_secrets').set({ enabled: 1, enabled_at: now, last_step: step }).where('user_id', '=', userId).execute();
      await t.deleteFrom('totp_recovery_codes').where('user_id', '=', userId).execute();
      if (recoveryHashes.length)
        await t
          .insertInto('totp_recovery_codes')
          .values(recoveryHashes.map((code_hash) => ({ user_id: userId, code_hash, used_at: null })))
          .execute();
    });
  }

  async deleteTotp(userId: number): Promise<boolean> {
    const r = await this.db.deleteFrom('totp_secrets').where('user_id', '=', userId).executeTakeFirst();
    await this.db.deleteFrom('totp_recovery_codes').where('user_id', '=', userId).execute();
    return Number(r.numDeletedRows) > 0;
  }

  /** The replay guard: records `step` as used only if it is later than the last one (one conditional update). */
  async useStep(userId: number, step: number): Promise<boolean> {
    const r = await this.db
      .updateTable('totp_secrets')
      .set({ last_step: step })
      .where('user_id', '=', userId)
      .where('enabled', '=', 1)
      .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Spends a recovery code: true once per code. */
  async useRecovery(userId: number, codeHash: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('totp_recovery_codes')
      .set({ used_at: now })
      .where('user_id', '=', userId)
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async recoveryLeft(userId: number): Promise<number> {
    const r = await this.db
      .selectFrom('totp_recovery_codes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  /** Everyone who may approve must pass the second factor (a row in the shared meta table). */
  async approversNeedSecondFactor(): Promise<boolean> {
    const r = await this.db.selectFrom('meta').select('value').where('key', '=', APPROVERS_KEY).executeTakeFirst();
    return r?.value === '1';
  }

  async setApproversNeedSecondFactor(on: boolean): Promise<void> {
    await this.db
      .insertInto('meta')
      .values({ key: APPROVERS_KEY, value: on ? '1' : '0' })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: on ? '1' : '0' }))
      .execute();
  }

  async secondFactorGroupIds(): Promise<Set<number>> {
    return new Set((await this.db.selectFrom('user_group_second_factor').select('group_id').execute()).map((r) => r.group_id));
  }

  async setSecondFactorGroup(groupId: number, on: boolean, now: number): Promise<void> {
    if (on)
      await this.db
        .insertInto('user_group_second_factor')
        .values({ group_id: groupId, updated_at: now })
        .onConflict((oc) => oc.column('group_id').doNothing())
        .execute();
    else await this.db.deleteFrom('user_group_second_factor').where('group_id', '=', groupId).execute();
  }
}

// SSH sign-in codes by hash. Confirming and using are each one conditional update: under any race, on
// any number of nodes, exactly one browser confirms a code and exactly one SSH connection uses it.
import type { Kysely } from 'kysely';
import type { NewSshSsoCode, SshLoginMethod, SshSsoStore, StoredSshSsoCode } from '../core/ports/ssh-sso.js';
import { SSH_LOGIN_METHODS } from '../core/ports/ssh-sso.js';
import type { SshSsoCodesTable } from './auth-tables.js';
import type { Database } from './schema.js';

type Row = Omit<SshSsoCodesTable, 'id'> & { id: number };

const toCode = (r: Row): StoredSshSsoCode => ({
  username: r.username,
  clientAddr: r.client_addr,
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
  confirmedAt: r.confirmed_at === null ? null : Number(r.confirmed_at),
  confirmedUserId: r.confirmed_user_id,
  confirmedFrom: r.confirmed_from,
  usedAt: r.used_at === null ? null : Number(r.used_at),
});

export class KyselySshSsoStore implements SshSsoStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(c: NewSshSsoCode): Promise<void> {
    await this.db
      .insertInto('ssh_sso_codes')
      .values({
        code_hash: c.codeHash,
        username: c.username,
        client_addr: c.clientAddr,
        node_id: c.nodeId,
        created_at: c.createdAt,
        expires_at: c.expiresAt,
        confirmed_at: null,
        confirmed_user_id: null,
        confirmed_from: null,
        used_at: null,
      })
      .execute();
  }

  async find(codeHash: string): Promise<StoredSshSsoCode | undefined> {
    const r = await this.db.selectFrom('ssh_sso_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
    return r ? toCode(r) : undefined;
  }

  async confirm(codeHash: string, userId: number, from: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('ssh_sso_codes')
      .set({ confirmed_at: now, confirmed_user_id: userId, confirmed_from: from.slice(0, 100) })
      .where('code_hash', '=', codeHash)
      .where('confirmed_at', 'is', null)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async use(codeHash: string, now: number): Promise<StoredSshSsoCode | undefined> {
    const r = await this.db
      .updateTable('ssh_sso_codes')
      .set({ used_at: now })
      .where('code_hash', '=', codeHash)
      .where('confirmed_at', 'is not', null)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
    return r ? toCode(r) : undefined;
  }

  async prune(before: number): Promise<void> {
    await this.db.deleteFrom('ssh_sso_codes').where('expires_at', '<', before).execute();
  }

  async groupMethods(): Promise<Map<number, SshLoginMethod>> {
    const rows = await this.db.selectFrom('ssh_sso_group_methods').select(['group_id', 'method']).execute();
    const known = (m: string): m is SshLoginMethod => (SSH_LOGIN_METHODS as readonly string[]).includes(m);
    return new Map(rows.filter((r) => known(r.method)).map((r) => [r.group_id, r.method as SshLoginMethod]));
  }

  async setGroupMethod(groupId: number, method: SshLoginMethod | null, now: number): Promise<void> {
    if (method === null) {
      await this.db.deleteFrom('ssh_sso_group_methods').where('group_id', '=', groupId).execute();
      return;
    }
    await this.db
      .insertInto('ssh_sso_group_methods')
      .values({ group_id: groupId, method, updated_at: now })
      .onConflict((oc) => oc.column('group_id').doUpdateSet({ method, updated_at: now }))
      .execute();
  }
}

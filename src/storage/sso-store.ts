// OpenID Connect login's tables (migration 015): settings, login transactions, subject links; and the
// leaver's sign-out of every console session and API token of one user.
import type { Kysely } from 'kysely';
import type { SsoLink, SsoLoginRow, SsoStore, SsoStoredConfig } from '../sso/store.js';
import type { Database } from './schema.js';

export class KyselySsoStore implements SsoStore {
  constructor(private readonly db: Kysely<Database>) {}

  async config(): Promise<SsoStoredConfig | undefined> {
    const r = await this.db.selectFrom('sso_config').selectAll().where('id', '=', 1).executeTakeFirst();
    if (!r) return undefined;
    return {
      settings: JSON.parse(r.settings),
      clientSecretEnc: r.client_secret_enc,
      enabled: r.enabled === 1,
      updatedAt: Number(r.updated_at),
    };
  }

  async saveConfig(settings: unknown, clientSecretEnc: string | undefined, now: number): Promise<void> {
    const json = JSON.stringify(settings);
    await this.db
      .insertInto('sso_config')
      .values({ id: 1, settings: json, client_secret_enc: clientSecretEnc ?? null, enabled: 1, updated_at: now })
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({
          settings: json,
          enabled: 1,
          updated_at: now,
          ...(clientSecretEnc !== undefined ? { client_secret_enc: clientSecretEnc } : {}),
        }),
      )
      .execute();
  }

  async setEnabled(enabled: boolean, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('sso_config')
      .set({ enabled: enabled ? 1 : 0, updated_at: now })
      .where('id', '=', 1)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async putLogin(row: SsoLoginRow, now: number, max: { total: number; perAddr: number }): Promise<boolean> {
    await this.db.deleteFrom('sso_logins').where('expires_at', '<=', now).execute();
    const count = async (addr?: string | null) => {
      let q = this.db.selectFrom('sso_logins').select((eb) => eb.fn.countAll<number>().as('n'));
      if (addr !== undefined) q = addr === null ? q.where('client_addr', 'is', null) : q.where('client_addr', '=', addr);
      return Number((await q.executeTakeFirst())?.n ?? 0);
    };
    if ((await count(row.clientAddr)) >= max.perAddr || (await count()) >= max.total) return false;
    await this.db
      .insertInto('sso_logins')
      .values({
        state: row.state,
        nonce: row.nonce,
        verifier: row.verifier,
        return_to: row.returnTo,
        browser_hash: row.browserHash,
        client_addr: row.clientAddr,
        created_at: row.createdAt,
        expires_at: row.expiresAt,
      })
      .execute();
    return true;
  }

  async takeLogin(state: string, now: number): Promise<SsoLoginRow | undefined> {
    const r = await this.db.selectFrom('sso_logins').selectAll().where('state', '=', state).executeTakeFirst();
    if (!r) return undefined;
    // The delete decides: of parallel callers on any node, only the one that removed the row goes on.
    const d = await this.db.deleteFrom('sso_logins').where('state', '=', state).executeTakeFirst();
    if (Number(d.numDeletedRows) !== 1 || Number(r.expires_at) <= now) return undefined;
    return {
      state: r.state,
      nonce: r.nonce,
      verifier: r.verifier,
      returnTo: r.return_to,
      browserHash: r.browser_hash,
      clientAddr: r.client_addr,
      createdAt: Number(r.created_at),
      expiresAt: Number(r.expires_at),
    };
  }

  async link(userId: number): Promise<SsoLink | undefined> {
    const r = await this.db.selectFrom('sso_links').selectAll().where('user_id', '=', userId).executeTakeFirst();
    return r ? { userId: r.user_id, subject: r.subject, groups: JSON.parse(r.groups) as string[] } : undefined;
  }

  async linkBySubject(subject: string): Promise<SsoLink | undefined> {
    const r = await this.db.selectFrom('sso_links').selectAll().where('subject', '=', subject).executeTakeFirst();
    return r ? { userId: r.user_id, subject: r.subject, groups: JSON.parse(r.groups) as string[] } : undefined;
  }

  async saveLink(link: SsoLink, now: number): Promise<void> {
    const groups = JSON.stringify(link.groups);
    await this.db
      .insertInto('sso_links')
      .values({ user_id: link.userId, subject: link.subject, groups, last_login_at: now })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ subject: link.subject, groups, last_login_at: now }))
      .execute();
  }

  async signOutUser(userId: number, now: number): Promise<{ sessions: number; tokens: number }> {
    return this.db.transaction().execute(async (tx) => {
      const s = await tx.deleteFrom('web_sessions').where('user_id', '=', userId).executeTakeFirst();
      const t = await tx
        .updateTable('api_tokens')
        .set({ revoked_at: now })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return { sessions: Number(s.numDeletedRows), tokens: Number(t.numUpdatedRows) };
    });
  }
}

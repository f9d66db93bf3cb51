// Passkeys and their challenges. spend() is one conditional UPDATE (unused, live, matching user, purpose
// and scope), so of any number of concurrent uses of one challenge on any number of nodes exactly one wins.
import type { Kysely, Selectable } from 'kysely';
import type { Passkey, PasskeyChallenge, PasskeyPurpose, PasskeyStore } from '../core/passkeys.js';
import type { PasskeysTable } from './auth-tables.js';
import type { Database } from './schema.js';

const toPasskey = (r: Selectable<PasskeysTable>): Passkey => ({
  id: Number(r.id),
  userId: Number(r.user_id),
  credentialId: r.credential_id,
  publicKey: r.public_key,
  counter: Number(r.counter),
  transports: r.transports ? r.transports.split(',') : [],
  name: r.name,
  createdAt: Number(r.created_at),
  lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
});

export class KyselyPasskeyStore implements PasskeyStore {
  constructor(private readonly db: Kysely<Database>) {}

  async list(userId: number): Promise<Passkey[]> {
    const rows = await this.db.selectFrom('passkeys').selectAll().where('user_id', '=', userId).orderBy('id').execute();
    return rows.map(toPasskey);
  }

  async byCredential(credentialId: string): Promise<Passkey | undefined> {
    const r = await this.db.selectFrom('passkeys').selectAll().where('credential_id', '=', credentialId).executeTakeFirst();
    return r ? toPasskey(r) : undefined;
  }

  async insert(p: Omit<Passkey, 'id' | 'lastUsedAt'>): Promise<Passkey> {
    const r = await this.db
      .insertInto('passkeys')
      .values({
        user_id: p.userId,
        credential_id: p.credentialId,
        public_key: p.publicKey,
        counter: p.counter,
        transports: p.transports.join(','),
        name: p.name,
        created_at: p.createdAt,
        last_used_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toPasskey(r);
  }

  async remove(userId: number, id: number): Promise<Passkey | undefined> {
    const r = await this.db.deleteFrom('passkeys').where('id', '=', id).where('user_id', '=', userId).returningAll().executeTakeFirst();
    return r ? toPasskey(r) : undefined;
  }

  async used(id: number, old: number, next: number, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable('passkeys')
      .set({ counter: next, last_used_at: at })
      .where('id', '=', id)
      .where('counter', '=', old)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async counts(): Promise<Map<number, number>> {
    const rows = await this.db
      .selectFrom('passkeys')
      .select((eb) => ['user_id', eb.fn.countAll<number>().as('n')])
      .groupBy('user_id')
      .execute();
    return new Map(rows.map((r) => [Number(r.user_id), Number(r.n)]));
  }

  async addChallenge(c: PasskeyChallenge): Promise<void> {
    await this.db
      .insertInto('passkey_challenges')
      .values({ challenge: c.challenge, user_id: c.userId, purpose: c.purpose, scope: c.scope, expires_at: c.expiresAt, used_at: null })
      .execute();
  }

  async spend(challenge: string, userId: number, purpose: PasskeyPurpose, scope: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('passkey_challenges')
      .set({ used_at: now })
      .where('challenge', '=', challenge)
      .where('user_id', '=', userId)
      .where('purpose', '=', purpose)
      .where('scope', '=', scope)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async pruneChallenges(before: number): Promise<void> {
    await this.db.deleteFrom('passkey_challenges').where('expires_at', '<', before).execute();
  }
}

// Second-factor login tickets by hash. A try and the final use are each one conditional statement, so
// parallel attempts on several processes cannot exceed the tries or use one ticket twice.
import type { Kysely } from 'kysely';
import type { LoginTicket, LoginTicketStore } from '../core/ports/login-tickets.js';
import type { Database } from './schema.js';

export class KyselyLoginTicketStore implements LoginTicketStore {
  constructor(private readonly db: Kysely<Database>) {}

  async issue(hash: string, t: LoginTicket, now: number): Promise<void> {
    await this.db.deleteFrom('login_tickets').where('expires_at', '<=', now).execute();
    await this.db
      .insertInto('login_tickets')
      .values({ ticket_hash: hash, user_id: t.userId, client_addr: t.addr, expires_at: t.expiresAt, tries: t.tries })
      .execute();
  }

  async find(hash: string, now: number): Promise<LoginTicket | undefined> {
    const r = await this.db
      .selectFrom('login_tickets')
      .selectAll()
      .where('ticket_hash', '=', hash)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return r && { userId: r.user_id, addr: r.client_addr, expiresAt: Number(r.expires_at), tries: r.tries };
  }

  async spendTry(hash: string, addr: string, now: number, max: number): Promise<boolean> {
    const r = await this.db
      .updateTable('login_tickets')
      .set((eb) => ({ tries: eb('tries', '+', 1) }))
      .where('ticket_hash', '=', hash)
      .where('client_addr', '=', addr)
      .where('expires_at', '>', now)
      .where('tries', '<', max)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async remove(hash: string): Promise<boolean> {
    const r = await this.db.deleteFrom('login_tickets').where('ticket_hash', '=', hash).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }
}

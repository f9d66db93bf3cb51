// RDP tickets by hash. Consuming is one conditional update: under any race exactly one connection gets it.
import type { Kysely } from 'kysely';
import type { NewRdpTicket, RdpTicketRepository, StoredRdpTicket } from '../core/ports/rdp-tickets.js';
import type { ProtocolDatabase } from './protocol-tables.js';

export class KyselyRdpTicketRepository implements RdpTicketRepository {
  constructor(private readonly db: Kysely<ProtocolDatabase>) {}

  async insert(t: NewRdpTicket): Promise<number> {
    const row = await this.db
      .insertInto('rdp_tickets')
      .values({
        token_hash: t.tokenHash,
        user_id: t.userId,
        device_id: t.deviceId,
        account_id: t.accountId,
        approval_id: t.approvalId,
        channel: t.channel,
        created_at: t.createdAt,
        expires_at: t.expiresAt,
        used_at: null,
        used_by: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async pruneExpired(before: number): Promise<void> {
    await this.db.deleteFrom('rdp_tickets').where('expires_at', '<', before).execute();
  }

  async consume(tokenHash: string, now: number, usedBy: string): Promise<StoredRdpTicket | undefined> {
    const row = await this.db
      .updateTable('rdp_tickets')
      .set({ used_at: now, used_by: usedBy })
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      id: row.id,
      userId: row.user_id,
      deviceId: row.device_id,
      accountId: row.account_id,
      approvalId: row.approval_id,
      expiresAt: Number(row.expires_at),
    };
  }

  async find(tokenHash: string): Promise<{ used: boolean } | undefined> {
    const row = await this.db.selectFrom('rdp_tickets').select('used_at').where('token_hash', '=', tokenHash).executeTakeFirst();
    return row ? { used: row.used_at !== null } : undefined;
  }
}

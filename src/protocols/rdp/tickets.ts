// One-time RDP tickets: what the .rdp file carries in `loadbalanceinfo`. A ticket is 32 random bytes
// (base64url), valid for 60 s to *start* a connection, bound to user, device, account and the grant that
// allowed it. Only its SHA-256 is stored, so a database dump holds no usable ticket. Consuming is one
// conditional update: under any race exactly one connection gets the ticket.
import { createHash, randomBytes } from 'node:crypto';
import type { Generated, Kysely } from 'kysely';
import type { Channel } from '../../core/types.js';

export const TICKET_TTL_MS = 60_000;
/** `gh1.` + 43 base64url characters. */
export const TICKET_RE = /^gh1\.[A-Za-z0-9_-]{43}$/;

interface RdpTicketTable {
  id: Generated<number>;
  token_hash: string;
  user_id: number;
  device_id: number;
  account_id: number;
  approval_id: number | null;
  channel: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  used_by: string | null;
}
interface TicketDb {
  rdp_tickets: RdpTicketTable;
}

export interface TicketBinding {
  userId: number;
  deviceId: number;
  accountId: number;
  /** The approval request whose grant allowed it; null when no approval was needed. */
  approvalId: number | null;
}

export interface Ticket extends TicketBinding {
  id: number;
  expiresAt: number;
}

export type ConsumeResult = { ok: true; ticket: Ticket } | { ok: false; why: 'malformed' | 'unknown' | 'used' | 'expired' };

const hash = (t: string) => createHash('sha256').update(t).digest('hex');

export class TicketStore {
  private readonly db: Kysely<TicketDb>;
  constructor(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    db: Kysely<any>,
    private readonly now: () => number,
  ) {
    this.db = db as Kysely<TicketDb>;
  }

  async issue(b: TicketBinding, channel: Channel): Promise<{ ticket: string; id: number; expiresAt: number }> {
    const ticket = `gh1.${randomBytes(32).toString('base64url')}`;
    const now = this.now();
    const expiresAt = now + TICKET_TTL_MS;
    const row = await this.db
      .insertInto('rdp_tickets')
      .values({ token_hash: hash(ticket), user_id: b.userId, device_id: b.deviceId, account_id: b.accountId, approval_id: b.approvalId, channel, created_at: now, expires_at: expiresAt, used_at: null, used_by: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    // Housekeeping: tickets are useless a minute after issue; keep a day for the audit trail's sake.
    await this.db.deleteFrom('rdp_tickets').where('expires_at', '<', now - 24 * 3600_000).execute();
    return { ticket, id: row.id, expiresAt };
  }

  /** Validates and consumes atomically. The reason is for the audit log only, never for the client. */
  async consume(ticket: string, by: string): Promise<ConsumeResult> {
    if (!TICKET_RE.test(ticket)) return { ok: false, why: 'malformed' };
    const now = this.now();
    const h = hash(ticket);
    const row = await this.db
      .updateTable('rdp_tickets')
      .set({ used_at: now, used_by: by.slice(0, 64) })
      .where('token_hash', '=', h)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
    if (row) return { ok: true, ticket: { id: row.id, userId: row.user_id, deviceId: row.device_id, accountId: row.account_id, approvalId: row.approval_id, expiresAt: Number(row.expires_at) } };
    const seen = await this.db.selectFrom('rdp_tickets').select(['used_at', 'expires_at']).where('token_hash', '=', h).executeTakeFirst();
    if (!seen) return { ok: false, why: 'unknown' };
    return { ok: false, why: seen.used_at !== null ? 'used' : 'expired' };
  }
}

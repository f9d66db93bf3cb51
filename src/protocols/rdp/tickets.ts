// One-time RDP tickets: what the .rdp file carries in `loadbalanceinfo`. A ticket is 32 random bytes
// (base64url), valid for 60 s to *start* a connection, bound to user, device, account and the grant that
// allowed it. Only its SHA-256 is stored, so a database dump holds no usable ticket. Consuming is one
// conditional update: under any race exactly one connection gets the ticket.
import { createHash, randomBytes } from 'node:crypto';
import type { RdpTicketRepository } from '../../core/ports/rdp-tickets.js';
import type { Channel } from '../../core/types.js';

export const TICKET_TTL_MS = 60_000;
/** `gh1.` + 43 base64url characters. */
export const TICKET_RE = /^gh1\.[A-Za-z0-9_-]{43}$/;

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
  constructor(
    private readonly repo: RdpTicketRepository,
    private readonly now: () => number,
  ) {}

  async issue(b: TicketBinding, channel: Channel): Promise<{ ticket: string; id: number; expiresAt: number }> {
    const ticket = `gh1.${randomBytes(32).toString('base64url')}`;
    const now = this.now();
    const expiresAt = now + TICKET_TTL_MS;
    const id = await this.repo.insert({
      tokenHash: hash(ticket),
      userId: b.userId,
      deviceId: b.deviceId,
      accountId: b.accountId,
      approvalId: b.approvalId,
      channel,
      createdAt: now,
      expiresAt,
    });
    // Housekeeping: tickets are useless a minute after issue; keep a day for the audit trail's sake.
    await this.repo.pruneExpired(now - 24 * 3600_000);
    return { ticket, id, expiresAt };
  }

  /** Validates and consumes atomically. The reason is for the audit log only, never for the client. */
  async consume(ticket: string, by: string): Promise<ConsumeResult> {
    if (!TICKET_RE.test(ticket)) return { ok: false, why: 'malformed' };
    const h = hash(ticket);
    const used = await this.repo.consume(h, this.now(), by.slice(0, 64));
    if (used) return { ok: true, ticket: used };
    const seen = await this.repo.find(h);
    if (!seen) return { ok: false, why: 'unknown' };
    return { ok: false, why: seen.used ? 'used' : 'expired' };
  }
}

// One-time RDP tickets as stored: only the ticket's hash, its binding, and when and by whom it was used.

export interface NewRdpTicket {
  tokenHash: string;
  userId: number;
  deviceId: number;
  accountId: number;
  approvalId: number | null;
  channel: string;
  createdAt: number;
  expiresAt: number;
}

export interface StoredRdpTicket {
  id: number;
  userId: number;
  deviceId: number;
  accountId: number;
  approvalId: number | null;
  expiresAt: number;
}

export interface RdpTicketRepository {
  /** Stores a ticket; returns its id. */
  insert(t: NewRdpTicket): Promise<number>;
  /** Removes tickets that expired before `before`. */
  pruneExpired(before: number): Promise<void>;
  /** Marks the ticket used when it is unused and unexpired at `now` (one conditional update); the ticket when it applied. */
  consume(tokenHash: string, now: number, usedBy: string): Promise<StoredRdpTicket | undefined>;
  /** Whether a ticket with this hash exists and was used (for the audit reason of a refusal). */
  find(tokenHash: string): Promise<{ used: boolean } | undefined>;
}

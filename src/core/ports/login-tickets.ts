// The login's second-factor tickets as stored: only the ticket's hash, the user and address it is bound to,
// its deadline and the tries spent. In the database, so the code step may land on any process or node.

export interface LoginTicket {
  userId: number;
  addr: string;
  expiresAt: number;
  tries: number;
}

export interface LoginTicketStore {
  /** Stores a new ticket, and drops the expired ones. */
  issue(hash: string, t: LoginTicket, now: number): Promise<void>;
  /** The ticket when it exists and is unexpired at `now`. */
  find(hash: string, now: number): Promise<LoginTicket | undefined>;
  /** Spends one try (one conditional update): true only while the ticket is live, bound to `addr` and under `max` tries. */
  spendTry(hash: string, addr: string, now: number, max: number): Promise<boolean>;
  /** Removes the ticket: true for exactly one caller, so one ticket makes at most one session. */
  remove(hash: string): Promise<boolean>;
}

// What the HTTP proxy keeps in the database: one-time login tokens, per-session request figures, and the
// devices' options it reads its per-device settings from.

export interface NewHttpLoginToken {
  tokenHash: string;
  userId: number;
  host: string;
  createdAt: number;
  expiresAt: number;
}

export interface HttpLoginTokenRepository {
  insert(t: NewHttpLoginToken): Promise<void>;
  /** Removes tokens that expired before `before`. */
  pruneExpired(before: number): Promise<void>;
  /** Marks the token used when it is unused, unexpired at `now` and bound to `host` (one conditional update); its user id, else null. */
  consume(tokenHash: string, host: string, now: number): Promise<number | null>;
}

export interface HttpSessionFigures {
  requests: number;
  firstRequestAt: number;
  lastRequestAt: number;
}

export interface HttpSessionStatsRepository {
  /** Writes a session's figures; an existing row keeps its first request time. */
  save(sessionId: number, f: HttpSessionFigures): Promise<void>;
}

export interface DeviceOptionsRepository {
  /** Every device's options, as stored (JSON text). */
  all(): Promise<{ id: number; options: string | null }[]>;
  /** One device's options by name; undefined when there is no such device. */
  byName(name: string): Promise<string | undefined>;
}

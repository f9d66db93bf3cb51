// Failed logins are rate-limited per user and per source address. Failures are rows in the database,
// so every node counts the same attempts; a blocked attempt is refused before the password is checked.
import type { Generated, Kysely } from 'kysely';

interface LoginFailuresTable {
  id: Generated<number>;
  key: string;
  at: number;
}
interface Db {
  login_failures: LoginFailuresTable;
}

export interface LoginLimits {
  windowMs: number;
  perUser: number;
  perAddress: number;
}

export const DEFAULT_LIMITS: LoginLimits = { windowMs: 15 * 60_000, perUser: 5, perAddress: 20 };

export type Blocked = { scope: 'user' | 'address'; retryAfterMs: number } | null;

export class LoginLimiter {
  private readonly db: Kysely<Db>;
  private lastPrune = 0;

  constructor(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    db: Kysely<any>,
    private readonly now: () => number,
    readonly limits: LoginLimits = DEFAULT_LIMITS,
  ) {
    this.db = db as unknown as Kysely<Db>;
  }

  /** Whether this user or address has failed too often within the window. */
  async blocked(user: string | null, addr: string): Promise<Blocked> {
    const since = this.now() - this.limits.windowMs;
    const check = async (key: string, limit: number): Promise<number | null> => {
      const rows = await this.db.selectFrom('login_failures').select('at').where('key', '=', key).where('at', '>', since).orderBy('at', 'desc').limit(limit).execute();
      if (rows.length < limit) return null;
      // Blocked until the oldest of the last `limit` failures leaves the window.
      return rows[limit - 1].at + this.limits.windowMs - this.now();
    };
    const byAddr = await check(`addr:${addr}`, this.limits.perAddress);
    if (byAddr !== null) return { scope: 'address', retryAfterMs: byAddr };
    if (user) {
      const byUser = await check(`user:${user}`, this.limits.perUser);
      if (byUser !== null) return { scope: 'user', retryAfterMs: byUser };
    }
    return null;
  }

  async fail(user: string | null, addr: string): Promise<void> {
    const at = this.now();
    const rows = [{ key: `addr:${addr}`, at }];
    if (user) rows.push({ key: `user:${user}`, at });
    await this.db.insertInto('login_failures').values(rows).execute();
    if (at - this.lastPrune > 60_000) {
      this.lastPrune = at;
      await this.db.deleteFrom('login_failures').where('at', '<', at - this.limits.windowMs).execute();
    }
  }

  /** A successful login clears the user's failures (not the address's: one good account must not unlock guessing others). */
  async succeeded(user: string): Promise<void> {
    await this.db.deleteFrom('login_failures').where('key', '=', `user:${user}`).execute();
  }
}

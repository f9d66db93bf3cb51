// The one limiter for every password and code check (console, SSH, email-link form, second-factor
// steps). An attempt is reserved in the database before the secret is checked: while a key is at its
// limit nothing is verified, on any node. A success clears the user's count (never the address's: one
// good account must not unlock guessing others) and gives its own slot back to the address and link.
import type { Clock } from './ports/clock.js';
import type { LoginAttemptStore } from './ports/login-attempts.js';

export interface LoginLimits {
  windowMs: number;
  /** Password attempts per username, and separately code attempts per username. */
  perUser: number;
  /** Attempts of any kind from one client address. */
  perAddress: number;
  /** Attempts through one email link. */
  perLink: number;
}

export const DEFAULT_LIMITS: LoginLimits = { windowMs: 15 * 60_000, perUser: 5, perAddress: 30, perLink: 5 };

export type LimitScope = 'user' | 'address' | 'link';

export interface AttemptKeys {
  /** Passwords and codes count apart: a right password must not reset the count of wrong codes. */
  kind: 'password' | 'code';
  user: string | null;
  addr: string;
  /** The email link's token hash, when the attempt comes through one. */
  link?: string;
}

export interface Refusal {
  ok: false;
  scope: LimitScope;
  retryAfterMs: number;
  /** The first refusal of this key in its window: audit it (later ones would only flood the log). */
  first: boolean;
}

export interface Reservation {
  ok: true;
  /** The secret was right. A wrong one needs no call: the reserved attempt stays counted. */
  succeeded(): Promise<void>;
}

const PRUNE_EVERY_MS = 60_000;
// Keys are at most 200 characters; a longer user name still gets a key of its own.
const part = (v: string) => (v.length > 120 ? `${v.slice(0, 100)}…${v.length}` : v);

export class LoginLimiter {
  private lastPrune = 0;

  constructor(
    private readonly store: LoginAttemptStore,
    private readonly clock: Clock,
    readonly limits: LoginLimits = DEFAULT_LIMITS,
  ) {}

  private userKey(kind: AttemptKeys['kind'], user: string): string {
    return `${kind === 'password' ? 'pw' : 'code'}:user:${part(user)}`;
  }

  private keysOf(a: AttemptKeys): { key: string; limit: number; scope: LimitScope }[] {
    const keys: { key: string; limit: number; scope: LimitScope }[] = [
      { key: `addr:${part(a.addr)}`, limit: this.limits.perAddress, scope: 'address' },
    ];
    if (a.link) keys.push({ key: `link:${part(a.link)}`, limit: this.limits.perLink, scope: 'link' });
    if (a.user) keys.push({ key: this.userKey(a.kind, a.user), limit: this.limits.perUser, scope: 'user' });
    return keys;
  }

  /** Reserves one attempt on every key, or refuses (and reserves nothing) when any key is at its limit. */
  async reserve(a: AttemptKeys): Promise<Reservation | Refusal> {
    const now = this.clock.now();
    const { windowMs } = this.limits;
    await this.maybePrune(now);
    const taken: { key: string; scope: LimitScope; windowStart: number }[] = [];
    for (const k of this.keysOf(a)) {
      const windowStart = await this.store.reserve(k.key, k.limit, now, windowMs);
      if (windowStart !== null) {
        taken.push({ key: k.key, scope: k.scope, windowStart });
        continue;
      }
      for (const t of taken) await this.store.release(t.key, t.windowStart);
      const r = await this.store.refused(k.key);
      return {
        ok: false,
        scope: k.scope,
        retryAfterMs: Math.max(1000, (r?.windowStart ?? now) + windowMs - now),
        first: r?.first ?? false,
      };
    }
    return {
      ok: true,
      succeeded: async () => {
        for (const t of taken) {
          if (t.scope === 'user') await this.store.clear(t.key);
          else await this.store.release(t.key, t.windowStart);
        }
      },
    };
  }

  /** Whether the address is at its limit, without counting (for logins that guess nothing, like SSH keys). */
  async addressBlocked(addr: string): Promise<Refusal | null> {
    const now = this.clock.now();
    const c = await this.store.count(`addr:${part(addr)}`, now, this.limits.windowMs);
    if (!c || c.n < this.limits.perAddress) return null;
    return { ok: false, scope: 'address', retryAfterMs: Math.max(1000, c.windowStart + this.limits.windowMs - now), first: false };
  }

  private async maybePrune(now: number): Promise<void> {
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    await this.store.prune(now - this.limits.windowMs);
  }
}

/** "15 minutes", "1 minute": how long a refused user waits, for messages. */
export function waitWords(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

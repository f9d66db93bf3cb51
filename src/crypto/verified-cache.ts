// Remembers, for at most a minute, that a password matched a stored hash, so a client opening many short
// connections (a database pool, pgbench -C) pays argon2 once a minute instead of once per connection.
// Only successes are kept, so every wrong guess still costs a full argon2 run (and the callers' login
// limiter counts every attempt either way). The key is an HMAC, under a random per-process secret, of the
// stored hash and the password: a changed password (new hash) never matches an old entry, and disabled
// users are refused by the caller after verify. Nothing here outlives the process or reaches the disk.
import { createHmac, randomBytes } from 'node:crypto';
import type { PasswordHasher } from '../core/ports/crypto.js';

export const VERIFIED_TTL_MS = 60_000;
const MAX_ENTRIES = 10_000;

export function cachingHasher(inner: PasswordHasher, ttlMs = VERIFIED_TTL_MS, now: () => number = Date.now): PasswordHasher {
  const secret = randomBytes(32);
  const seen = new Map<string, number>();
  const keyOf = (hash: string, password: string) =>
    createHmac('sha256', secret).update(hash).update('\0').update(password).digest('base64');
  return {
    hash: (password) => inner.hash(password),
    async verify(stored, password) {
      if (stored === null) return inner.verify(null, password);
      const key = keyOf(stored, password);
      const until = seen.get(key);
      if (until !== undefined && until > now()) return true;
      seen.delete(key);
      const ok = await inner.verify(stored, password);
      if (ok) {
        // Oldest first: Map keeps insertion order, so the first key is the one closest to expiry.
        if (seen.size >= MAX_ENTRIES) seen.delete(seen.keys().next().value as string);
        seen.set(key, now() + ttlMs);
      }
      return ok;
    },
  };
}

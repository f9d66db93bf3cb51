import { hash, verify, Algorithm } from '@node-rs/argon2';
import type { PasswordHasher } from '../core/ports/crypto.js';

// OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
const OPTS = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };
let dummy: Promise<string> | null = null;

export const argon2Hasher: PasswordHasher = {
  hash: (password) => hash(password, OPTS),
  async verify(stored, password) {
    // An unknown user still costs one full argon2 verification: login timing does not reveal who exists.
    dummy ??= hash('gatehouse-dummy-password', OPTS);
    const h = stored ?? (await dummy);
    try {
      const ok = await verify(h, password);
      return stored !== null && ok;
    } catch {
      return false;
    }
  },
};

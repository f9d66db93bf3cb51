// Logging users in: password (argon2id, always run so timing does not reveal who exists) or SSH key.
import type { AdminStore } from './ports/admin-store.js';
import type { PasswordHasher } from './ports/crypto.js';
import type { PolicyCache } from './policy/cache.js';
import type { User } from './types.js';

export class AuthService {
  constructor(
    private readonly admin: AdminStore,
    private readonly policy: PolicyCache,
    private readonly hasher: PasswordHasher,
  ) {}

  /** The user when the password is right and the user is enabled; null otherwise (same work either way). */
  async verifyPassword(username: string, password: string): Promise<User | null> {
    const row = username.length <= 64 ? await this.admin.passwordHash(username) : undefined;
    const ok = await this.hasher.verify(row?.hash ?? null, password);
    if (!ok || !row || row.disabled) return null;
    const p = await this.policy.current();
    return p.usersById.get(row.userId) ?? null;
  }

  /** The user when `publicKey` ("type base64") is one of their registered keys. */
  async verifyPublicKey(username: string, publicKey: string): Promise<User | null> {
    const p = await this.policy.current();
    const u = p.usersByName.get(username);
    if (!u || u.disabled) return null;
    const keys = await this.admin.userKeys(u.id);
    return keys.some((k) => k.publicKey === publicKey) ? u : null;
  }
}

// Logging users in: password (argon2id, always run so timing does not reveal who exists) or SSH key.
// Users synced from a directory log in with a bind to the directory (never a cached password), and may
// need a second factor (TOTP) after it.
import type { AdminStore } from './ports/admin-store.js';
import type { PasswordHasher } from './ports/crypto.js';
import type { PolicyCache } from './policy/cache.js';
import type { User } from './types.js';

/** The directory's answer to a password (a bind as the user); lockouts are the directory's. */
export interface DirectoryLogin {
  bind(username: string, password: string): Promise<boolean>;
}

/** The second factor: who needs it, and checking a code (each code good once). */
export interface SecondFactor {
  required(user: User): Promise<boolean>;
  verify(user: User, code: string): Promise<boolean>;
}

/** The `source` of users synced from the directory. */
export const DIRECTORY_USER_SOURCE = 'ldap';

export class AuthService {
  constructor(
    private readonly admin: AdminStore,
    private readonly policy: PolicyCache,
    private readonly hasher: PasswordHasher,
    private readonly directory?: DirectoryLogin,
    private readonly secondFactor?: SecondFactor,
  ) {}

  /** The user when the password is right and the user is enabled; null otherwise (same work either way). */
  async verifyPassword(username: string, password: string): Promise<User | null> {
    const synced = username.length <= 64 ? (await this.policy.current()).usersByName.get(username) : undefined;
    if (synced?.source === DIRECTORY_USER_SOURCE) {
      // Never the local hash: the directory alone decides (and no directory configured means no login).
      // The dummy hash runs alongside, so a directory user's answer takes as long as anyone else's.
      const dummy = this.hasher.verify(null, password);
      const ok = !synced.disabled && !!password && !!this.directory && (await this.directory.bind(username, password));
      await dummy;
      return ok ? synced : null;
    }
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

  /** Must this user pass the second factor after their password or key? */
  async secondFactorRequired(user: User): Promise<boolean> {
    return this.secondFactor ? this.secondFactor.required(user) : false;
  }

  /** A TOTP code (RFC 6238, ±1 step, each code once) or an unused recovery code. */
  async verifyTotp(user: User, code: string): Promise<boolean> {
    return this.secondFactor ? this.secondFactor.verify(user, code) : false;
  }
}

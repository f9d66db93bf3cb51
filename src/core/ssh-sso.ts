// SSH login through a link. The SSH prompt prints a one-time code in a console URL; the user opens it in
// a browser with a console session (however that session was made: password or SSO) and confirms; then
// the SSH connection uses the confirmed code. Codes live in the database (only their hash), so the
// browser and the SSH connection may reach different nodes. Each code is single-use, bound to the SSH
// username it was issued for, and confirmable only by that same user.
import { createHash, randomInt } from 'node:crypto';
import { DIRECTORY_USER_SOURCE } from './auth.js';
import type { ParamSource } from './approvals/inputs.js';
import { GatehouseError } from './errors.js';
import type { PolicyCache } from './policy/cache.js';
import type { AdminStore } from './ports/admin-store.js';
import type { Clock } from './ports/clock.js';
import type { SshLoginMethod, SshSsoStore, StoredSshSsoCode } from './ports/ssh-sso.js';
import type { AuditEntry, User } from './types.js';

export type { SshLoginMethod } from './ports/ssh-sso.js';
export { SSH_LOGIN_METHODS } from './ports/ssh-sso.js';

/** No vowels (no words), no I/O/0/1 look-alikes: 20 letters, 8 of them ≈ 34.6 bits. */
export const CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export const CODE_LENGTH = 8;
export const CODE_TTL_MS = 5 * 60_000;
const PRUNE_AFTER_MS = 60 * 60_000;

export type CodeState = 'pending' | 'confirmed' | 'used' | 'expired';

export interface CodeView {
  username: string;
  clientAddr: string;
  expiresAt: number;
  state: CodeState;
}

/** What the SSH side learns when the user presses Enter. */
export type Redeemed = { ok: true; user: User } | { ok: false; why: 'pending' | 'expired' | 'used' | 'unknown' | 'refused' };

export interface SshSsoDeps {
  store: SshSsoStore;
  policy: PolicyCache;
  params: ParamSource;
  admin: Pick<AdminStore, 'passwordHash' | 'userKeys'>;
  clock: Clock;
  audit(e: AuditEntry): Promise<void>;
  /** The console's public base URL (GATEHOUSE_PUBLIC_URL), as mail links use it; read late (a port 0 is resolved at start). */
  publicUrl(): string;
  nodeId: string;
}

/** "ABCDEFGH" from what a person typed or pasted ("abcd-efgh"), or null when it cannot be a code. */
export function normaliseCode(raw: string): string | null {
  const c = raw.replace(/[-\s]/g, '').toUpperCase();
  if (c.length !== CODE_LENGTH) return null;
  for (const ch of c) if (!CODE_ALPHABET.includes(ch)) return null;
  return c;
}

export const displayCode = (c: string) => `${c.slice(0, 4)}-${c.slice(4)}`;
const hashOf = (c: string) => createHash('sha256').update(`ssh-sso:${c}`).digest('hex');

export function stateOf(c: StoredSshSsoCode, now: number): CodeState {
  if (c.usedAt !== null) return 'used';
  if (c.expiresAt <= now) return 'expired';
  return c.confirmedAt !== null ? 'confirmed' : 'pending';
}

export class SshSsoService {
  /** How long a code lives. Tests shorten it rather than wait five minutes. */
  ttlMs = CODE_TTL_MS;
  private lastPrune = 0;

  constructor(private readonly d: SshSsoDeps) {}

  /**
   * How `username` logs in over SSH: their groups' setting (sso wins when groups disagree), else the
   * parameter. A user with neither a password nor a key (nor a directory) can only use the link.
   * Unknown names get the parameter's answer, so the link is no sign that a name exists.
   */
  async methodFor(username: string): Promise<SshLoginMethod> {
    const p = await this.d.policy.current();
    const global = (await this.d.params.params()).str('ssh.login.method') as SshLoginMethod;
    const u = p.usersByName.get(username);
    if (!u) return global;
    const byGroup = await this.d.store.groupMethods();
    const set = (p.groupsOfUser.get(u.id) ?? []).map((g) => byGroup.get(g)).filter((m) => m !== undefined);
    const method = set.includes('sso') ? 'sso' : set.length ? 'key-or-password' : global;
    if (method === 'sso' || u.source === DIRECTORY_USER_SOURCE) return method;
    if ((await this.d.admin.passwordHash(username))?.hash) return method;
    return (await this.d.admin.userKeys(u.id)).length ? method : 'sso';
  }

  groupMethods(): Promise<Map<number, SshLoginMethod>> {
    return this.d.store.groupMethods();
  }

  /** A user group's own method; null: the parameter applies to its members. */
  async setGroupMethod(groupId: number, method: SshLoginMethod | null): Promise<void> {
    await this.d.store.setGroupMethod(groupId, method, this.d.clock.now());
  }

  /** A new code for an SSH login as `username` from `clientAddr`; the caller has rate-limited it. */
  async issue(username: string, clientAddr: string): Promise<{ code: string; url: string; expiresAt: number }> {
    const now = this.d.clock.now();
    await this.maybePrune(now);
    let code = '';
    for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
    const expiresAt = now + this.ttlMs;
    await this.d.store.insert({ codeHash: hashOf(code), username, clientAddr, nodeId: this.d.nodeId, createdAt: now, expiresAt });
    await this.d.audit({
      actor: username,
      channel: 'ssh',
      action: 'ssh.sso.issued',
      targetType: 'user',
      targetId: username,
      details: { clientAddr, expiresAt: new Date(expiresAt).toISOString() },
    });
    return { code: displayCode(code), url: `${this.d.publicUrl()}/sso/ssh/${displayCode(code)}`, expiresAt };
  }

  /** The code as the link page shows it, for the user it was issued for; another user is refused (audited). */
  async view(raw: string, caller: User, from: string): Promise<CodeView> {
    const { row } = await this.mine(raw, caller, from);
    return { username: row.username, clientAddr: row.clientAddr, expiresAt: row.expiresAt, state: stateOf(row, this.d.clock.now()) };
  }

  /** The link page's button: one browser confirms a code, once. */
  async confirm(raw: string, caller: User, from: string): Promise<void> {
    const { hash, row } = await this.mine(raw, caller, from);
    const now = this.d.clock.now();
    if (!(await this.d.store.confirm(hash, caller.id, from, now))) {
      const again = (await this.d.store.find(hash)) ?? row;
      const st = stateOf(again, now);
      if (st === 'expired') throw new GatehouseError('expired', 'This sign-in link has expired. Connect with ssh again for a new one.');
      throw new GatehouseError('conflict', 'This sign-in link was already used. Connect with ssh again for a new one.');
    }
    await this.d.audit({
      actor: caller.username,
      actorId: caller.id,
      channel: 'web',
      action: 'ssh.sso.confirmed',
      targetType: 'user',
      targetId: caller.id,
      details: { from, sshClientAddr: row.clientAddr },
    });
  }

  /** The SSH side, when the user presses Enter: the user once the code is confirmed, and the code spent. */
  async redeem(display: string, username: string, clientAddr: string): Promise<Redeemed> {
    const code = normaliseCode(display);
    const row = code ? await this.d.store.find(hashOf(code)) : undefined;
    if (!code || !row || row.username !== username) return { ok: false, why: 'unknown' };
    const now = this.d.clock.now();
    const st = stateOf(row, now);
    if (st === 'pending') return { ok: false, why: 'pending' };
    const base = { actor: username, channel: 'ssh' as const, targetType: 'user', targetId: username };
    const used = st === 'confirmed' ? await this.d.store.use(hashOf(code), now) : undefined;
    if (!used) {
      const why = st === 'expired' ? 'expired' : 'used';
      await this.d.audit({ ...base, action: 'ssh.sso.refused', details: { clientAddr, why } });
      return { ok: false, why };
    }
    // The user who confirmed must still be this name's user, enabled (a rename or removal in between fails).
    const user = (await this.d.policy.current()).usersByName.get(username);
    if (!user || user.disabled || user.id !== used.confirmedUserId) {
      await this.d.audit({ ...base, action: 'ssh.sso.refused', details: { clientAddr, why: 'user changed' } });
      return { ok: false, why: 'refused' };
    }
    await this.d.audit({
      ...base,
      actorId: user.id,
      targetId: user.id,
      action: 'ssh.sso.used',
      details: { clientAddr, confirmedFrom: used.confirmedFrom },
    });
    return { ok: true, user };
  }

  /** Audits a code that ran out while the SSH connection waited (the connection ends). */
  async expired(username: string, clientAddr: string, why: string): Promise<void> {
    await this.d.audit({
      actor: username,
      channel: 'ssh',
      action: 'ssh.sso.expired',
      targetType: 'user',
      targetId: username,
      details: { clientAddr, why },
    });
  }

  private async mine(raw: string, caller: User, from: string): Promise<{ hash: string; row: StoredSshSsoCode }> {
    const code = normaliseCode(raw);
    const row = code ? await this.d.store.find(hashOf(code)) : undefined;
    if (!code || !row) throw new GatehouseError('not_found', 'This sign-in link is not valid. Check that you copied all of it.');
    if (row.username !== caller.username) {
      await this.d.audit({
        actor: caller.username,
        actorId: caller.id,
        channel: 'web',
        action: 'ssh.sso.refused',
        targetType: 'user',
        targetId: row.username,
        details: { from, why: 'another user', sshClientAddr: row.clientAddr },
      });
      throw new GatehouseError(
        'forbidden',
        `This sign-in link is for another user's SSH login, not for ${caller.username}. Log out and sign in as that user, or ignore the link.`,
      );
    }
    return { hash: hashOf(code), row };
  }

  private async maybePrune(now: number): Promise<void> {
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    await this.d.store.prune(now - PRUNE_AFTER_MS);
  }
}

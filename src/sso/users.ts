// From verified claims to a local user. A user is matched by the username claim and bound to the
// provider's subject on first login, so a renamed provider account cannot take over another local user.
// SSO-created users get their profile from the claims at every login; the groups claim adds and removes
// only the memberships it made itself.
import { GatehouseError } from '../core/errors.js';
import { checkEmail, checkUsername } from '../core/admin/validate.js';
import type { AdminStore, PolicyWriter } from '../core/ports/admin-store.js';
import type { PolicyCache } from '../core/policy/cache.js';
import type { PolicySnapshot } from '../core/policy/snapshot.js';
import type { User } from '../core/types.js';
import { SSO_SOURCE, type SsoSettings } from './config.js';
import type { Claims } from './oidc.js';
import type { SsoStore } from './store.js';

export interface UserDeps {
  store: SsoStore;
  admin: AdminStore;
  policy: PolicyCache;
  now(): number;
}

const refuse = (why: string) => new GatehouseError('forbidden', why);

/** The local username the claims name, or a refusal that says why. */
export function usernameOf(s: SsoSettings, claims: Claims): string {
  const raw = claims[s.usernameClaim];
  if (typeof raw !== 'string' || raw === '') throw refuse(`the provider sent no '${s.usernameClaim}' claim (the username claim)`);
  let name = raw.trim().toLowerCase();
  if (s.usernameDomain) {
    const suffix = `@${s.usernameDomain.toLowerCase()}`;
    if (name.includes('@') && !name.endsWith(suffix)) throw refuse(`'${raw.slice(0, 80)}' is not in the domain ${s.usernameDomain}`);
    if (name.endsWith(suffix)) name = name.slice(0, -suffix.length);
  }
  try {
    checkUsername(name);
  } catch {
    throw refuse(`the username claim '${s.usernameClaim}' = '${raw.slice(0, 80)}' is not a valid Gatehouse username`);
  }
  return name;
}

function groupsOf(s: SsoSettings, claims: Claims, p: PolicySnapshot): string[] {
  if (!s.syncGroups || !s.groupsClaim) return [];
  const raw = claims[s.groupsClaim];
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/[ ,]+/) : [];
  return [...new Set(list.filter((g): g is string => typeof g === 'string').filter((g) => p.userGroupsByName.has(g)))].slice(0, 500);
}

function managerOf(s: SsoSettings, claims: Claims, p: PolicySnapshot, self: string): number | null | undefined {
  if (!s.managerClaim) return undefined;
  const raw = claims[s.managerClaim];
  if (typeof raw !== 'string' || raw === '') return undefined;
  const m = p.usersByName.get(raw.trim().toLowerCase());
  return m && m.username !== self ? m.id : undefined;
}

function profileOf(claims: Claims, username: string): { displayName: string; email: string | null } {
  const name = typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim().slice(0, 200) : username;
  let email: string | null = null;
  try {
    email = typeof claims.email === 'string' ? checkEmail(claims.email) : null;
  } catch {
    email = null;
  }
  return { displayName: name, email };
}

interface Plan {
  create: boolean;
  profile: { displayName?: string; email?: string | null; managerId?: number | null };
  add: number[];
  remove: number[];
  ssoGroups: string[];
}

function plan(s: SsoSettings, claims: Claims, p: PolicySnapshot, u: User | undefined, username: string, prevGroups: string[]): Plan {
  const profile: Plan['profile'] = {};
  if (!u || u.source === SSO_SOURCE) {
    const pr = profileOf(claims, username);
    if (!u || pr.displayName !== u.displayName) profile.displayName = pr.displayName;
    if (!u || pr.email !== u.email) profile.email = pr.email;
  }
  const manager = u?.source === 'ldap' ? undefined : managerOf(s, claims, p, username);
  if (manager !== undefined && manager !== u?.managerId) profile.managerId = manager;
  const wanted = groupsOf(s, claims, p);
  const member = new Set((u ? (p.groupsOfUser.get(u.id) ?? []) : []).map((id) => p.userGroupsById.get(id)?.name));
  const addNames = wanted.filter((g) => !member.has(g));
  const removeNames = s.syncGroups ? prevGroups.filter((g) => !wanted.includes(g) && member.has(g)) : [];
  const gid = (n: string) => p.userGroupsByName.get(n)!.id;
  const kept = prevGroups.filter((g) => wanted.includes(g));
  return { create: !u, profile, add: addNames.map(gid), remove: removeNames.map(gid), ssoGroups: [...new Set([...kept, ...addNames])] };
}

/** The local user for these claims: found (and bound to the subject) or created, with profile and groups applied. */
export async function userFor(d: UserDeps, s: SsoSettings, claims: Claims): Promise<User> {
  const username = usernameOf(s, claims);
  const subject = `${claims.iss} ${claims.sub}`.slice(0, 512);
  const p = await d.policy.current();
  const u = p.usersByName.get(username);
  const bySubject = await d.store.linkBySubject(subject);
  if (bySubject && bySubject.userId !== u?.id) throw refuse(`this provider account is bound to another Gatehouse user, not '${username}'`);
  const link = u ? await d.store.link(u.id) : undefined;
  if (link && link.subject !== subject) throw refuse(`the Gatehouse user '${username}' is bound to another provider account`);
  if (u?.disabled) throw refuse(`the Gatehouse user '${username}' is disabled`);
  if (!u && !s.createUsers)
    throw refuse(`there is no Gatehouse user '${username}', and SSO does not create users (gatehouse sso set --create-users)`);
  const pl = plan(s, claims, p, u, username, link?.groups ?? []);
  let id = u?.id;
  if (pl.create || Object.keys(pl.profile).length || pl.add.length || pl.remove.length) {
    const audit = (uid: number) => ({
      actor: username,
      actorId: uid,
      channel: 'web' as const,
      action: pl.create ? 'sso.user-create' : 'sso.user-update',
      targetType: 'user',
      targetId: uid,
      details: { username, subject, ...pl.profile, groupsAdded: pl.add.length, groupsRemoved: pl.remove.length },
    });
    try {
      id = await d.admin.write(audit, async (w: PolicyWriter) => {
        const uid =
          id ??
          (await w.insertUser({
            username,
            displayName: pl.profile.displayName ?? username,
            email: pl.profile.email ?? null,
            passwordHash: null,
            managerId: pl.profile.managerId ?? null,
            isAdmin: false,
            disabled: false,
            source: SSO_SOURCE,
          }));
        if (!pl.create && Object.keys(pl.profile).length) await w.updateUser(uid, pl.profile);
        for (const g of pl.add) await w.addMember(g, uid);
        for (const g of pl.remove) await w.removeMember(g, uid);
        return uid;
      });
    } catch (err) {
      if (pl.create && /unique|duplicate/i.test(String((err as Error)?.message)))
        throw new GatehouseError('conflict', 'the user was created at the same moment: sign in again');
      throw err;
    } finally {
      d.policy.invalidate();
    }
  }
  await d.store.saveLink({ userId: id!, subject, groups: pl.ssoGroups }, d.now());
  const fresh = (await d.policy.current()).usersById.get(id!);
  if (!fresh || fresh.disabled) throw refuse(`the Gatehouse user '${username}' is not available`);
  return fresh;
}

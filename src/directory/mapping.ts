// From raw LDAP entries to the people and groups Gatehouse keeps: usernames, line managers by DN,
// group members resolved through nested groups (in code, cycle-safe), and group owners. Pure: no I/O.
import type { Entry } from 'ldapts';
import type { DirectorySettings } from './config.js';
import type { RawDirectory } from './ldap.js';

export interface DirUser {
  dn: string;
  /** Normalised DN: the key every reference is matched on. */
  key: string;
  username: string;
  displayName: string;
  email: string | null;
  managerKey: string | null;
}

export interface DirGroup {
  dn: string;
  key: string;
  name: string;
  /** Users that are members at any depth (nested groups resolved). */
  memberKeys: string[];
  /** Users named as owners (an owner that is a group contributes its members). */
  ownerKeys: string[];
}

export interface DirectoryModel {
  users: Map<string, DirUser>;
  groups: Map<string, DirGroup>;
  skipped: { dn: string; why: string }[];
}

const USERNAME = /^[a-z_][a-z0-9._-]{0,63}$/;
const EMAIL = /^[^\s@<>"',;]+@[^\s@<>"',;]+\.[^\s@<>"',;]+$/;

/** DNs compare case-insensitively and without spaces around separators. */
export function normDn(dn: string): string {
  return dn
    .split(/(?<!\\),/)
    .map((rdn) =>
      rdn
        .split(/(?<!\\)\+/)
        .map((ava) => {
          const i = ava.indexOf('=');
          return i < 0 ? ava.trim() : `${ava.slice(0, i).trim()}=${ava.slice(i + 1).trim()}`;
        })
        .join('+'),
    )
    .join(',')
    .toLowerCase();
}

/** All values of an attribute, its name matched case-insensitively. */
export function attr(e: Entry, name: string): string[] {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(e)) {
    if (k.toLowerCase() !== want || k === 'dn') continue;
    const list = Array.isArray(v) ? v : [v];
    return list.map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x))).filter((x) => x !== '');
  }
  return [];
}

/** A local group name from a directory name: letters, digits, '.', '_' and '-' only. */
export function groupNameOf(cn: string): string | null {
  const n = cn
    .trim()
    .replace(/[^a-z0-9._-]+/gi, '-')
    .replace(/^[^a-z0-9]+/i, '')
    .slice(0, 64)
    .replace(/-+$/, '');
  return n || null;
}

type Skipped = DirectoryModel['skipped'];
type Attributes = DirectorySettings['attributes'];

/** Valid, unique usernames; line managers kept only when they point at another mapped user. */
function mapUsers(entries: Entry[], a: Attributes, skipped: Skipped): Map<string, DirUser> {
  const users = new Map<string, DirUser>();
  const taken = new Set<string>();
  for (const e of entries) {
    const username = (attr(e, a.username)[0] ?? '').trim().toLowerCase();
    if (!USERNAME.test(username)) {
      skipped.push({ dn: e.dn, why: username ? `username '${username.slice(0, 64)}' is not valid here` : `no ${a.username}` });
      continue;
    }
    if (taken.has(username)) {
      skipped.push({ dn: e.dn, why: `username '${username}' appears twice in the directory` });
      continue;
    }
    taken.add(username);
    const email = attr(e, a.email)[0]?.trim() ?? null;
    const manager = attr(e, a.manager)[0];
    users.set(normDn(e.dn), {
      dn: e.dn,
      key: normDn(e.dn),
      username,
      displayName: (attr(e, a.displayName)[0] ?? username).trim().slice(0, 200) || username,
      email: email && EMAIL.test(email) && email.length <= 320 ? email : null,
      managerKey: manager ? normDn(manager) : null,
    });
  }
  for (const u of users.values()) if (u.managerKey === u.key || (u.managerKey && !users.has(u.managerKey))) u.managerKey = null;
  return users;
}

interface MembershipGraph {
  groupKeys: Map<string, Entry>;
  directUsers: Map<string, Set<string>>;
  children: Map<string, Set<string>>;
}

/** Direct edges: group → users, group → child groups; from `member` on groups or `memberOf` on users and groups. */
function membershipGraph(raw: RawDirectory, s: DirectorySettings, users: Map<string, DirUser>): MembershipGraph {
  const a = s.attributes;
  const groupKeys = new Map(raw.groups.map((g) => [normDn(g.dn), g] as const));
  const directUsers = new Map<string, Set<string>>();
  const children = new Map<string, Set<string>>();
  for (const k of groupKeys.keys()) {
    directUsers.set(k, new Set());
    children.set(k, new Set());
  }
  const addEdge = (groupKey: string, memberKey: string) => {
    if (!groupKeys.has(groupKey)) return;
    if (users.has(memberKey)) directUsers.get(groupKey)!.add(memberKey);
    else if (groupKeys.has(memberKey) && memberKey !== groupKey) children.get(groupKey)!.add(memberKey);
  };
  if (s.membership === 'member') {
    for (const [k, g] of groupKeys) for (const m of attr(g, a.member)) addEdge(k, normDn(m));
  } else {
    for (const e of raw.users) for (const g of attr(e, a.memberOf)) addEdge(normDn(g), normDn(e.dn));
    for (const [k, g] of groupKeys) for (const parent of attr(g, a.memberOf)) addEdge(normDn(parent), k);
  }
  return { groupKeys, directUsers, children };
}

/** Every group reachable below k (breadth-first, so cycles end), and the users directly in any of them. */
function nestedResolver({ directUsers, children }: MembershipGraph): (k: string) => Set<string> {
  const resolved = new Map<string, Set<string>>();
  return (k) => {
    const done = resolved.get(k);
    if (done) return done;
    const out = new Set<string>();
    const seen = new Set([k]);
    const queue = [k];
    while (queue.length) {
      const g = queue.shift()!;
      for (const u of directUsers.get(g) ?? []) out.add(u);
      for (const c of children.get(g) ?? [])
        if (!seen.has(c)) {
          seen.add(c);
          queue.push(c);
        }
    }
    resolved.set(k, out);
    return out;
  };
}

export function mapDirectory(raw: RawDirectory, s: DirectorySettings): DirectoryModel {
  const a = s.attributes;
  const skipped: Skipped = [];
  const users = mapUsers(raw.users, a, skipped);
  const graph = membershipGraph(raw, s, users);
  const { groupKeys } = graph;
  const resolve = nestedResolver(graph);
  const chain = raw.chainMembers
    ? new Map([...raw.chainMembers].map(([g, list]) => [normDn(g), list.map(normDn).filter((u) => users.has(u))] as const))
    : null;
  // Members of a group at any depth: the server's own chain lookup when it gave one, else resolved here.
  const membersOf = (k: string): Iterable<string> => chain?.get(k) ?? resolve(k);

  const groups = new Map<string, DirGroup>();
  const names = new Set<string>();
  for (const [k, g] of groupKeys) {
    const name = groupNameOf(attr(g, a.groupName)[0] ?? '');
    if (!name) {
      skipped.push({ dn: g.dn, why: `no usable ${a.groupName}` });
      continue;
    }
    if (names.has(name.toLowerCase())) {
      skipped.push({ dn: g.dn, why: `group name '${name}' appears twice in the directory` });
      continue;
    }
    names.add(name.toLowerCase());
    const owners = new Set<string>();
    for (const o of attr(g, a.groupOwner)) {
      const ok = normDn(o);
      if (users.has(ok)) owners.add(ok);
      else if (groupKeys.has(ok)) for (const u of membersOf(ok)) owners.add(u);
    }
    groups.set(k, { dn: g.dn, key: k, name, memberKeys: [...new Set(membersOf(k))].sort(), ownerKeys: [...owners].sort() });
  }
  return { users, groups, skipped };
}

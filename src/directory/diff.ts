// What a sync would change: compares the directory's people and groups with the local ones linked to
// them, and returns a plan (and its summary) without touching anything. Pure: no I/O.
import type { PolicySnapshot } from '../core/policy/snapshot.js';
import { DIRECTORY_SOURCE } from './config.js';
import type { DirectoryModel } from './mapping.js';
import { normDn } from './mapping.js';
import type { Link } from './store.js';

export interface NewUser {
  username: string;
  dn: string;
  displayName: string;
  email: string | null;
  manager: string | null;
}
export interface UserChange {
  username: string;
  id: number;
  displayName?: string;
  email?: string | null;
  /** Username of the new line manager; null clears it. */
  manager?: string | null;
}
export interface NewGroup {
  name: string;
  dn: string;
  members: string[];
  managers: string[];
}
export interface GroupChange {
  name: string;
  id: number;
  addMembers: string[];
  removeMembers: string[];
  /** The full new manager list, when it changes. */
  managers?: string[];
}

export interface SyncPlan {
  addUsers: NewUser[];
  changeUsers: UserChange[];
  disableUsers: { username: string; id: number }[];
  enableUsers: { username: string; id: number }[];
  addGroups: NewGroup[];
  changeGroups: GroupChange[];
  /** Groups gone from the directory: emptied (members and managers removed), never deleted. */
  emptyGroups: GroupChange[];
  conflicts: { kind: 'user' | 'group'; name: string; dn: string; why: string }[];
  skipped: { dn: string; why: string }[];
  /** Links to record (every directory object matched or added). */
  links: Link[];
}

export interface SyncSummary {
  users: { added: string[]; changed: { username: string; fields: string[] }[]; disabled: string[]; enabled: string[] };
  groups: {
    added: string[];
    changed: { name: string; membersAdded: string[]; membersRemoved: string[]; managers?: string[] }[];
    emptied: string[];
  };
  conflicts: SyncPlan['conflicts'];
  skipped: SyncPlan['skipped'];
}

export function summarise(p: SyncPlan): SyncSummary {
  return {
    users: {
      added: p.addUsers.map((u) => u.username).sort(),
      changed: p.changeUsers
        .map((c) => ({ username: c.username, fields: Object.keys(c).filter((k) => k !== 'username' && k !== 'id') }))
        .sort((a, b) => a.username.localeCompare(b.username)),
      disabled: p.disableUsers.map((u) => u.username).sort(),
      enabled: p.enableUsers.map((u) => u.username).sort(),
    },
    groups: {
      added: p.addGroups.map((g) => g.name).sort(),
      changed: p.changeGroups
        .map((g) => ({
          name: g.name,
          membersAdded: g.addMembers,
          membersRemoved: g.removeMembers,
          ...(g.managers ? { managers: g.managers } : {}),
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
      emptied: p.emptyGroups.map((g) => g.name).sort(),
    },
    conflicts: p.conflicts,
    skipped: p.skipped,
  };
}

export function isEmptyPlan(p: SyncPlan): boolean {
  return (
    !p.addUsers.length &&
    !p.changeUsers.length &&
    !p.disableUsers.length &&
    !p.enableUsers.length &&
    !p.addGroups.length &&
    !p.changeGroups.length &&
    !p.emptyGroups.length
  );
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

const namesOf = (ids: number[], p: PolicySnapshot) => ids.map((id) => p.usersById.get(id)?.username).filter((x): x is string => !!x);

/**
 * Users: match by DN link, else adopt an unlinked synced user of the same name, else add.
 * Returns directory key → local username for every directory user that is kept.
 */
function matchUsers(model: DirectoryModel, p: PolicySnapshot, links: Link[], plan: SyncPlan): Map<string, string> {
  const userLinkByDn = new Map(links.filter((l) => l.kind === 'user').map((l) => [normDn(l.dn), l] as const));
  const localNameOf = new Map<string, string>();
  for (const du of model.users.values()) {
    const link = userLinkByDn.get(du.key);
    let name = link && p.usersByName.has(link.name) ? link.name : null;
    if (!name) {
      // A synced user of the same name whose DN changed (moved in the tree, or a link lost) is the same person.
      const local = p.usersByName.get(du.username);
      if (local && local.source !== DIRECTORY_SOURCE) {
        plan.conflicts.push({ kind: 'user', name: du.username, dn: du.dn, why: 'a local user has this name' });
        continue;
      }
      name = du.username;
    }
    localNameOf.set(du.key, name);
    plan.links.push({ kind: 'user', name, dn: du.dn, disabledBySync: false });
  }
  return localNameOf;
}

/** New users, changed names/emails/managers, and users the sync disabled that are back. */
function planUserChanges(model: DirectoryModel, p: PolicySnapshot, links: Link[], localNameOf: Map<string, string>, plan: SyncPlan): void {
  const userLinkByName = new Map(links.filter((l) => l.kind === 'user').map((l) => [l.name, l] as const));
  for (const du of model.users.values()) {
    const name = localNameOf.get(du.key);
    if (!name) continue;
    const manager = du.managerKey ? (localNameOf.get(du.managerKey) ?? null) : null;
    const local = p.usersByName.get(name);
    if (!local) {
      plan.addUsers.push({ username: name, dn: du.dn, displayName: du.displayName, email: du.email, manager });
      continue;
    }
    const c: UserChange = { username: name, id: local.id };
    if (local.displayName !== du.displayName) c.displayName = du.displayName;
    if ((local.email ?? null) !== du.email) c.email = du.email;
    const currentManager = local.managerId ? (p.usersById.get(local.managerId)?.username ?? null) : null;
    if (currentManager !== manager) c.manager = manager;
    if (Object.keys(c).length > 2) plan.changeUsers.push(c);
    const link = userLinkByName.get(name);
    if (local.disabled && link?.disabledBySync) plan.enableUsers.push({ username: name, id: local.id });
  }
}

/** Linked users no longer in the directory are disabled. */
function planDepartedUsers(p: PolicySnapshot, links: Link[], matched: Set<string>, plan: SyncPlan): void {
  for (const l of links) {
    if (l.kind !== 'user' || matched.has(l.name)) continue;
    const local = p.usersByName.get(l.name);
    if (!local) continue;
    if (!local.disabled) plan.disableUsers.push({ username: l.name, id: local.id });
    // Keep the link (and whether the sync disabled it), so the person is enabled again if they come back.
    plan.links.push({ kind: 'user', name: l.name, dn: l.dn, disabledBySync: !local.disabled || l.disabledBySync });
  }
}

/** Groups: new ones, and member/manager changes on matched ones. Returns the local names matched. */
function planGroups(
  model: DirectoryModel,
  p: PolicySnapshot,
  links: Link[],
  localNameOf: Map<string, string>,
  plan: SyncPlan,
): Set<string> {
  const groupLinkByDn = new Map(links.filter((l) => l.kind === 'group').map((l) => [normDn(l.dn), l] as const));
  const groupLinkByName = new Map(links.filter((l) => l.kind === 'group').map((l) => [l.name, l] as const));
  const matchedGroups = new Set<string>();
  for (const dg of model.groups.values()) {
    const link = groupLinkByDn.get(dg.key);
    const members = dg.memberKeys
      .map((k) => localNameOf.get(k))
      .filter((x): x is string => !!x)
      .sort();
    const managers = dg.ownerKeys
      .map((k) => localNameOf.get(k))
      .filter((x): x is string => !!x)
      .sort();
    let name = link && p.userGroupsByName.has(link.name) ? link.name : null;
    if (!name) {
      // A local group of that name is only taken over when it came from the directory (its DN moved).
      if (p.userGroupsByName.has(dg.name) && !groupLinkByName.has(dg.name)) {
        plan.conflicts.push({ kind: 'group', name: dg.name, dn: dg.dn, why: 'a local group has this name' });
        continue;
      }
      name = dg.name;
    }
    matchedGroups.add(name);
    plan.links.push({ kind: 'group', name, dn: dg.dn, disabledBySync: false });
    const local = p.userGroupsByName.get(name);
    if (!local) {
      plan.addGroups.push({ name, dn: dg.dn, members, managers });
      continue;
    }
    const current = namesOf(local.memberIds, p);
    const currentManagers = namesOf(local.managerIds, p);
    const c: GroupChange = {
      name,
      id: local.id,
      addMembers: members.filter((m) => !current.includes(m)),
      removeMembers: current.filter((m) => !members.includes(m)).sort(),
    };
    if (!sameSet(managers, currentManagers)) c.managers = managers;
    if (c.addMembers.length || c.removeMembers.length || c.managers) plan.changeGroups.push(c);
  }
  return matchedGroups;
}

/** Linked groups gone from the directory are emptied, never deleted. */
function planGoneGroups(p: PolicySnapshot, links: Link[], matchedGroups: Set<string>, plan: SyncPlan): void {
  for (const l of links) {
    if (l.kind !== 'group' || matchedGroups.has(l.name)) continue;
    const local = p.userGroupsByName.get(l.name);
    if (!local) continue;
    plan.links.push(l);
    const current = namesOf(local.memberIds, p);
    if (current.length || local.managerIds.length)
      plan.emptyGroups.push({
        name: l.name,
        id: local.id,
        addMembers: [],
        removeMembers: current.sort(),
        managers: local.managerIds.length ? [] : undefined,
      });
  }
}

export function planSync(model: DirectoryModel, p: PolicySnapshot, links: Link[]): SyncPlan {
  const plan: SyncPlan = {
    addUsers: [],
    changeUsers: [],
    disableUsers: [],
    enableUsers: [],
    addGroups: [],
    changeGroups: [],
    emptyGroups: [],
    conflicts: [],
    skipped: [...model.skipped],
    links: [],
  };
  const localNameOf = matchUsers(model, p, links, plan);
  planUserChanges(model, p, links, localNameOf, plan);
  planDepartedUsers(p, links, new Set(localNameOf.values()), plan);
  const matchedGroups = planGroups(model, p, links, localNameOf, plan);
  planGoneGroups(p, links, matchedGroups, plan);
  return plan;
}

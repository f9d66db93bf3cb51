// Users and user groups, checked whole before anything is written: every problem by field at once, and
// the user-group wizard's save (name, members, managers, approval settings) as one change.
import type { ParsedPublicKey, KeyTools } from '../ports/crypto.js';
import type { PolicyWriter, UserRow } from '../ports/admin-store.js';
import type { PolicySnapshot } from '../policy/snapshot.js';
import type { UserGroup } from '../types.js';
import { Problems, unknownUsers } from './problems.js';
import { checkEmail, checkName, checkPassword, checkUsername } from './validate.js';

export interface NewUserInput {
  username: string;
  displayName?: string;
  email?: string | null;
  password?: string | null;
  sshKeys?: string[];
  manager?: string | null;
  admin?: boolean;
  source?: string;
  /** The user groups the user is a member of. */
  groups?: string[];
}

/** "No user group named 'x'" for group names that do not exist. */
function unknownGroups(p: PolicySnapshot, names: readonly string[]): string | null {
  const missing = [...new Set(names)].filter((n) => !p.userGroupsByName.has(n));
  if (!missing.length) return null;
  return `No user group${missing.length > 1 ? 's' : ''} named ${missing
    .slice(0, 5)
    .map((n) => `'${n.slice(0, 64)}'`)
    .join(', ')}`;
}

/** Group ids to join and to leave so user `id` (null: a new user) is a member of exactly `groups`. */
function membership(pr: Problems, p: PolicySnapshot, id: number | null, groups: string[] | undefined) {
  if (groups === undefined) return { join: [], leave: [] };
  const unknown = unknownGroups(p, groups);
  if (unknown) pr.add('groups', unknown);
  const want = new Set(groups.filter((g) => p.userGroupsByName.has(g)).map((g) => p.userGroupsByName.get(g)!.id));
  const have = new Set(id === null ? [] : [...p.userGroupsById.values()].filter((g) => g.memberIds.includes(id)).map((g) => g.id));
  return { join: [...want].filter((g) => !have.has(g)), leave: [...have].filter((g) => !want.has(g)) };
}

function parseKeys(pr: Problems, keys: KeyTools, field: string, list: string[] = []): ParsedPublicKey[] {
  const out: ParsedPublicKey[] = [];
  list.forEach((k, i) => {
    const parsed = pr.check(field, () => keys.parsePublicKey(k), `SSH key${list.length > 1 ? ` ${i + 1}` : ''}: `);
    if (parsed) out.push(parsed);
  });
  return out;
}

/** A new user, checked whole: every problem at once, before any password is hashed. */
export function checkNewUser(p: PolicySnapshot, keys: KeyTools, input: NewUserInput) {
  const pr = new Problems();
  if (!input.username) pr.add('username', 'Username is required');
  else if (p.usersByName.has(input.username)) pr.add('username', `A user named '${input.username}' already exists`, 'conflict');
  else pr.check('username', () => checkUsername(input.username));
  const email = pr.check('email', () => checkEmail(input.email)) ?? null;
  if (input.password) pr.check('password', () => checkPassword(input.password!));
  const unknown = input.manager ? unknownUsers(p, [input.manager]) : null;
  if (unknown) pr.add('manager', unknown);
  const parsed = parseKeys(pr, keys, 'sshKeys', input.sshKeys);
  const { join } = membership(pr, p, null, input.groups);
  pr.throwIfAny();
  const managerId = input.manager ? p.usersByName.get(input.manager)!.id : null;
  return { email, managerId, keys: parsed, join };
}

export interface UserPatchInput {
  displayName?: string;
  email?: string | null;
  password?: string;
  addSshKeys?: string[];
  manager?: string | null;
  admin?: boolean;
  disabled?: boolean;
  groups?: string[];
}

/** A change to user `id`, checked whole; the row to write (without the password hash) and the new keys. */
export function checkUserPatch(p: PolicySnapshot, keys: KeyTools, id: number, username: string, patch: UserPatchInput) {
  const pr = new Problems();
  const row: Partial<UserRow> = {};
  if (patch.displayName !== undefined) row.displayName = patch.displayName.trim() || username;
  if (patch.email !== undefined) row.email = pr.check('email', () => checkEmail(patch.email)) ?? null;
  if (patch.password !== undefined) pr.check('password', () => checkPassword(patch.password!));
  if (patch.manager !== undefined && patch.manager !== null && patch.manager !== '') {
    const unknown = unknownUsers(p, [patch.manager]);
    if (unknown) pr.add('manager', unknown);
    else if (p.usersByName.get(patch.manager)!.id === id) pr.add('manager', 'A user cannot be their own manager');
    else row.managerId = p.usersByName.get(patch.manager)!.id;
  } else if (patch.manager !== undefined) row.managerId = null;
  if (patch.admin !== undefined) row.isAdmin = patch.admin;
  if (patch.disabled !== undefined) row.disabled = patch.disabled;
  const parsed = parseKeys(pr, keys, 'addSshKeys', patch.addSshKeys);
  const { join, leave } = membership(pr, p, id, patch.groups);
  pr.throwIfAny();
  return { row, keys: parsed, join, leave };
}

/** The user-group wizard's values; absent fields stay as they are. */
export interface UserGroupInput {
  name: string;
  managers?: string[];
  members?: string[];
  requireApproval?: boolean;
  requireReason?: boolean;
  description?: string | null;
}

/** What a security team must hear before saving a group that would refuse everyone (saved all the same). */
export function groupWarnings(requireApproval: boolean, managers: readonly unknown[]): string[] {
  return requireApproval && managers.length === 0
    ? [
        "Required Managerial Approval is on but the group has no manager: every member's connection is refused until a group manager is named.",
      ]
    : [];
}

/**
 * The wizard's save, checked whole: `group` is the group being edited (null to create one) and `owned`
 * the fields a directory sync owns. Returns the writes to run in one transaction, and the warnings.
 */
export function planUserGroup(p: PolicySnapshot, group: UserGroup | null, input: UserGroupInput, synced: boolean) {
  const pr = new Problems();
  const field = group ? 'rename' : 'name';
  const renamed = group === null || input.name !== group.name;
  const same = (ids: number[], names?: string[]) =>
    names === undefined ||
    [...new Set(names)].sort().join('\n') ===
      ids
        .map((m) => p.userName(m))
        .sort()
        .join('\n');
  const owned =
    synced && group
      ? [
          renamed ? 'name' : '',
          same(group.managerIds, input.managers) ? '' : 'managers',
          same(group.memberIds, input.members) ? '' : 'members',
        ]
      : [];
  if (!input.name) pr.add(field, 'Group name is required');
  else if (renamed && p.userGroupsByName.has(input.name)) pr.add(field, `A user group named '${input.name}' already exists`, 'conflict');
  else if (renamed) pr.check(field, () => checkName('user group', input.name));
  for (const f of owned.filter(Boolean))
    pr.add(f === 'name' ? field : f, `The directory owns this group's ${f}: change it in the directory`, 'forbidden');
  const members = [...new Set(input.members ?? [])];
  const managers = [...new Set(input.managers ?? [])];
  const noMember = unknownUsers(p, members);
  if (noMember) pr.add('members', noMember);
  const noManager = unknownUsers(p, managers);
  if (noManager) pr.add('managers', noManager);
  pr.throwIfAny();

  const ids = (names: string[]) => names.map((n) => p.usersByName.get(n)!.id);
  const memberIds = input.members ? ids(members) : null;
  const managerIds = input.managers ? ids(managers) : null;
  const requireApproval = input.requireApproval ?? group?.requireApproval ?? false;
  const finalManagers = input.managers ? managers : (group?.managerIds ?? []).map((m) => p.userName(m));
  const write = async (w: PolicyWriter): Promise<number> => {
    const row = { requireApproval, requireReason: input.requireReason ?? group?.requireReason ?? false, description: input.description };
    const id = group ? group.id : await w.insertGroup('user', { name: input.name, ...row });
    if (group) await w.updateGroup('user', id, { ...row, name: renamed ? input.name : undefined });
    if (managerIds) await w.setManagers('user', id, managerIds);
    if (memberIds) {
      const have = new Set(group?.memberIds ?? []);
      for (const m of memberIds) if (!have.has(m)) await w.addMember(id, m);
      for (const m of have) if (!memberIds.includes(m)) await w.removeMember(id, m);
    }
    return id;
  };
  const before = group && {
    name: group.name,
    requireApproval: group.requireApproval,
    requireReason: group.requireReason,
    managers: group.managerIds.map((m) => p.userName(m)),
    members: group.memberIds.map((m) => p.userName(m)),
  };
  return { write, warnings: groupWarnings(requireApproval, finalManagers), before };
}

// Users as every response shows them: never a password hash or an SSH key's body.
import type { PolicySnapshot } from '../core/policy/snapshot.js';
import type { User } from '../core/types.js';

export function presentUser(p: PolicySnapshot, u: User) {
  return {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    email: u.email,
    manager: u.managerId === null ? null : p.userName(u.managerId),
    admin: u.isAdmin,
    disabled: u.disabled,
    source: u.source,
    groups: (p.groupsOfUser.get(u.id) ?? []).map((g) => p.userGroupsById.get(g)?.name),
  };
}

/** Who is logged in, as the console's start needs it: roles decide its menu, ssh the commands it shows. */
export function presentMe(
  p: PolicySnapshot,
  u: User,
  channel: string,
  csrf: string | null,
  approver: boolean,
  ssh: { port: number; host: string },
  instance = 'Gatehouse',
) {
  const roles = { admin: u.isAdmin, approver };
  return { user: presentUser(p, u), channel, csrfToken: csrf, roles, sshPort: ssh.port, sshHost: ssh.host, instance };
}

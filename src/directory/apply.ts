// Applies a sync plan in one policy write: audited as `directory.sync` with its summary, and followed by
// policy.changed, so every node sees the new people, managers and groups at once.
import type { Actor } from '../core/admin/service.js';
import type { AdminStore } from '../core/ports/admin-store.js';
import type { PolicySnapshot } from '../core/policy/snapshot.js';
import { DIRECTORY_SOURCE } from './config.js';
import type { SyncPlan, SyncSummary } from './diff.js';

export async function applyPlan(admin: AdminStore, actor: Actor, p: PolicySnapshot, plan: SyncPlan, summary: SyncSummary): Promise<void> {
  const audit = {
    actor: actor.username,
    actorId: actor.id,
    channel: actor.channel,
    action: 'directory.sync',
    targetType: 'directory',
    targetId: 'ldap',
    details: { ...summary },
  };
  await admin.write(audit, async (w) => {
    const ids = new Map([...p.usersByName].map(([n, u]) => [n, u.id] as const));
    const id = (name: string) => ids.get(name) ?? null;
    for (const u of plan.addUsers)
      ids.set(
        u.username,
        await w.insertUser({
          username: u.username,
          displayName: u.displayName,
          email: u.email,
          passwordHash: null,
          managerId: null,
          isAdmin: false,
          disabled: false,
          source: DIRECTORY_SOURCE,
        }),
      );
    // Managers after every insert: a new person's manager may be new too.
    for (const u of plan.addUsers) if (u.manager) await w.updateUser(id(u.username)!, { managerId: id(u.manager) });
    for (const c of plan.changeUsers)
      await w.updateUser(c.id, {
        ...(c.displayName !== undefined ? { displayName: c.displayName } : {}),
        ...(c.email !== undefined ? { email: c.email } : {}),
        ...(c.manager !== undefined ? { managerId: c.manager === null ? null : id(c.manager) } : {}),
      });
    for (const u of plan.disableUsers) await w.updateUser(u.id, { disabled: true });
    for (const u of plan.enableUsers) await w.updateUser(u.id, { disabled: false });
    for (const g of plan.addGroups) {
      const gid = await w.insertGroup('user', {
        name: g.name,
        description: `from the directory: ${g.dn}`.slice(0, 1000),
        requireApproval: false,
        requireReason: false,
      });
      await w.setManagers(
        'user',
        gid,
        g.managers.map(id).filter((x): x is number => x !== null),
      );
      for (const m of g.members) {
        const uid = id(m);
        if (uid !== null) await w.addMember(gid, uid);
      }
    }
    for (const g of [...plan.changeGroups, ...plan.emptyGroups]) {
      for (const m of g.addMembers) {
        const uid = id(m);
        if (uid !== null) await w.addMember(g.id, uid);
      }
      for (const m of g.removeMembers) {
        const uid = id(m);
        if (uid !== null) await w.removeMember(g.id, uid);
      }
      if (g.managers)
        await w.setManagers(
          'user',
          g.id,
          g.managers.map(id).filter((x): x is number => x !== null),
        );
    }
  });
}

// decide(): the one answer every protocol asks for. Pure: reads the policy snapshot and the grant lookup.
import type { PolicySnapshot } from './snapshot.js';
import type { Authority, Decision, Protocol, Route, RouteLevel, User } from '../types.js';
import { grantProtocols, type GrantScope } from './scope.js';

export interface DecideInput {
  username: string;
  device: string;
  /** Account name; the device's default account when omitted. */
  account?: string;
  protocol: Protocol;
  now: number;
  /** approval.grant.scope; 'protocol' when omitted. */
  grantScope?: GrantScope;
}

/** Looks up a valid grant (approved request whose window contains `now`). Must not touch the database. */
export type GrantLookup = (userId: number, deviceId: number, accountId: number, protocol: Protocol, now: number) => number | undefined;

/** The same answer for an unknown device, an unknown user and a forbidden one: no enumeration. */
export const NO_ACCESS = 'no access rule allows this user to reach this device over this protocol';

export function authorityLabel(a: Authority): string {
  switch (a.kind) {
    case 'group-manager':
      return 'group-manager';
    case 'line-manager':
      return 'line-manager';
    case 'group-members':
      return `group-members:${a.group}`;
    case 'users':
      return `users:${a.users.join(',')}`;
  }
}

function activeIds(p: PolicySnapshot, ids: number[]): number[] {
  return [...new Set(ids)].filter((id) => {
    const u = p.usersById.get(id);
    return u !== undefined && !u.disabled;
  });
}

/** The approvers an authority names for this requester (the requester included; decide() removes them). */
export function authorityApprovers(p: PolicySnapshot, a: Authority, requester: User, userGroupId: number): number[] {
  switch (a.kind) {
    case 'group-manager':
      return activeIds(p, p.userGroupsById.get(userGroupId)?.managerIds ?? []);
    case 'line-manager':
      return activeIds(p, requester.managerId !== null ? [requester.managerId] : []);
    case 'group-members':
      return activeIds(p, p.userGroupsByName.get(a.group)?.memberIds ?? []);
    case 'users':
      return activeIds(
        p,
        a.users.map((n) => p.usersByName.get(n)?.id).filter((x): x is number => x !== undefined),
      );
  }
}

export function decide(p: PolicySnapshot, grants: GrantLookup, input: DecideInput): Decision {
  const user = p.usersByName.get(input.username);
  const device = p.devicesByName.get(input.device);
  if (!user || user.disabled || !device || !device.enabled || !device.protocols.includes(input.protocol))
    return { outcome: 'denied', why: NO_ACCESS };
  const accounts = p.accountsOfDevice.get(device.id) ?? [];
  const account =
    input.account !== undefined ? accounts.find((a) => a.name === input.account) : (accounts.find((a) => a.isDefault) ?? accounts[0]);
  if (!account || device.groupId === null) return { outcome: 'denied', why: NO_ACCESS };
  const dg = p.deviceGroupsById.get(device.groupId);
  if (!dg) return { outcome: 'denied', why: NO_ACCESS };

  // Access: any of the user's groups with a rule to the device's group that covers this protocol.
  const groupIds = p.groupsOfUser.get(user.id) ?? [];
  let hasRule = false;
  let allowPortForwarding = false;
  for (const g of groupIds) {
    const r = p.rules.get(`${g}:${dg.id}`);
    if (r && r.protocols.includes(input.protocol)) {
      hasRule = true;
      allowPortForwarding ||= r.allowPortForwarding;
    }
  }
  if (!hasRule) return { outcome: 'denied', why: NO_ACCESS };

  const route = routeFor(p, user, groupIds, dg.id);
  if (!route) {
    return {
      outcome: 'allowed',
      why: 'access rule; no approval required',
      requireReason: false,
      allowPortForwarding,
      accountId: account.id,
    };
  }
  const requireReason = dg.requireReason || groupIds.some((g) => p.userGroupsById.get(g)?.requireReason === true);
  const grant = findGrant(grants, grantProtocols(p, groupIds, device, dg.id, input.protocol, input.grantScope ?? 'protocol'), {
    userId: user.id,
    deviceId: device.id,
    accountId: account.id,
    now: input.now,
  });
  if (grant !== undefined) {
    const grantId = grant.id;
    const other = grant.protocol !== input.protocol ? ` for ${grant.protocol} (approval.grant.scope=account covers the account)` : '';
    return {
      outcome: 'allowed',
      why: `valid grant from approval request #${grantId}${other}`,
      grantId,
      requireReason,
      allowPortForwarding,
      accountId: account.id,
    };
  }
  const requesterIsApprover = route.levels.every((l) => l.approverIds.includes(user.id));
  // Four eyes: the requester never approves their own request (auto-approve is recorded apart); a level
  // the requester leaves short goes to someone who is told, never to nobody.
  const fallbacks: string[] = [];
  const levels = route.levels.map((l, i) => {
    const fb = fourEyes(p, l, user, dg.managerIds, route.source === 'device-group');
    if (fb.note) fallbacks.push(`level ${i + 1} ${fb.note}`);
    return fb.level;
  });
  const noApprover = levels.some((l) => l.approverIds.length < l.quorum);
  const why = fallbacks.length ? `${route.why}; the requester may not approve their own request, so ${fallbacks.join('; ')}` : route.why;
  return {
    outcome: 'approval-required',
    why,
    route: { ...route, why, levels },
    requireReason,
    allowPortForwarding,
    accountId: account.id,
    noApprover,
    requesterIsApprover,
  };
}

/** The first protocol, in order, with a valid grant on this device account. */
function findGrant(
  grants: GrantLookup,
  protocols: Protocol[],
  k: { userId: number; deviceId: number; accountId: number; now: number },
): { id: number; protocol: Protocol } | undefined {
  for (const protocol of protocols) {
    const id = grants(k.userId, k.deviceId, k.accountId, protocol, k.now);
    if (id !== undefined) return { id, protocol };
  }
  return undefined;
}

/**
 * Why decide() denied, for the administrator only: users get NO_ACCESS whatever the cause, so they
 * cannot tell an unknown device from a forbidden one. Null when decide() does not deny.
 */
export function denialReason(p: PolicySnapshot, input: Omit<DecideInput, 'now'>): string | null {
  const { username, device: name, protocol } = input;
  const user = p.usersByName.get(username);
  const device = p.devicesByName.get(name);
  if (!user) return `there is no user '${username}'`;
  if (user.disabled) return `user '${username}' is disabled`;
  if (!device) return `there is no device '${name}'`;
  if (!device.enabled) return `device '${name}' is disabled`;
  if (!device.protocols.includes(protocol))
    return `${name} does not offer ${protocol} (it offers ${device.protocols.join(', ') || 'nothing'})`;
  const accounts = p.accountsOfDevice.get(device.id) ?? [];
  if (accounts.length === 0) return `${name} has no account for ${protocol}`;
  if (input.account !== undefined && !accounts.some((a) => a.name === input.account)) return `${name} has no account '${input.account}'`;
  const dg = device.groupId === null ? undefined : p.deviceGroupsById.get(device.groupId);
  if (!dg) return `${name} is in no device group, and access rules name device groups`;
  const groupIds = p.groupsOfUser.get(user.id) ?? [];
  const groups = groupIds.map((g) => p.userGroupsById.get(g)?.name ?? `#${g}`);
  const rules = groupIds.map((g) => p.rules.get(`${g}:${dg.id}`)).filter((r) => r !== undefined);
  if (groupIds.length === 0) return `${username} is in no user group, so no access rule reaches device group '${dg.name}'`;
  if (rules.length === 0) return `no access rule from ${username}'s groups (${groups.join(', ')}) to device group '${dg.name}'`;
  if (!rules.some((r) => r.protocols.includes(protocol)))
    return `the access rules from ${username}'s groups to device group '${dg.name}' do not cover ${protocol}`;
  return null;
}

/**
 * A route level without the requester. When removing them leaves the level short of its quorum, it
 * goes to the requester's line manager, else the device group's managers, else the administrators
 * (device-group approval asks the device group's managers first, as its own precedence does).
 */
export function fourEyes(
  p: PolicySnapshot,
  l: RouteLevel,
  requester: User,
  dgManagerIds: number[],
  deviceGroupFirst: boolean,
): { level: RouteLevel; note?: string } {
  const others = l.approverIds.filter((id) => id !== requester.id);
  if (others.length === l.approverIds.length || others.length >= l.quorum) return { level: { ...l, approverIds: others } };
  const line = {
    label: 'line-manager',
    who: "the requester's line manager",
    ids: requester.managerId !== null ? [requester.managerId] : [],
  };
  const dgm = { label: 'device-group-manager', who: "the device group's managers", ids: dgManagerIds };
  const admins = { label: 'administrators', who: 'the administrators', ids: p.adminIds };
  const approverIds = [...others];
  const used: (typeof line)[] = [];
  for (const src of deviceGroupFirst ? [dgm, line, admins] : [line, dgm, admins]) {
    if (approverIds.length >= l.quorum) break;
    const add = activeIds(p, src.ids).filter((id) => id !== requester.id && !approverIds.includes(id));
    if (add.length === 0) continue;
    approverIds.push(...add);
    used.push(src);
  }
  if (used.length === 0) return { level: { ...l, approverIds: others } };
  return {
    level: { ...l, authority: `${l.authority} -> ${used.map((u) => u.label).join('+')}`, approverIds },
    note: `goes to ${used.map((u) => u.who).join(' and ')} (${approverIds.map((id) => p.userName(id)).join(', ')})`,
  };
}

/** The approval route for a user and a device group, or null when none is needed. Precedence from DESIGN.md. */
export function routeFor(p: PolicySnapshot, user: User, groupIds: number[], dgId: number): Route | null {
  // 1. A workflow for (one of the user's groups x the device's group) wins; with several, the oldest workflow.
  let wf = null;
  for (const g of groupIds) {
    const w = p.workflows.get(`${g}:${dgId}`);
    if (w && (wf === null || w.id < wf.id)) wf = w;
  }
  const dgName = p.deviceGroupsById.get(dgId)?.name ?? '?';
  if (wf) {
    const w = wf;
    const ugName = p.userGroupsById.get(w.userGroupId)?.name ?? '?';
    return {
      source: 'workflow',
      sourceName: w.name,
      why: `workflow '${w.name}' (user group '${ugName}' x device group '${dgName}')`,
      levels: w.levels.map((l): RouteLevel => ({
        authority: authorityLabel(l.authority),
        quorum: l.quorum,
        escalateAfterMinutes: l.escalateAfterMinutes,
        approverIds: authorityApprovers(p, l.authority, user, w.userGroupId),
      })),
    };
  }
  // 2. User-group managerial approval: approvers are those groups' managers.
  const approvalGroups = groupIds.map((g) => p.userGroupsById.get(g)).filter((g) => g !== undefined && g.requireApproval);
  if (approvalGroups.length > 0) {
    const names = approvalGroups.map((g) => `'${g!.name}'`).join(', ');
    return {
      source: 'user-group',
      sourceName: approvalGroups.map((g) => g!.name).join(','),
      why: `user group ${names} requires managerial approval from the group manager`,
      levels: [
        {
          authority: 'group-manager',
          quorum: 1,
          escalateAfterMinutes: null,
          approverIds: activeIds(
            p,
            approvalGroups.flatMap((g) => g!.managerIds),
          ),
        },
      ],
    };
  }
  // 3. Device-group managerial approval: the requester's group managers, else the device group's managers.
  const dg = p.deviceGroupsById.get(dgId);
  if (dg && dg.requireApproval) {
    // The requester stays in the list: a requester who manages their own group is an approver (auto-approve).
    const groupManagers = activeIds(
      p,
      groupIds.flatMap((g) => p.userGroupsById.get(g)?.managerIds ?? []),
    );
    const useGroup = groupManagers.length > 0;
    return {
      source: 'device-group',
      sourceName: dg.name,
      why: `device group '${dg.name}' requires managerial approval (approvers: ${useGroup ? "the requester's user group managers" : "the device group's managers"})`,
      levels: [
        {
          authority: useGroup ? 'group-manager' : 'device-group-manager',
          quorum: 1,
          escalateAfterMinutes: null,
          approverIds: useGroup ? groupManagers : activeIds(p, dg.managerIds),
        },
      ],
    };
  }
  return null;
}

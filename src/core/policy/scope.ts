// Which protocols one approved grant covers, per the parameter approval.grant.scope.
import type { PolicySnapshot } from './snapshot.js';
import type { Device, Protocol } from '../types.js';

export const GRANT_SCOPES = ['protocol', 'account'] as const;
export type GrantScope = (typeof GRANT_SCOPES)[number];

export function grantScopeOf(raw: string): GrantScope {
  return raw === 'account' ? 'account' : 'protocol';
}

/**
 * The protocols whose grant satisfies a request for `protocol`, the requested one first. With scope
 * 'account': every protocol the device offers and the user's access rules to its group allow, so a grant
 * approved for ssh also opens sftp on the same account (and revoking that one grant ends them all).
 */
export function grantProtocols(
  p: PolicySnapshot,
  userGroupIds: readonly number[],
  device: Device,
  deviceGroupId: number,
  protocol: Protocol,
  scope: GrantScope,
): Protocol[] {
  if (scope === 'protocol') return [protocol];
  const allowed = new Set<Protocol>();
  for (const g of userGroupIds) for (const pr of p.rules.get(`${g}:${deviceGroupId}`)?.protocols ?? []) allowed.add(pr);
  return [protocol, ...device.protocols.filter((pr) => pr !== protocol && allowed.has(pr))];
}

/** For policy explain: the protocols a grant for `protocol` would cover ([] when no rule reaches the device). */
export function grantCoverage(p: PolicySnapshot, username: string, deviceName: string, protocol: Protocol, scope: GrantScope): Protocol[] {
  const user = p.usersByName.get(username);
  const device = p.devicesByName.get(deviceName);
  if (!user || !device || device.groupId === null) return [];
  const groupIds = p.groupsOfUser.get(user.id) ?? [];
  if (!groupIds.some((g) => p.rules.get(`${g}:${device.groupId}`)?.protocols.includes(protocol))) return [];
  return grantProtocols(p, groupIds, device, device.groupId, protocol, scope);
}

// User and device groups, with member, manager and device names.
import type { PolicySnapshot } from '../core/policy/snapshot.js';
import type { DeviceGroup, UserGroup } from '../core/types.js';

export function presentUserGroup(p: PolicySnapshot, g: UserGroup) {
  return {
    id: g.id,
    name: g.name,
    requireApproval: g.requireApproval,
    requireReason: g.requireReason,
    managers: g.managerIds.map((id) => p.userName(id)),
    members: g.memberIds.map((id) => p.userName(id)),
  };
}

export function presentDeviceGroup(p: PolicySnapshot, g: DeviceGroup) {
  return {
    id: g.id,
    name: g.name,
    requireApproval: g.requireApproval,
    requireReason: g.requireReason,
    managers: g.managerIds.map((id) => p.userName(id)),
    devices: [...p.devicesById.values()].filter((d) => d.groupId === g.id).map((d) => d.name),
  };
}

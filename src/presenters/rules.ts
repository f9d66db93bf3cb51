// Access rules and approval workflows, with group names instead of ids.
import type { PolicySnapshot } from '../core/policy/snapshot.js';
import type { AccessRule, Workflow } from '../core/types.js';
import { authorityLabel } from '../core/policy/decide.js';

export function presentAccessRule(p: PolicySnapshot, r: AccessRule) {
  return {
    id: r.id,
    userGroup: p.userGroupsById.get(r.userGroupId)?.name ?? `#${r.userGroupId}`,
    deviceGroup: p.deviceGroupsById.get(r.deviceGroupId)?.name ?? `#${r.deviceGroupId}`,
    protocols: r.protocols,
    allowPortForwarding: r.allowPortForwarding,
  };
}

export function presentWorkflow(p: PolicySnapshot, w: Workflow) {
  return {
    id: w.id,
    name: w.name,
    userGroup: p.userGroupsById.get(w.userGroupId)?.name ?? `#${w.userGroupId}`,
    deviceGroup: p.deviceGroupsById.get(w.deviceGroupId)?.name ?? `#${w.deviceGroupId}`,
    levels: w.levels.map((l, i) => ({
      level: i + 1,
      authority: authorityLabel(l.authority),
      quorum: l.quorum,
      escalateAfterMinutes: l.escalateAfterMinutes,
    })),
  };
}

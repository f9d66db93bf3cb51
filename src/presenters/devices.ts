// Devices with their accounts' names and kinds: a secret has no field here.
import type { PolicySnapshot } from '../core/policy/snapshot.js';
import type { Device } from '../core/types.js';
import { deviceWarnings } from '../core/admin/devices.js';

export function presentDevice(p: PolicySnapshot, d: Device) {
  return {
    id: d.id,
    name: d.name,
    host: d.host,
    ports: d.ports,
    protocols: d.protocols,
    group: d.groupId === null ? null : (p.deviceGroupsById.get(d.groupId)?.name ?? null),
    hostKey: d.hostKey,
    enabled: d.enabled,
    accounts: (p.accountsOfDevice.get(d.id) ?? []).map((a) => ({ name: a.name, secretKind: a.secretKind, default: a.isDefault })),
    /** Dead ends (no account, no device group), in words. */
    warnings: deviceWarnings(p, d),
  };
}

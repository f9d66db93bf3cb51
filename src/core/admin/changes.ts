// Policy administration, read from the snapshot: name lookups, and what a change replaces (as the audit log shows it).
import { GatehouseError } from '../errors.js';
import type { PolicySnapshot } from '../policy/snapshot.js';
import type { AuditEntry, Channel, Device, Protocol } from '../types.js';
import { checkHost, parseProtocols, resolvePorts } from './validate.js';

/** The audit record of an admin write by `actor`. */
export function auditEntry(
  actor: { username: string; id: number | null; channel: Channel },
  action: string,
  targetType: string,
  targetId: string | number,
  details?: Record<string, unknown>,
): AuditEntry {
  return { actor: actor.username, actorId: actor.id, channel: actor.channel, action, targetType, targetId, details };
}

export interface DevicePatch {
  host?: string;
  protocols?: string | string[];
  group?: string | null;
  ports?: Partial<Record<Protocol, number>>;
  port?: number;
  enabled?: boolean;
  hostKey?: string | null;
  options?: Record<string, unknown>;
}

/** A user as the audit log shows it before a change (never a password or hash). */
export function userBefore(p: PolicySnapshot, id: number) {
  const u = p.usersById.get(id);
  return u
    ? {
        displayName: u.displayName,
        email: u.email,
        manager: u.managerId === null ? null : p.userName(u.managerId),
        admin: u.isAdmin,
        disabled: u.disabled,
      }
    : null;
}

export function deviceGroupId(p: PolicySnapshot, name: string): number {
  const g = [...p.deviceGroupsById.values()].find((x) => x.name === name);
  if (!g) throw new GatehouseError('not_found', `unknown device group '${name}'`);
  return g.id;
}

/** A device update: the row to write, the audit action, and the device as it was. */
export function deviceChange(p: PolicySnapshot, d: Device, patch: DevicePatch) {
  const protocols = patch.protocols !== undefined ? parseProtocols(patch.protocols) : d.protocols;
  const ports =
    patch.ports !== undefined || patch.port !== undefined || patch.protocols !== undefined
      ? resolvePorts(protocols, patch.ports, patch.port, d.ports)
      : undefined;
  const row = {
    host: patch.host !== undefined ? checkHost(patch.host) : undefined,
    protocols: patch.protocols !== undefined ? protocols : undefined,
    groupId: patch.group === undefined ? undefined : patch.group === null || patch.group === '' ? null : deviceGroupId(p, patch.group),
    ports,
    enabled: patch.enabled,
    hostKey: patch.hostKey,
    options: patch.options,
  };
  const action =
    patch.hostKey !== undefined && Object.keys(patch).length === 1
      ? patch.hostKey
        ? 'device.host-key-pinned'
        : 'device.host-key-cleared'
      : 'device.update';
  const before = {
    host: d.host,
    protocols: d.protocols,
    ports: d.ports,
    group: d.groupId === null ? null : (p.deviceGroupsById.get(d.groupId)?.name ?? null),
    enabled: d.enabled,
    hostKey: d.hostKey,
  };
  return { row, action, before };
}

import type { Selectable } from 'kysely';
import type { AccountsTable, DevicesTable, UsersTable } from './schema.js';
import type { Account, Device, Protocol, User } from '../core/types.js';

export function toUser(u: Selectable<UsersTable>): User {
  return {
    id: u.id,
    username: u.username,
    displayName: u.display_name,
    email: u.email,
    managerId: u.manager_id,
    isAdmin: u.is_admin === 1,
    disabled: u.disabled === 1,
    source: u.source,
  };
}

export function toDevice(d: Selectable<DevicesTable>): Device {
  return {
    id: d.id,
    name: d.name,
    host: d.host,
    ports: JSON.parse(d.ports),
    protocols: (d.protocols ? d.protocols.split(',') : []) as Protocol[],
    groupId: d.group_id,
    hostKey: d.host_key,
    enabled: d.enabled === 1,
  };
}

export function toAccount(a: Pick<Selectable<AccountsTable>, 'id' | 'device_id' | 'name' | 'secret_kind' | 'is_default'>): Account {
  return { id: a.id, deviceId: a.device_id, name: a.name, secretKind: a.secret_kind as 'password' | 'key', isDefault: a.is_default === 1 };
}

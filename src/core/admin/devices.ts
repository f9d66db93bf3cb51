// Dead ends on a device, told to the administrator wherever devices are created or listed: a device
// nobody can reach however the access rules are set.
import type { PolicySnapshot } from '../policy/snapshot.js';
import type { Device } from '../types.js';

export function deviceWarnings(p: PolicySnapshot, d: Device): string[] {
  const out: string[] = [];
  if (!(p.accountsOfDevice.get(d.id) ?? []).length)
    out.push(
      `No account: every connection to ${d.name} is refused until an account is added (Device page > Accounts, or gatehouse device account add)`,
    );
  if (d.groupId === null) out.push(`In no device group: access rules name device groups, so no rule reaches ${d.name}`);
  return out;
}

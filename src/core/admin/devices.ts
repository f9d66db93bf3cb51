// Dead ends on a device, told to the administrator wherever devices are created or listed (a device
// nobody can reach however the access rules are set); the first-use pin of its SSH host key.
import { GatehouseError } from '../errors.js';
import type { AdminStore } from '../ports/admin-store.js';
import type { PolicySnapshot } from '../policy/snapshot.js';
import type { Channel, Device } from '../types.js';
import { auditEntry } from './changes.js';

export function deviceWarnings(p: PolicySnapshot, d: Device): string[] {
  const out: string[] = [];
  if (!(p.accountsOfDevice.get(d.id) ?? []).length)
    out.push(
      `No account: every connection to ${d.name} is refused until an account is added (Device page > Accounts, or gatehouse device account add)`,
    );
  if (d.groupId === null) out.push(`In no device group: access rules name device groups, so no rule reaches ${d.name}`);
  return out;
}

/**
 * Trust on first use: pins `hostKey` for the device unless another connection (any process, any node)
 * pinned one first, in one conditional update. Returns the key pinned now, this one or the earlier
 * one, for the caller to compare; the audit record is written only by the pin that won.
 */
export async function pinHostKey(
  admin: AdminStore,
  actor: { username: string; id: number | null; channel: Channel },
  device: { id: number; name: string },
  hostKey: string,
): Promise<string | null> {
  const lost = new GatehouseError('conflict', 'a host key was pinned meanwhile');
  const audit = auditEntry(actor, 'device.host-key-pinned', 'device', device.id, { name: device.name, hostKey, before: { hostKey: null } });
  try {
    await admin.write(audit, async (w) => {
      if (!(await w.pinHostKey(device.id, hostKey))) throw lost;
    });
    return hostKey;
  } catch (err) {
    if (err !== lost) throw err;
    return admin.hostKeyOf(device.id);
  }
}

// Plain `ssh alice@gateway` with a PTY: a menu of the devices she may reach. With only one, she is
// connected at once; `exit` on a device brings her back here.
import type { Services } from '../../services.js';
import type { User } from '../../core/types.js';
import { needsReason } from './gate.js';
import type { ServerChannel } from 'ssh2';
import { finish, readLine, say } from './terminal.js';

export interface MenuEntry {
  device: string;
  account: string;
  /** What connecting will do: go straight through, or ask for approval. */
  status: string;
}

/** Devices (and their accounts) the user may reach over ssh, in name order. */
export async function reachable(s: Services, user: User): Promise<MenuEntry[]> {
  const p = await s.policy.current();
  const out: MenuEntry[] = [];
  const devices = [...p.devicesById.values()].sort((a, b) => a.name.localeCompare(b.name));
  for (const d of devices) {
    for (const a of p.accountsOfDevice.get(d.id) ?? []) {
      const dec = await s.approvals.decide(user.username, d.name, 'ssh', a.name);
      if (dec.outcome === 'denied') continue;
      let status = 'open';
      if (dec.outcome === 'approval-required') status = 'needs approval';
      else if (dec.grantId !== undefined) {
        const end = s.grants.window(dec.grantId)?.end;
        status = end ? `approved until ${new Date(end).toISOString().slice(11, 16)} UTC` : 'approved';
      }
      out.push({ device: d.name, account: a.name, status });
    }
  }
  return out;
}

/** What the menu needs of its connection: who is in, whether it is still open, and a way to connect. */
export interface MenuHost {
  user: User;
  closed(): boolean;
  /** Runs one session to the device; the channel stays open afterwards (back to the menu). */
  connect(device: string, account: string, reason: string | null): Promise<boolean>;
}

export async function runMenu(s: Services, host: MenuHost, ch: ServerChannel): Promise<void> {
  const user = host.user;
  let first = true;
  for (;;) {
    if (host.closed() || !ch.writable) return;
    const entries = await reachable(s, user);
    if (!entries.length) {
      say(ch, true, 'No device is open to you. Ask an administrator for an access rule.');
      return finish(ch, 1);
    }
    let pick: MenuEntry | undefined;
    if (first && entries.length === 1) pick = entries[0];
    else {
      const width = Math.max(...entries.map((e) => `${e.device} (${e.account})`.length));
      const lines = entries.map((e, i) => `  ${String(i + 1).padStart(2)}) ${`${e.device} (${e.account})`.padEnd(width)}  ${e.status}`);
      ch.write(`\r\nGatehouse - devices you may reach, ${user.username}:\r\n${lines.join('\r\n')}\r\n`);
      const line = await readLine(ch, 'Number or name (q to quit): ');
      if (line === null || /^(q|quit|exit)$/i.test(line.trim())) {
        ch.write('Bye.\r\n');
        return finish(ch, 0);
      }
      const v = line.trim();
      if (!v) continue;
      pick = /^\d+$/.test(v)
        ? entries[Number(v) - 1]
        : (entries.find((e) => `${e.account}@${e.device}` === v) ?? entries.find((e) => e.device === v));
      if (!pick) {
        say(ch, true, `'${v.slice(0, 64)}' is not in the list.`);
        continue;
      }
    }
    first = false;
    let reason: string | null = null;
    if (await needsReason(s, user, pick.device, pick.account, ['ssh'])) {
      const min = (await s.params.params()).int('approval.reason.min.length');
      ch.write(`\r\nAccess to ${pick.device} needs approval, with a reason of at least ${min} characters.\r\n`);
      reason = await readLine(ch, 'Reason: ');
      if (reason === null) continue;
    }
    await host.connect(pick.device, pick.account, reason);
  }
}

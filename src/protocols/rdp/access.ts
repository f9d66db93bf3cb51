// The RDP side of decide(): issuing a ticket once access is allowed (CLI and API), and checking a
// consumed ticket again at connection time (the gateway). The .rdp file is built here too.
import { ask } from '../../core/access/ask.js';
import { GatehouseError } from '../../core/errors.js';
import type { ApprovalRequest, Channel, Device } from '../../core/types.js';
import type { Services } from '../../services.js';
import { TicketStore, type Ticket } from './tickets.js';

/** The same words whether the device is missing or merely unreachable for this user: no enumeration. */
export const NO_RDP_ACCESS = (device: string) =>
  `you cannot connect to '${device.slice(0, 64)}' over RDP: it does not exist or no access rule lets you reach it`;

export interface IssueInput {
  username: string;
  device: string;
  account?: string;
  reason?: string | null;
  clientAddr?: string | null;
  channel: Channel;
  /** false: never create an approval request, only use an existing grant (the console's GET download). */
  mayRequest?: boolean;
}

export type IssueResult =
  | { outcome: 'allowed'; ticket: string; expiresAt: number; device: string; account: string; approvalId: number | null; file: string }
  | { outcome: 'waiting'; request: ApprovalRequest; created: boolean }
  | { outcome: 'approval-required'; why: string };

/** The port the in-process gateway really listens on (GATEHOUSE_RDP_PORT=0 picks a free one). */
const livePorts = new WeakMap<Services, number>();
export function setLiveRdpPort(s: Services, port: number | null): void {
  if (port === null) livePorts.delete(s);
  else livePorts.set(s, port);
}

/** Host and port a client should dial: the public URL's host (default 127.0.0.1) and the RDP port. */
export function gatewayAddress(s: Services): { host: string; port: number } {
  let host = s.config.bind;
  try {
    host = new URL(s.config.publicUrl).hostname || host;
  } catch {
    // keep the bind address
  }
  if (host === '0.0.0.0' || host === '::') host = '127.0.0.1';
  return { host, port: livePorts.get(s) ?? s.config.rdpPort };
}

/** A .rdp file (CRLF lines, UTF-8) for mstsc and FreeRDP. */
export function rdpFile(o: { host: string; port: number; account: string; ticket: string }): string {
  const clean = (v: string) => v.replace(/[\r\n]/g, '');
  const host = o.host.includes(':') && !o.host.startsWith('[') ? `[${o.host}]` : o.host;
  return [
    `full address:s:${clean(host)}:${o.port}`,
    `username:s:${clean(o.account)}`,
    `loadbalanceinfo:s:${o.ticket}`,
    // Warn (not refuse) when the device's certificate cannot be verified; TLS/NLA stay end to end.
    `authentication level:i:2`,
    `negotiate security layer:i:1`,
    '',
  ].join('\r\n');
}

async function issueFor(
  s: Services,
  tickets: TicketStore,
  user: string,
  device: Device,
  accountId: number,
  approvalId: number | null,
  channel: Channel,
) {
  const p = await s.policy.current();
  const u = p.usersByName.get(user)!;
  const account = (p.accountsOfDevice.get(device.id) ?? []).find((a) => a.id === accountId);
  if (!account) throw new GatehouseError('not_found', NO_RDP_ACCESS(device.name));
  const t = await tickets.issue({ userId: u.id, deviceId: device.id, accountId, approvalId }, channel);
  await s.audit({
    actor: u.username,
    actorId: u.id,
    channel,
    action: 'rdp.ticket',
    targetType: 'device',
    targetId: device.id,
    details: { device: device.name, account: account.name, approvalId, ticketId: t.id },
  });
  const addr = gatewayAddress(s);
  return {
    outcome: 'allowed' as const,
    ticket: t.ticket,
    expiresAt: t.expiresAt,
    device: device.name,
    account: account.name,
    approvalId,
    file: rdpFile({ ...addr, account: account.name, ticket: t.ticket }),
  };
}

/** decide(), then a ticket when allowed; otherwise the waiting request (created or reused). */
export async function issueTicket(s: Services, input: IssueInput): Promise<IssueResult> {
  const tickets = new TicketStore(s.rdpTickets, () => s.clock.now());
  const p = await s.policy.current();
  const device = p.devicesByName.get(input.device);
  const user = p.usersByName.get(input.username);
  const decision = await s.approvals.decide(input.username, input.device, 'rdp', input.account);
  if (!device || !user || user.disabled || decision.outcome === 'denied')
    throw new GatehouseError('not_found', NO_RDP_ACCESS(input.device));
  if (decision.outcome === 'allowed')
    return issueFor(s, tickets, input.username, device, decision.accountId, decision.grantId ?? null, input.channel);
  if (input.mayRequest === false) return { outcome: 'approval-required', why: decision.why };
  const res = await ask(s.approvals, {
    username: input.username,
    device: input.device,
    account: input.account,
    protocol: 'rdp',
    reason: input.reason,
    clientAddr: input.clientAddr,
    channel: input.channel,
  });
  // Refusals reach the CLI and the API as the engine's own errors (their codes pick the status).
  if ('kind' in res) throw res.error;
  if (res.outcome === 'allowed') {
    const d = res.decision;
    if (d.outcome !== 'allowed') throw new GatehouseError('forbidden', NO_RDP_ACCESS(input.device));
    return issueFor(s, tickets, input.username, device, d.accountId, d.grantId ?? null, input.channel);
  }
  if (res.outcome === 'approved') return issueFor(s, tickets, input.username, device, res.request.accountId, res.request.id, input.channel);
  return { outcome: 'waiting', request: res.request, created: res.created };
}

export type Recheck =
  | { ok: true; username: string; device: Device; account: string; approvalId: number | null; grantEnd: number | null }
  | { ok: false; why: string };

/**
 * At connection time: the ticket's user, device and account still exist and match, and the grant that
 * allowed it is still valid (not revoked, not over) — or no approval is needed at all.
 */
export async function recheck(s: Services, t: Ticket): Promise<Recheck> {
  const p = await s.policy.current();
  const user = p.usersById.get(t.userId);
  const device = p.devicesById.get(t.deviceId);
  if (!user || user.disabled) return { ok: false, why: 'user missing or disabled' };
  if (!device || !device.enabled) return { ok: false, why: 'device missing or disabled' };
  const account = (p.accountsOfDevice.get(device.id) ?? []).find((a) => a.id === t.accountId);
  if (!account) return { ok: false, why: 'account no longer on this device' };
  const d = await s.approvals.decide(user.username, device.name, 'rdp', account.name);
  if (d.outcome !== 'allowed') return { ok: false, why: `decide(): ${d.outcome}` };
  if (d.accountId !== account.id) return { ok: false, why: 'ticket for another account' };
  const now = s.clock.now();
  let approvalId: number | null = t.approvalId;
  let grantEnd: number | null = null;
  if (t.approvalId !== null) {
    // Bound to its grant: that grant, not merely some grant, must still hold.
    const r = await s.approvals.get(t.approvalId);
    if (
      !r ||
      r.status !== 'approved' ||
      r.requesterId !== user.id ||
      r.deviceId !== device.id ||
      r.accountId !== account.id ||
      r.protocol !== 'rdp'
    )
      return { ok: false, why: 'grant no longer valid' };
    if ((r.grantStart !== null && now < r.grantStart) || (r.grantEnd !== null && now >= r.grantEnd))
      return { ok: false, why: 'grant window not open' };
    grantEnd = r.grantEnd;
  } else if (d.grantId !== undefined) {
    // Issued when no approval was needed; policy now asks for one and a grant exists: that grant binds the session.
    approvalId = d.grantId;
    grantEnd = s.grants.window(d.grantId)?.end ?? null;
  }
  return { ok: true, username: user.username, device, account: account.name, approvalId, grantEnd };
}

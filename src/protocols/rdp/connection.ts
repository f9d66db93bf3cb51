// One client connection to the RDP gateway: read exactly one TPKT (the X.224 Connection Request) within
// the deadline, check and consume the ticket in its routing token, check the grant again, connect to the
// device, forward the request with the token replaced by the account's cookie, then relay bytes.
// Every refusal closes the socket at once, writes an audit record and tells the client nothing: an
// unknown ticket, a used one and a ticket for a device that no longer exists all look the same.
import { connect, type Socket } from 'node:net';
import type { Services } from '../../services.js';
import { recheck } from './access.js';
import type { AuditQueue } from './audit-queue.js';
import { reader, relay, RELAY_QUEUE_BYTES, type Reader, type Relay } from './relay.js';
import { TicketStore } from './tickets.js';
import { buildConnectionRequest, checkTpktHeader, parseConnectionRequest } from './x224.js';

/** A client that has not sent its whole Connection Request by then is dropped. */
export const REQUEST_DEADLINE_MS = 10_000;
/** At most this many connections may be reading their request at once (slow clients cannot pile up). */
export const MAX_PENDING = 256;
const UPSTREAM_CONNECT_MS = 10_000;

export interface GatewayState {
  s: Services;
  tickets: TicketStore;
  audit: AuditQueue;
  /** Open client sockets, for shutdown. */
  live: Set<Socket>;
  /** Relays with a session, for shutdown; each entry resolves once its session row is closed. */
  relays: Map<Relay, Promise<void>>;
  /** Connections still reading their request. */
  pending: number;
}

export function handleClient(g: GatewayState, client: Socket): void {
  const { s } = g;
  const clientAddr = `${client.remoteAddress ?? 'unknown'}`.replace(/^::ffff:/, '');
  client.setNoDelay(true);
  client.on('error', () => {});
  if (g.pending >= MAX_PENDING) {
    // Not audited: under a flood, one record per connection would turn it into a database flood.
    s.log.warn({ client: clientAddr, pending: g.pending }, 'rdp: too many connections reading their request; dropped');
    client.destroy();
    return;
  }
  g.live.add(client);
  g.pending++;
  let counted = true;
  const uncount = () => {
    if (counted) g.pending--;
    counted = false;
  };
  client.once('close', () => {
    g.live.delete(client);
    uncount();
  });

  let buf: Buffer = Buffer.alloc(0);
  let settled = false;
  const refuse = (reason: string, details: Record<string, unknown> = {}) => {
    settled = true;
    uncount();
    clearTimeout(deadline);
    client.removeAllListeners('data');
    client.destroy();
    s.log.info({ client: clientAddr, reason }, 'rdp connection refused');
    auditRefused(g, clientAddr, { reason, ...details });
  };
  const deadline = setTimeout(() => refuse('no connection request within the deadline', { received: buf.length }), REQUEST_DEADLINE_MS);
  deadline.unref();
  client.once('close', () => {
    if (!settled) {
      settled = true;
      clearTimeout(deadline);
      if (buf.length) auditRefused(g, clientAddr, { reason: 'closed before a whole connection request', received: buf.length });
    }
  });

  function onData(chunk: Buffer) {
    if (settled) return;
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    const h = checkTpktHeader(buf);
    if (h.ok === 'more') return;
    if (!h.ok) return refuse(h.error);
    if (buf.length < h.length) return;
    // Exactly one packet is ours to read; anything after it belongs to the device.
    settled = true;
    uncount();
    clearTimeout(deadline);
    client.removeAllListeners('data');
    client.pause();
    const pkt = buf.subarray(0, h.length);
    const trailing = buf.subarray(h.length);
    void admit(g, client, clientAddr, pkt, trailing).catch((err: unknown) => {
      s.log.warn({ err: String(err) }, 'rdp connection failed');
      client.destroy();
    });
  }
  // A throw while reading the request ends this connection, never the process.
  client.on('data', (chunk: Buffer) => {
    try {
      onData(chunk);
    } catch (err) {
      s.log.error({ client: clientAddr, err: String(err) }, 'rdp: reading the connection request failed');
      if (!settled) refuse('internal error while reading the connection request');
      else client.destroy();
    }
  });
}

/** An anonymous refusal, before the connection request named anyone. */
function auditRefused(g: GatewayState, clientAddr: string, details: Record<string, unknown>): void {
  g.audit.push({
    actor: 'anonymous',
    channel: 'system',
    action: 'rdp.refused',
    targetType: 'rdp',
    details: { client: clientAddr, ...details },
  });
}

async function admit(g: GatewayState, client: Socket, clientAddr: string, pkt: Buffer, trailing: Buffer): Promise<void> {
  const { s } = g;
  const audit = (actor: string, actorId: number | null, action: string, details: Record<string, unknown>) =>
    g.audit.push({ actor, actorId, channel: 'system', action, targetType: 'rdp', details: { client: clientAddr, ...details } });
  const refuse = async (reason: string, details: Record<string, unknown> = {}, actor = 'anonymous', actorId: number | null = null) => {
    client.destroy();
    s.log.info({ client: clientAddr, reason }, 'rdp connection refused');
    audit(actor, actorId, 'rdp.refused', { reason, ...details });
  };

  const parsed = parseConnectionRequest(pkt);
  if (!parsed.ok) return refuse(parsed.error);
  const cr = parsed.cr;
  if (cr.routingToken === null)
    return refuse(cr.cookie !== null ? 'no ticket: the request carries only a cookie' : 'no ticket in the connection request');
  const used = await g.tickets.consume(cr.routingToken, clientAddr);
  if (!used.ok) return refuse(`ticket ${used.why}`);
  const t = used.ticket;
  const user = (await s.policy.current()).usersById.get(t.userId);
  const check = await recheck(s, t);
  if (!check.ok)
    return refuse(`access re-check failed: ${check.why}`, { ticketId: t.id, deviceId: t.deviceId }, user?.username ?? 'unknown', t.userId);
  if (client.destroyed) return refuse('client left while its ticket was checked', { ticketId: t.id }, check.username, t.userId);

  const forward = buildConnectionRequest(cr, check.account);
  if (!forward) return refuse('connection request too long to forward', { ticketId: t.id }, check.username, t.userId);
  const port = check.device.ports.rdp ?? 3389;
  let upstream: Socket;
  const fromDevice = reader();
  try {
    upstream = await dial(check.device.host, port, fromDevice);
  } catch (err) {
    s.log.warn({ device: check.device.name, err: String(err) }, 'rdp device unreachable');
    return refuse('device unreachable', { device: check.device.name, ticketId: t.id }, check.username, t.userId);
  }

  if (client.destroyed) {
    upstream.destroy();
    return refuse('client left before the device answered', { ticketId: t.id }, check.username, t.userId);
  }
  const r = relay(client, upstream, fromDevice);
  const sessionId = await s.sessions.open(
    {
      userId: t.userId,
      deviceId: check.device.id,
      accountId: t.accountId,
      protocol: 'rdp',
      approvalId: check.approvalId,
      clientAddr,
      nodeId: s.nodeId,
    },
    { close: (reason) => r.close(reason), bytes: () => r.bytes() },
    check.grantEnd,
  );
  audit(check.username, t.userId, 'rdp.connect', {
    device: check.device.name,
    account: check.account,
    approvalId: check.approvalId,
    ticketId: t.id,
    sessionId,
  });
  const done = r.finished
    .then((reason) => s.sessions.closed(sessionId, reason))
    .catch((err: unknown) => s.log.warn({ err: String(err) }, 'rdp session bookkeeping failed'))
    .finally(() => g.relays.delete(r));
  g.relays.set(r, done);
  // The request with the account's cookie instead of the ticket, then whatever the client sent after it.
  r.start(trailing.length ? Buffer.concat([forward, trailing]) : forward);
}

function dial(host: string, port: number, onread: Reader): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // writableHighWaterMark reaches the Duplex constructor (not in @types/node's NetConnectOpts): lets the
    // client->device pipe keep reading while up to RELAY_QUEUE_BYTES wait for the device.
    const opts = { host, port, noDelay: true, onread, writableHighWaterMark: RELAY_QUEUE_BYTES };
    const sock = connect(opts);
    const timer = setTimeout(() => sock.destroy(new Error(`connect timeout after ${UPSTREAM_CONNECT_MS} ms`)), UPSTREAM_CONNECT_MS);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeListener('error', reject);
      resolve(sock);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

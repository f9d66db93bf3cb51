// One MySQL client: login (login.ts), the user's password and second factor (auth.ts), the access gate
// (gate.ts, the login held while a request waits), the device login with the vaulted account
// (upstream.ts), then the relay with its statement audit (relay.ts) as a live session.
import type { Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import { parametersText, type StatementWriter } from '../db-common/statement-writer.js';
import type { Account, Device, User } from '../../core/types.js';
import type { Services } from '../../services.js';
import { checkUser } from './auth.js';
import { clean, NO_ACCESS, obtainAccess } from './gate.js';
import { MAX_LOGIN_PACKET, readLogin, type ClientLogin } from './login.js';
import { ER, errPacket, okPacket, ProtocolError } from './packets.js';
import { relay, type Relay } from './relay.js';
import type { Statement } from './statements.js';
import type { Outcome } from './responses.js';
import { openUpstream, UpstreamError, type Upstream, type UpstreamTls } from './upstream.js';
import { Wire } from './wire.js';

export interface MysqlState {
  s: Services;
  /** The listener's TLS context, made on first use. */
  tls: () => SecureContext;
  writer: StatementWriter;
  /** Open client sockets, for shutdown. */
  live: Set<Socket>;
  /** Relays with a session; each entry resolves once its session row is closed. */
  relays: Map<Relay, Promise<void>>;
  /** Connections still logging in (not yet waiting or relaying). */
  pending: number;
  /** How long a login may be held for an approval before the client is told the request number. */
  holdMs: number;
  /** Deadline of each login packet. */
  packetMs: number;
}

/** At most this many connections may be in their first packets at once (slow clients cannot pile up). */
export const MAX_PENDING = 256;
const UPSTREAM_MS = 10_000;

export function handleClient(g: MysqlState, sock: Socket): void {
  const addr = `${sock.remoteAddress ?? 'unknown'}`.replace(/^::ffff:/, '');
  sock.setNoDelay(true);
  sock.on('error', () => {});
  if (g.pending >= MAX_PENDING) {
    g.s.log.warn({ client: addr, pending: g.pending }, 'mysql: too many connections logging in; dropped');
    sock.destroy();
    return;
  }
  g.live.add(sock);
  g.pending++;
  let counted = true;
  const uncount = () => {
    if (counted) g.pending--;
    counted = false;
  };
  const left = new AbortController();
  sock.once('close', () => {
    g.live.delete(sock);
    uncount();
    left.abort();
  });
  const wire = new Wire(sock, MAX_LOGIN_PACKET);
  run(g, wire, addr, left.signal, uncount).catch((err: unknown) => {
    // Malformed or hostile input ends this connection only.
    if (err instanceof ProtocolError) g.s.log.debug({ client: addr, err: err.message }, 'mysql: connection dropped');
    else g.s.log.warn({ client: addr, err: String(err) }, 'mysql: connection failed');
    if (!(err instanceof ProtocolError) && !sock.destroyed) wire.endWith(errPacket(ER.UNKNOWN, 'Gatehouse could not complete the login'));
    else wire.destroy();
  });
}

async function run(g: MysqlState, wire: Wire, addr: string, signal: AbortSignal, uncount: () => void): Promise<void> {
  const { s } = g;
  const login = await readLogin(wire, g.tls, g.packetMs);
  if (!login) return;
  const who = await checkUser(s, login, addr, g.packetMs);
  if (!who.ok) return wire.endWith(errPacket(ER.ACCESS_DENIED, who.message));
  uncount();
  const access = await obtainAccess(s, {
    user: who.user,
    device: who.device,
    account: who.account,
    reason: who.reason,
    clientAddr: addr,
    signal,
    holdMs: g.holdMs,
  });
  if (signal.aborted) return wire.destroy();
  if (!access.ok) {
    await audit(s, who.user, 'mysql.refused', {
      device: who.device,
      clientAddr: addr,
      why: access.denied ? 'denied' : clean(access.message, 300),
    });
    return wire.endWith(errPacket(ER.ACCESS_DENIED, access.denied ? NO_ACCESS(login.response.username) : access.message));
  }
  const p = await s.policy.current();
  const device = p.devicesById.get(access.deviceId);
  const account = (p.accountsOfDevice.get(access.deviceId) ?? []).find((a) => a.id === access.accountId);
  if (!device || !account) return wire.endWith(errPacket(ER.ACCESS_DENIED, NO_ACCESS(login.response.username)));
  const up = await connectDevice(g, login, device, account).catch((err: unknown) => {
    if (!(err instanceof UpstreamError)) throw err;
    s.log.warn({ device: device.name, err: err.message }, 'mysql: device login failed');
    wire.endWith(errPacket(ER.HANDSHAKE, `Gatehouse could not log in to ${device.name} as ${account.name}: ${err.message}`));
    return null;
  });
  if (!up) return;
  if (signal.aborted) {
    up.sock.destroy();
    return;
  }
  await relaySession(g, { wire, login, user: who.user, device, account, up, addr, access });
}

interface Ready {
  wire: Wire;
  login: ClientLogin;
  user: User;
  device: Device;
  account: Account;
  up: Upstream;
  addr: string;
  access: { approvalId: number | null; grantEnd: number | null };
}

/** The final OK, the session row and the relay (to its end, in the background). */
async function relaySession(g: MysqlState, c: Ready): Promise<void> {
  const { s } = g;
  const { wire, login, device, account, up, addr, access } = c;
  const who = { user: c.user };
  const showParams = (await s.params.params()).bool('recording.db.parameters');
  // The session exists before the first statement can: a revocation meanwhile closes the relay as it starts.
  let r: Relay | null = null;
  let early: string | null = null;
  const sessionId = await s.sessions.open(
    {
      userId: who.user.id,
      deviceId: device.id,
      accountId: account.id,
      protocol: 'mysql',
      approvalId: access.approvalId,
      clientAddr: addr,
      nodeId: s.nodeId,
    },
    { close: (why) => (r ? r.close(why) : (early ??= why)), bytes: () => r?.bytes() ?? { in: 0, out: 0 } },
    access.grantEnd,
  );
  wire.write(okPacket());
  const client = wire.release();
  r = relay({
    client: client.sock,
    clientRest: client.rest,
    device: up.sock,
    deviceRest: up.rest,
    caps: login.response.caps,
    showParams,
    onStatement: (st, o, at) => record(g, sessionId, who.user.username, device.name, account.name, st, o, at),
  });
  if (early) r.close(early);
  const live = r;
  await audit(s, who.user, 'mysql.connect', {
    device: device.name,
    account: account.name,
    approvalId: access.approvalId,
    sessionId,
    tls: up.tls,
  });
  const done = live.done
    .then((reason) => s.sessions.closed(sessionId, reason))
    .catch((err: unknown) => s.log.warn({ err: String(err) }, 'mysql session bookkeeping failed'))
    .finally(() => g.relays.delete(live));
  g.relays.set(live, done);
  // The grant may have ended between the approval and now: check once more.
  if (access.approvalId !== null) {
    const again = await s.approvals.decide(who.user.username, device.name, 'mysql', account.name);
    if (again.outcome !== 'allowed') live.close('access ended: the approval is no longer valid');
  }
}

async function connectDevice(g: MysqlState, login: ClientLogin, device: Device, account: { id: number; name: string }) {
  const secret = await g.s.admin.accountSecret(account.id);
  if (secret.kind !== 'password') throw new UpstreamError(`the account ${account.name} holds no password`);
  const r = login.response;
  return openUpstream({
    host: device.host,
    port: device.ports.mysql ?? 3306,
    user: account.name,
    password: secret.secret,
    database: r.database,
    caps: r.caps,
    maxPacket: r.maxPacket,
    charset: r.charset,
    tls: await deviceTls(g.s, device.name),
    timeoutMs: UPSTREAM_MS,
  });
}

function record(
  g: MysqlState,
  sessionId: number,
  user: string,
  device: string,
  account: string,
  st: Statement,
  o: Outcome,
  at: number,
): void {
  const parameters = parametersText(st.params ?? Array.from({ length: st.paramCount }, () => null), st.params !== null);
  g.writer.push({
    sessionId,
    at,
    user,
    device,
    account,
    protocol: 'mysql',
    kind: st.kind === 'init-db' ? 'query' : st.kind,
    statement: st.truncated ? `${st.text}… [cut at ${st.text.length} characters]` : st.text,
    parameters,
    rowCount: o.rowCount,
    error: o.error,
  });
}

async function audit(s: Services, user: { id: number; username: string }, action: string, details: Record<string, unknown>): Promise<void> {
  await s
    .audit({ actor: user.username, actorId: user.id, channel: 'db', action, targetType: 'user', targetId: user.id, details })
    .catch((err: unknown) => s.log.warn({ err: String(err) }, 'mysql audit failed'));
}

/** The device's TLS mode: its `mysqlTls` option (prefer, require, off, sha256:<fingerprint>), default prefer. */
async function deviceTls(s: Services, device: string): Promise<UpstreamTls> {
  const raw = await s.deviceOptions.byName(device);
  const v = raw ? (JSON.parse(raw) as { mysqlTls?: unknown }).mysqlTls : undefined;
  if (v === undefined) return 'prefer';
  // A mistyped mode or pin refuses the device rather than falling back to a weaker check.
  if (typeof v !== 'string' || !/^(prefer|require|off|sha256:[0-9a-fA-F:]{64,95})$/.test(v))
    throw new UpstreamError(`the device's mysqlTls option is not prefer, require, off or sha256:<fingerprint>`);
  return v as UpstreamTls;
}

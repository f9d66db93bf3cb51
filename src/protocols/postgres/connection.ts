// One client of the PostgreSQL listener: handshake, Gatehouse login, the wait for approval, the login
// to the device with the vaulted password, then the audited relay until either side ends or access does.
import { randomInt } from 'node:crypto';
import type { Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import { parseTarget, printable } from '../../core/target.js';
import type { Granted } from '../../core/access/index.js';
import type { Account, Device, User } from '../../core/types.js';
import type { Services } from '../../services.js';
import type { StatementWriter } from '../db-common/statement-writer.js';
import { PgAudit, CLIENT_AUDITED, SERVER_AUDITED } from './audit.js';
import { clientStart, takeReason } from './client.js';
import type { FrameIO } from './io.js';
import { pgLogin } from './login.js';
import { relay, type Relay } from './relay.js';
import { MessageScanner } from './scanner.js';
import { connectUpstream, UpstreamError, type UpstreamReady, type UpstreamTls } from './upstream.js';
import { pgAccess, NO_ACCESS_TEXT, refusalText } from './wait.js';
import { authRequest, backendKeyData, errorResponse, noticeResponse, ProtocolError, readyForQuery } from './wire.js';

export const PG_SYNTAX = 'use user@device or user@account@device, e.g. psql "host=gateway port=6432 user=alice@pgdb01 sslmode=require"';

export interface CancelTarget {
  host: string;
  port: number;
  pid: number;
  secret: number;
}

export interface PgState {
  s: Services;
  /** The listener's TLS context (made on first use). */
  tls: () => SecureContext;
  writer: StatementWriter;
  /** Gateway cancel keys ("pid:secret") -> the device and its real keys. */
  cancels: Map<string, CancelTarget>;
  live: Set<Socket>;
  relays: Map<Relay, Promise<void>>;
  forwardCancel(pid: number, secret: number): void;
}

export async function handleClient(g: PgState, sock: Socket): Promise<void> {
  const addr = sock.remoteAddress ?? 'unknown';
  g.live.add(sock);
  sock.setNoDelay(true);
  sock.on('error', () => {});
  sock.once('close', () => g.live.delete(sock));
  let io: FrameIO | null = null;
  try {
    const start = await clientStart(sock, g.tls, g.s.config.db.tlsRequired);
    if (!start) return;
    if (start.kind === 'cancel') {
      sock.destroy();
      return g.forwardCancel(start.pid, start.secret);
    }
    io = start.io;
    await session(g, io, start.params, addr);
  } catch (err) {
    // A hostile or broken client ends its own connection only.
    if (!(err instanceof ProtocolError)) g.s.log.warn({ err: String(err), addr }, 'postgres connection failed');
    if (io && !io.sock.destroyed)
      io.sock.end(errorResponse('08P01', `Gatehouse: ${printable(String((err as Error).message ?? err), 200)}`));
    else sock.destroy();
  }
}

async function session(g: PgState, io: FrameIO, params: Map<string, string>, addr: string): Promise<void> {
  const { s } = g;
  const raw = params.get('user') ?? '';
  params.delete('user');
  const reason = takeReason(params);
  const t = parseTarget(raw, PG_SYNTAX);
  const login = await pgLogin(s, io, t, addr);
  if (!login.ok) {
    await auditLogin(s, raw, null, `db.login.${login.audit}`, addr);
    return void io.sock.end(errorResponse('28P01', login.message ? `Gatehouse: ${login.message}` : NO_ACCESS_TEXT(raw)));
  }
  const user = login.user;
  await auditLogin(s, raw, user, 'db.login', addr);
  if (!t.device || t.error) return void io.sock.end(errorResponse('28000', `Gatehouse: ${t.error ?? `no device named: ${PG_SYNTAX}`}`));
  // Denied targets get the wrong password's answer, before AuthenticationOk: nothing tells them apart.
  const first = await s.approvals.decide(user.username, t.device, 'postgres', t.account ?? undefined).catch(() => null);
  if (!first || first.outcome === 'denied') return void io.sock.end(errorResponse('28P01', NO_ACCESS_TEXT(raw)));
  io.sock.write(authRequest(0));
  const abort = new AbortController();
  const onGone = () => abort.abort();
  io.sock.once('close', onGone);
  let out: Awaited<ReturnType<typeof pgAccess>>;
  try {
    out = await pgAccess(
      s,
      { user, device: t.device, account: t.account, reason, clientAddr: addr },
      (text) => io.sock.write(noticeResponse(text)),
      abort.signal,
    );
  } finally {
    io.sock.off('close', onGone);
  }
  if (out.kind === 'refused') return void io.sock.end(errorResponse(out.reason === 'denied' ? '28P01' : '28000', refusalText(out, raw)));
  if (out.waited) io.sock.write(noticeResponse(`Gatehouse: request #${out.approvalId} approved; connecting to ${t.device}.`));
  await connectAndRelay(g, io, params, user, t.device, out, addr);
}

async function connectAndRelay(
  g: PgState,
  io: FrameIO,
  params: Map<string, string>,
  user: User,
  deviceName: string,
  access: Granted,
  addr: string,
): Promise<void> {
  const { s } = g;
  const p = await s.policy.current();
  const device = p.devicesByName.get(deviceName);
  const account = (p.accountsOfDevice.get(access.deviceId) ?? []).find((a) => a.id === access.accountId);
  if (!device || !account) return void io.sock.end(errorResponse('28000', NO_ACCESS_TEXT(user.username)));
  const secret = await s.admin.accountSecret(account.id);
  if (secret.kind !== 'password')
    return void io.sock.end(
      errorResponse('28000', `Gatehouse: account ${account.name} on ${device.name} holds a key, not a database password`),
    );
  if (!params.has('database')) params.set('database', account.name);
  const port = device.ports.postgres ?? 5432;
  let up: UpstreamReady;
  try {
    up = await connectUpstream({
      host: device.host,
      port,
      user: account.name,
      password: secret.secret,
      params,
      tls: await deviceTls(s, device.name),
    });
  } catch (err) {
    const why = err instanceof UpstreamError ? err.message : 'unexpected error';
    s.log.warn({ device: device.name, account: account.name, err: why }, 'postgres device login failed');
    return void io.sock.end(errorResponse('08006', `Gatehouse could not open ${device.name} as ${account.name}: ${why}`));
  }
  if (io.sock.destroyed) return void up.sock.destroy();
  await startRelay(g, io, up, { user, device, account, access, addr, port });
}

interface Ends {
  user: User;
  device: Device;
  account: Account;
  access: Granted;
  addr: string;
  port: number;
}

/** Hands the client the device's parameters and gateway cancel keys, then relays under a live session. */
async function startRelay(g: PgState, io: FrameIO, up: UpstreamReady, e: Ends): Promise<void> {
  const { s } = g;
  const { user, device, account, access, addr, port } = e;
  const keys = { pid: randomInt(1, 2 ** 31 - 1), secret: randomInt(0, 2 ** 31 - 1) };
  const keyId = `${keys.pid}:${keys.secret}`;
  g.cancels.set(keyId, { host: device.host, port, pid: up.pid, secret: up.secret });
  io.sock.write(Buffer.concat([...up.parameterStatus, backendKeyData(keys.pid, keys.secret), readyForQuery('I')]));
  io.detach();
  const params$ = await s.params.params();
  let r: Relay | null = null;
  let early: string | null = null;
  const sessionId = await s.sessions.open(
    {
      userId: user.id,
      deviceId: device.id,
      accountId: account.id,
      protocol: 'postgres',
      approvalId: access.approvalId,
      clientAddr: addr,
      nodeId: s.nodeId,
    },
    { close: (why) => (r ? r.close(why) : (early = why)), bytes: () => r?.bytes() ?? { in: 0, out: 0 } },
    access.grantEnd,
  );
  const audit = new PgAudit({
    base: { sessionId, user: user.username, device: device.name, account: account.name, protocol: 'postgres' },
    recordParameters: params$.bool('recording.db.parameters'),
    push: (rec) => g.writer.push(rec),
    now: () => s.clock.now(),
  });
  r = relay({
    client: io.sock,
    upstream: up.sock,
    toUpstream: new MessageScanner(CLIENT_AUDITED, audit.fromClient),
    toClient: new MessageScanner(SERVER_AUDITED, audit.fromServer),
    pending: Buffer.concat([io.frames.rest(), up.rest]),
  });
  if (early) r.close(early);
  const rr = r;
  const done = rr.finished
    .then(async (why) => {
      audit.flush();
      g.cancels.delete(keyId);
      await s.sessions.closed(sessionId, why);
    })
    .catch((err: unknown) => s.log.warn({ err: String(err) }, 'postgres session bookkeeping failed'))
    .finally(() => g.relays.delete(rr));
  g.relays.set(rr, done);
}

/** The device's TLS mode: its `postgresTls` option (prefer, require, off, sha256:<fingerprint>), default prefer. */
async function deviceTls(s: Services, device: string): Promise<UpstreamTls> {
  const raw = await s.deviceOptions.byName(device);
  const v = raw ? (JSON.parse(raw) as { postgresTls?: unknown }).postgresTls : undefined;
  if (v === undefined) return 'prefer';
  // A mistyped mode or pin refuses the device rather than falling back to a weaker check.
  if (typeof v !== 'string' || !/^(prefer|require|off|sha256:[0-9a-fA-F:]{64,95})$/.test(v))
    throw new UpstreamError(`the device's postgresTls option is not prefer, require, off or sha256:<fingerprint>`);
  return v as UpstreamTls;
}

async function auditLogin(s: Services, raw: string, user: User | null, action: string, addr: string): Promise<void> {
  await s
    .audit({
      actor: user?.username ?? (printable(raw, 64) || '-'),
      actorId: user?.id,
      channel: 'db',
      action,
      targetType: 'user',
      targetId: user?.id,
      details: { clientAddr: addr, protocol: 'postgres', target: printable(raw, 200) },
    })
    .catch((err: unknown) => s.log.warn({ err: String(err) }, 'postgres login audit failed'));
}

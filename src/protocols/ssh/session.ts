// One session channel through the gateway, step by step: the gate (decide, wait for approval), the
// upstream login and channel, the relay with its session row and recording, and the session's end.
import type { Account, Device, Protocol } from '../../core/types.js';
import type { SessionHandle } from '../../core/sessions.js';
import { Recordings } from '../../recording/service.js';
import type { ClientChannel, ServerChannel, Client as SshClient, PseudoTtyInfo } from 'ssh2';
import type { ChannelState, ConnectionContext, Kind } from './channel.js';
import { obtainAccess, NO_ACCESS_MESSAGE, type Access } from './gate.js';
import { relay, watchExit, type Counters, type ExitInfo } from './relay.js';
import { SftpAudit } from './sftp-audit.js';
import { printable } from './target.js';
import { capitalise, finish, say } from './terminal.js';
import { connectUpstream, UpstreamError } from './upstream.js';
import type { Lease } from './upstream-pool.js';
import { StderrWaitView, TerminalWaitView } from './waitview.js';

export interface SessionRequest {
  ch: ServerChannel;
  st: ChannelState;
  kind: Kind;
  device: string;
  account: string | null;
  /** The menu's sessions: the client channel stays open afterwards. */
  keepOpen: boolean;
  /** A reason typed in the menu (else the login's, else GATEHOUSE_REASON). */
  reason?: string | null;
}

/** Tells the user why the session cannot start (and ends the channel unless the menu keeps it). */
type Refuse = (message: string, code: number) => false;

interface Admitted {
  access: Access;
  dev: Device;
  acc: Account;
  protocol: Protocol;
  pty: boolean;
}

interface Upstream {
  lease: Lease;
  ch: ClientChannel;
  exit: ExitInfo | undefined;
}

/** Gate, upstream and relay for one channel. Returns false when the session could not start (the user was told why). */
export async function proxySession(c: ConnectionContext, req: SessionRequest): Promise<boolean> {
  const pty = req.st.pty !== null && req.kind.kind !== 'sftp';
  const refuse: Refuse = (message, code) => {
    say(req.ch, pty, message);
    if (!req.keepOpen) finish(req.ch, code);
    return false;
  };
  const admitted = await passGate(c, req, pty, refuse);
  if (!admitted) return false;
  const up = await openUpstream(c, req, admitted, refuse);
  if (!up) return false;
  await relaySession(c, req, admitted, up);
  return true;
}

/** The gate: access now, after a wait for approval, or a refusal the user reads. */
async function passGate(c: ConnectionContext, req: SessionRequest, pty: boolean, refuse: Refuse): Promise<Admitted | false> {
  const { ch, st } = req;
  const protocol: Protocol = req.kind.kind === 'sftp' ? 'sftp' : 'ssh';
  const view = pty ? new TerminalWaitView(ch, () => c.s.clock.now()) : new StderrWaitView(ch, () => c.s.clock.now());
  const abort = new AbortController();
  const onGone = () => abort.abort();
  ch.once('close', onGone);
  c.signal.addEventListener('abort', onGone);
  let res;
  try {
    const q = {
      user: c.login.user,
      device: req.device,
      account: req.account,
      protocol,
      reason: req.reason ?? c.login.reason ?? st.reason,
      clientAddr: c.clientAddr,
    };
    res = await obtainAccess(c.s, q, view, abort.signal);
  } finally {
    ch.removeListener('close', onGone);
    c.signal.removeEventListener('abort', onGone);
  }
  if (!res.ok) {
    if (!abort.signal.aborted) return refuse(res.message, res.exitCode);
    // The gateway is stopping (the client itself is gone otherwise): say so; the request keeps waiting.
    if (!c.clientGone && c.endReason)
      return refuse(`${capitalise(c.endReason)}. Your request keeps waiting; connect again in a moment.`, 1);
    return false;
  }
  if (c.closed || !ch.writable) return false;
  const access = res;
  const p = await c.s.policy.current();
  const dev = p.devicesById.get(access.deviceId);
  const acc = (p.accountsOfDevice.get(access.deviceId) ?? []).find((a) => a.id === access.accountId);
  if (!dev || !acc) return refuse(NO_ACCESS_MESSAGE(req.device), 1);
  if (access.waited) say(ch, pty, `Request #${access.approvalId} approved. Connecting to ${dev.name} as ${acc.name}…`);
  return { access, dev, acc, protocol, pty };
}

/**
 * The device's side: a (possibly shared) upstream connection and a channel on it. A shared connection
 * whose device refuses one more channel (its MaxSessions) is marked full, and this session gets its own.
 */
async function openUpstream(c: ConnectionContext, req: SessionRequest, t: Admitted, refuse: Refuse): Promise<Upstream | false> {
  const { ch, st, kind } = req;
  const per = (await c.s.params.params()).int('ssh.upstream.sessions.per.connection');
  const key = `${c.login.user.id}/${t.dev.id}/${t.acc.id}/${t.protocol}/${t.access.approvalId ?? 'standing'}`;
  const port = t.dev.ports[t.protocol] ?? t.dev.ports.ssh ?? 22;
  for (let attempt = 0; attempt < 2; attempt++) {
    let lease: Lease;
    try {
      lease = await c.pool.acquire(key, attempt === 0 ? per : 1, () => connectUpstream(c.s, t.dev, t.acc, c.login.user, port));
    } catch (err) {
      if (err instanceof UpstreamError) return refuse(err.message, 1);
      throw err;
    }
    c.leases.add(lease);
    if (c.closed || !ch.writable) {
      c.leases.delete(lease);
      lease.release();
      return false;
    }
    try {
      const opened = await openUpstreamChannel(lease.client, kind, st.pty && kind.kind !== 'sftp' ? st.pty : null, st.env);
      return { lease, ch: opened.ch, exit: opened.exit };
    } catch (err) {
      c.leases.delete(lease);
      if (lease.shared && attempt === 0) {
        lease.full();
        lease.release();
        continue;
      }
      lease.release();
      return refuse(
        `${t.dev.name} refused to start the ${kind.kind === 'sftp' ? 'sftp subsystem' : kind.kind}: ${printable(String((err as Error).message ?? err))}.`,
        1,
      );
    }
  }
  return refuse(`${t.dev.name} refused to start the ${kind.kind}.`, 1);
}

/** The relay, its session row, audit and recording, until either side ends; then the bookkeeping. */
async function relaySession(c: ConnectionContext, req: SessionRequest, t: Admitted, up: Upstream): Promise<void> {
  const { ch, st, kind } = req;
  const user = c.login.user;
  st.up = up.ch;
  const counters: Counters = { in: 0, out: 0 };
  let sessionId = 0;
  const audit = kind.kind === 'sftp' ? sftpAudit(c, () => sessionId, t) : null;
  // Terminal sessions are recorded (asciicast); the recorder starts once the session row exists.
  const early = kind.kind !== 'sftp' && st.pty !== null ? new EarlyBytes(st) : null;
  const r = relay(ch, up.ch, {
    counters,
    exit: up.exit,
    keepClientOpen: req.keepOpen,
    observeIn: audit ? (b) => audit.fromClient.push(b) : early ? (b) => early.add(true, b) : undefined,
    observeOut: audit ? (b) => audit.fromServer.push(b) : early ? (b) => early.add(false, b) : undefined,
  });
  let stopReason: string | null = null;
  const handle: SessionHandle = {
    close: (why) => {
      if (stopReason) return;
      stopReason = why;
      say(ch, t.pty, `${capitalise(why)}. The session is closed.`);
      r.stop();
    },
    bytes: () => ({ in: counters.in, out: counters.out }),
  };
  c.stops.add(handle.close);
  sessionId = await c.s.sessions.open(
    {
      userId: user.id,
      deviceId: t.dev.id,
      accountId: t.acc.id,
      protocol: t.protocol,
      approvalId: t.access.approvalId,
      clientAddr: c.clientAddr,
      nodeId: c.s.nodeId,
    },
    handle,
    t.access.grantEnd,
  );
  if (early && st.pty) await startRecording(c, st, st.pty, sessionId, t, handle);
  early?.done();
  if (kind.kind === 'exec')
    void c.s
      .audit({
        actor: user.username,
        actorId: user.id,
        channel: 'ssh',
        action: 'ssh.exec',
        targetType: 'device',
        targetId: t.dev.id,
        details: { device: t.dev.name, account: t.acc.name, session: sessionId, command: printable(kind.command, 2000) },
      })
      .catch(() => {});
  // The grant may have ended between the approval and now (revoked at once): check once more.
  if (t.access.approvalId !== null) {
    const again = await c.s.approvals.decide(user.username, t.dev.name, t.protocol, t.acc.name);
    if (again.outcome !== 'allowed') handle.close('access ended: the approval is no longer valid');
  }
  const exit = await r.done;
  c.stops.delete(handle.close);
  st.up = null;
  await st.rec?.close();
  st.rec = null;
  audit?.flush();
  c.leases.delete(up.lease);
  up.lease.release();
  await c.s.sessions.closed(sessionId, stopReason ?? (c.closed || exit.clientLeft ? 'client disconnected' : 'ended'));
}

/**
 * What flows before the recorder has started (the device's first prompt often does) is kept and written
 * into the recording once it starts, so the recording begins with the session's first byte.
 */
class EarlyBytes {
  private kept: { input: boolean; b: Buffer }[] | null = [];
  private size = 0;
  constructor(private readonly st: ChannelState) {}

  add(input: boolean, b: Buffer): void {
    const rec = this.st.rec;
    if (rec) return input ? rec.input(b) : rec.output(b);
    if (this.kept && this.size < 1 << 20) {
      this.kept.push({ input, b });
      this.size += b.length;
    }
  }

  /** Hands what was kept to the recorder (if one started); later bytes go straight to it. */
  done(): void {
    const rec = this.st.rec;
    if (rec)
      for (const e of this.kept ?? []) {
        if (e.input) rec.input(e.b);
        else rec.output(e.b);
      }
    this.kept = null;
  }
}

async function startRecording(
  c: ConnectionContext,
  st: ChannelState,
  pty: PseudoTtyInfo,
  sessionId: number,
  t: Admitted,
  handle: SessionHandle,
): Promise<void> {
  st.rec = await new Recordings(c.s)
    .start({
      sessionId,
      username: c.login.user.username,
      device: t.dev.name,
      account: t.acc.name,
      cols: pty.cols,
      rows: pty.rows,
      term: pty.term ?? 'xterm',
      terminate: (why) => handle.close(why),
    })
    .catch((err) => {
      c.s.log.error({ session: sessionId, err: String(err) }, 'recording could not start');
      return null;
    });
}

function sftpAudit(c: ConnectionContext, sessionId: () => number, t: Admitted): SftpAudit {
  const user = c.login.user;
  return new SftpAudit((op, result) => {
    void c.s
      .audit({
        actor: user.username,
        actorId: user.id,
        channel: 'ssh',
        action: op.action,
        targetType: 'device',
        targetId: t.dev.id,
        details: { device: t.dev.name, account: t.acc.name, session: sessionId(), path: op.path, ...op.details, result },
      })
      .catch((err) => c.s.log.warn({ err: String(err) }, 'sftp audit write failed'));
  });
}

function openUpstreamChannel(
  up: SshClient,
  kind: Kind,
  pty: PseudoTtyInfo | null,
  env: Record<string, string>,
): Promise<{ ch: ClientChannel; exit: ExitInfo }> {
  return new Promise((resolve, reject) => {
    // watchExit here, synchronously: see relay.ts.
    const cb = (err: Error | undefined, ch: ClientChannel) => (err ? reject(err) : resolve({ ch, exit: watchExit(ch) }));
    const win = pty ? { term: pty.term, rows: pty.rows, cols: pty.cols, width: pty.width, height: pty.height, modes: pty.modes } : false;
    if (kind.kind === 'shell') up.shell(win as never, { env }, cb);
    else if (kind.kind === 'exec') up.exec(kind.command, { env, pty: win || undefined }, cb);
    else up.subsys('sftp', cb);
  });
}

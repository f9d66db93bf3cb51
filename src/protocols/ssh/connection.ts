// One client connection to the gateway: login, then each session channel — target, the gate (decide,
// wait for approval), the upstream login, the relay — and local port forwarding when the rule allows it.
import { Recordings } from '../../recording/service.js';
import type { AsciicastRecorder } from '../../recording/asciicast.js';
import type { Client as SshClient, ClientChannel, Connection, PseudoTtyInfo, ServerChannel, Session, TcpipRequestInfo } from 'ssh2';
import type { Protocol, User } from '../../core/types.js';
import type { SessionHandle } from '../../core/sessions.js';
import type { Services } from '../../services.js';
import { obtainAccess, NO_ACCESS_MESSAGE, type Access } from './gate.js';
import type { Login } from './login.js';
import { runMenu } from './menu.js';
import { relay, watchExit, type Counters, type ExitInfo } from './relay.js';
import { SftpAudit } from './sftp-audit.js';
import { printable, TARGET_SYNTAX } from './target.js';
import { capitalise, finish, say } from './terminal.js';
import { connectUpstream, UpstreamError } from './upstream.js';
import { UpstreamPool, type Lease } from './upstream-pool.js';
import { StderrWaitView, TerminalWaitView } from './waitview.js';

/** Client environment passed on to the device (it applies its own AcceptEnv too). */
const ENV_ALLOWED = /^(LANG|LC_[A-Z]+|TZ|GIT_PROTOCOL|COLORTERM)$/;
export const REASON_ENV = 'GATEHOUSE_REASON';
/** Environment variables one session may pass on to the device: each is held in memory until then. */
const MAX_ENV_VARS = 64;

export type Kind = { kind: 'shell' } | { kind: 'exec'; command: string } | { kind: 'sftp' };

export interface ChannelState {
  pty: PseudoTtyInfo | null;
  env: Record<string, string>;
  reason: string | null;
  /** The device's side of this channel, once relaying (window changes and signals go there). */
  up: ClientChannel | null;
  /** The recording of this channel (a PTY shell or command), once relaying. */
  rec?: AsciicastRecorder | null;
}

export class ProxyConnection {
  private readonly abort = new AbortController();
  /** Live relays: stopped when the client goes or the gateway shuts down. */
  private readonly stops = new Set<(reason: string) => void>();
  /** Upstream connections of this client connection's sessions (possibly shared) and its forwarding. */
  private readonly leases = new Set<Lease>();
  private readonly upstreams = new Set<SshClient>();
  private readonly settled = new Set<Promise<unknown>>();
  private forwarding: Promise<Forwarding> | null = null;
  closed = false;
  private connClosed = false;
  private endReason: string | null = null;

  constructor(
    private readonly s: Services,
    private readonly conn: Connection,
    readonly clientAddr: string,
    private readonly login: Login,
    private readonly pool: UpstreamPool = new UpstreamPool(),
  ) {
    conn.on('authentication', (ctx) => login.handle(ctx));
    conn.on('ready', () => {
      conn.on('session', (accept) => this.session(accept()));
      conn.on('tcpip', (accept, reject, info) => this.tcpip(accept, reject, info));
    });
    conn.on('error', (err) => s.log.debug({ err: String(err), addr: clientAddr }, 'ssh client connection error'));
    conn.on('close', () => {
      this.connClosed = true;
      this.gone('client disconnected');
    });
  }

  get user() {
    return this.login.result!.user;
  }

  /** Ends everything of this connection; resolves when its session rows are closed. */
  async shutdown(reason: string): Promise<void> {
    this.gone(reason);
    // The channels got the message and ended; OpenSSH drops what it has not printed when the connection
    // is cut, so give the client a moment to leave by itself.
    if (!this.connClosed)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1000);
        this.conn.once('close', () => {
          clearTimeout(t);
          resolve();
        });
      });
    this.conn.end();
    await Promise.allSettled([...this.settled]);
  }

  private gone(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.endReason = reason;
    this.abort.abort();
    for (const stop of [...this.stops]) stop(reason);
    for (const up of this.upstreams) up.end();
    for (const l of this.leases) l.release();
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.settled.add(p);
    void p.finally(() => this.settled.delete(p)).catch(() => {});
    return p;
  }

  private session(sess: Session): void {
    const st: ChannelState = { pty: null, env: {}, reason: null, up: null };
    sess.on('pty', (accept, _reject, info) => {
      st.pty = info;
      accept?.();
    });
    sess.on('window-change', (accept, _reject, info) => {
      if (st.pty) Object.assign(st.pty, { cols: info.cols, rows: info.rows, width: info.width, height: info.height });
      st.up?.setWindow(info.rows, info.cols, info.height, info.width);
      st.rec?.resize(info.cols, info.rows);
      accept?.();
    });
    sess.on('env', (accept, reject, info) => {
      if (info.key === REASON_ENV) {
        st.reason = String(info.val).slice(0, 1000);
        accept?.();
      } else if (ENV_ALLOWED.test(info.key) && String(info.val).length <= 4096 && Object.keys(st.env).length < MAX_ENV_VARS) {
        st.env[info.key] = String(info.val);
        accept?.();
      } else reject?.();
    });
    sess.on('signal', (accept, _reject, info) => {
      st.up?.signal(info.name);
      accept?.();
    });
    // Agent and X11 forwarding are refused: the device must never reach back into the user's machine.
    sess.on('auth-agent', (_accept, reject) => reject?.());
    sess.on('x11', (_accept, reject) => reject?.());
    sess.on('shell', (accept) => this.run(accept(), st, { kind: 'shell' }));
    sess.on('exec', (accept, _reject, info) => this.run(accept(), st, { kind: 'exec', command: info.command }));
    sess.on('subsystem', (accept, reject, info) => {
      if (info.name !== 'sftp') return reject();
      this.run(accept(), st, { kind: 'sftp' });
    });
  }

  private run(ch: ServerChannel, st: ChannelState, kind: Kind): void {
    ch.on('error', () => {});
    const pty = st.pty !== null && kind.kind !== 'sftp';
    const t = this.login.result!.target;
    const work = async () => {
      if (t.error) {
        say(ch, pty, `${t.error}.`);
        return finish(ch, 1);
      }
      if (!t.device) {
        if (kind.kind === 'shell' && pty) return runMenu(this.s, this, ch, st);
        say(ch, pty, `Name the device to reach: ${TARGET_SYNTAX}. (The device menu needs a terminal: ssh -t.)`);
        return finish(ch, 1);
      }
      await this.proxy(ch, st, kind, t.device, t.account, false);
    };
    void this.track(work()).catch((err) => {
      this.s.log.error({ err: String(err), stack: (err as Error)?.stack }, 'ssh session failed');
      say(ch, pty, 'Gatehouse hit an internal error; the session ends. An administrator can find it in the log.');
      finish(ch, 1);
    });
  }

  /**
   * Gate, upstream and relay for one channel. Returns false when the session could not start (the user
   * was told why). With `keepOpen` (the menu) the client channel stays open afterwards.
   */
  async proxy(ch: ServerChannel, st: ChannelState, kind: Kind, device: string, account: string | null, keepOpen: boolean, reason?: string | null): Promise<boolean> {
    const pty = st.pty !== null && kind.kind !== 'sftp';
    const protocol: Protocol = kind.kind === 'sftp' ? 'sftp' : 'ssh';
    const login = this.login.result!;
    const refuse = (message: string, code: number) => {
      say(ch, pty, message);
      if (!keepOpen) finish(ch, code);
      return false;
    };

    const view = pty ? new TerminalWaitView(ch, () => this.s.clock.now()) : new StderrWaitView(ch, () => this.s.clock.now());
    const abort = new AbortController();
    const onGone = () => abort.abort();
    ch.once('close', onGone);
    this.abort.signal.addEventListener('abort', onGone);
    let access: Access;
    try {
      const res = await obtainAccess(
        this.s,
        { user: login.user, device, account, protocol, reason: reason ?? login.reason ?? st.reason, clientAddr: this.clientAddr },
        view,
        abort.signal,
      );
      if (!res.ok) {
        if (!abort.signal.aborted) return refuse(res.message, res.exitCode);
        // The gateway is stopping (the client itself is gone otherwise): say so; the request keeps waiting.
        if (!this.connClosed && this.endReason) return refuse(`${capitalise(this.endReason)}. Your request keeps waiting; connect again in a moment.`, 1);
        return false;
      }
      access = res;
    } finally {
      ch.removeListener('close', onGone);
      this.abort.signal.removeEventListener('abort', onGone);
    }
    if (this.closed || !ch.writable) return false;

    const p = await this.s.policy.current();
    const dev = p.devicesById.get(access.deviceId);
    const acc = (p.accountsOfDevice.get(access.deviceId) ?? []).find((a) => a.id === access.accountId);
    if (!dev || !acc) return refuse(NO_ACCESS_MESSAGE(device), 1);
    if (access.waited) say(ch, pty, `Request #${access.approvalId} approved. Connecting to ${dev.name} as ${acc.name}…`);

    const per = (await this.s.params.params()).int('ssh.upstream.sessions.per.connection');
    const key = `${login.user.id}/${dev.id}/${acc.id}/${protocol}/${access.approvalId ?? 'standing'}`;
    const port = dev.ports[protocol] ?? dev.ports.ssh ?? 22;
    let lease: Lease | null = null;
    let upCh: ClientChannel | null = null;
    let upExit: ExitInfo | undefined;
    // A shared connection whose device refuses one more channel (its MaxSessions) is marked full, and
    // this session gets a connection of its own.
    for (let attempt = 0; attempt < 2 && !upCh; attempt++) {
      try {
        lease = await this.pool.acquire(key, attempt === 0 ? per : 1, () => connectUpstream(this.s, dev, acc, login.user, port));
      } catch (err) {
        if (err instanceof UpstreamError) return refuse(err.message, 1);
        throw err;
      }
      this.leases.add(lease);
      if (this.closed || !ch.writable) {
        this.leases.delete(lease);
        lease.release();
        return false;
      }
      try {
        ({ ch: upCh, exit: upExit } = await openUpstreamChannel(lease.client, kind, st.pty && kind.kind !== 'sftp' ? st.pty : null, st.env));
      } catch (err) {
        this.leases.delete(lease);
        if (lease.shared && attempt === 0) {
          lease.full();
          lease.release();
          continue;
        }
        lease.release();
        return refuse(`${dev.name} refused to start the ${kind.kind === 'sftp' ? 'sftp subsystem' : kind.kind}: ${printable(String((err as Error).message ?? err))}.`, 1);
      }
    }
    if (!lease || !upCh) return refuse(`${dev.name} refused to start the ${kind.kind}.`, 1);
    st.up = upCh;

    const counters: Counters = { in: 0, out: 0 };
    let sessionId = 0;
    const audit = kind.kind === 'sftp' ? this.sftpAudit(() => sessionId, login.user, dev.id, dev.name, acc.name) : null;
    // Terminal sessions are recorded (asciicast); the recorder starts once the session row exists.
    const recordable = kind.kind !== 'sftp' && st.pty !== null;
    // What flows before the recorder has started (the device's first prompt often does) is kept and
    // written into the recording once it starts, so the recording begins with the session's first byte.
    let early: { input: boolean; b: Buffer }[] | null = recordable ? [] : null;
    let earlyBytes = 0;
    const toRecording = (input: boolean, b: Buffer) => {
      if (st.rec) return input ? st.rec.input(b) : st.rec.output(b);
      if (early && earlyBytes < 1 << 20) {
        early.push({ input, b });
        earlyBytes += b.length;
      }
    };
    const r = relay(ch, upCh, {
      counters,
      exit: upExit,
      keepClientOpen: keepOpen,
      observeIn: audit ? (b) => audit.fromClient.push(b) : recordable ? (b) => toRecording(true, b) : undefined,
      observeOut: audit ? (b) => audit.fromServer.push(b) : recordable ? (b) => toRecording(false, b) : undefined,
    });
    let stopReason: string | null = null;
    const handle: SessionHandle = {
      close: (why) => {
        if (stopReason) return;
        stopReason = why;
        say(ch, pty, `${capitalise(why)}. The session is closed.`);
        r.stop();
      },
      bytes: () => ({ in: counters.in, out: counters.out }),
    };
    this.stops.add(handle.close);
    sessionId = await this.s.sessions.open(
      { userId: login.user.id, deviceId: dev.id, accountId: acc.id, protocol, approvalId: access.approvalId, clientAddr: this.clientAddr, nodeId: this.s.nodeId },
      handle,
      access.grantEnd,
    );
    if (recordable && st.pty) {
      const pty = st.pty;
      st.rec = await new Recordings(this.s)
        .start({ sessionId, username: login.user.username, device: dev.name, account: acc.name, cols: pty.cols, rows: pty.rows, term: pty.term ?? 'xterm', terminate: (why) => handle.close(why) })
        .catch((err) => {
          this.s.log.error({ session: sessionId, err: String(err) }, 'recording could not start');
          return null;
        });
      const rec = st.rec;
      if (rec) for (const e of early ?? []) {
        if (e.input) rec.input(e.b);
        else rec.output(e.b);
      }
    }
    early = null;
    if (kind.kind === 'exec')
      void this.s.audit({ actor: login.user.username, actorId: login.user.id, channel: 'ssh', action: 'ssh.exec', targetType: 'device', targetId: dev.id, details: { device: dev.name, account: acc.name, session: sessionId, command: printable(kind.command, 2000) } }).catch(() => {});
    // The grant may have ended between the approval and now (revoked at once): check once more.
    if (access.approvalId !== null) {
      const again = await this.s.approvals.decide(login.user.username, dev.name, protocol, acc.name);
      if (again.outcome !== 'allowed') handle.close('access ended: the approval is no longer valid');
    }
    const exit = await r.done;
    this.stops.delete(handle.close);
    st.up = null;
    await st.rec?.close();
    st.rec = null;
    audit?.flush();
    this.leases.delete(lease);
    lease.release();
    await this.s.sessions.closed(sessionId, stopReason ?? (this.closed || exit.clientLeft ? 'client disconnected' : 'ended'));
    return true;
  }

  private sftpAudit(sessionId: () => number, user: { id: number; username: string }, deviceId: number, device: string, account: string): SftpAudit {
    return new SftpAudit((op, result) => {
      void this.s
        .audit({ actor: user.username, actorId: user.id, channel: 'ssh', action: op.action, targetType: 'device', targetId: deviceId, details: { device, account, session: sessionId(), path: op.path, ...op.details, result } })
        .catch((err) => this.s.log.warn({ err: String(err) }, 'sftp audit write failed'));
    });
  }

  /** Local port forwarding (ssh -L): only with a valid access whose rule allows it; never while waiting. */
  private tcpip(accept: () => ServerChannel, reject: () => void, info: TcpipRequestInfo): void {
    const login = this.login.result;
    const t = login?.target;
    void (async () => {
      if (!login || !t?.device || t.error) return reject();
      const to = `${printable(info.destIP, 255)}:${info.destPort}`;
      const who = { actor: login.user.username, actorId: login.user.id, channel: 'ssh' as const, targetType: 'device' };
      const d = await this.s.approvals.decide(login.user.username, t.device, 'ssh', t.account ?? undefined);
      if (d.outcome !== 'allowed' || !d.allowPortForwarding) {
        const why = d.outcome === 'allowed' ? 'the access rule does not allow port forwarding' : 'no valid access to the device';
        await this.s.audit({ ...who, action: 'ssh.forward.refused', details: { device: t.device, to, why } });
        return reject();
      }
      const fw = await this.openForwarding(login.user, t.device, d.accountId, d.grantId ?? null);
      if (!fw.audited.has(to)) {
        fw.audited.add(to);
        void this.s.audit({ ...who, targetId: fw.deviceId, action: 'ssh.forward', details: { device: t.device, to, session: fw.sessionId } }).catch(() => {});
      }
      fw.up.forwardOut(info.srcIP, info.srcPort, info.destIP, info.destPort, (err, upCh) => {
        if (err || this.closed) return reject();
        const ch = accept();
        fw.channels.add(ch);
        ch.on('data', (b: Buffer) => (fw.counters.in += b.length));
        upCh.on('data', (b: Buffer) => (fw.counters.out += b.length));
        ch.on('error', () => {});
        upCh.on('error', () => {});
        ch.pipe(upCh).pipe(ch);
        ch.on('close', () => {
          fw.channels.delete(ch);
          upCh.close();
        });
        upCh.on('close', () => ch.close());
      });
    })().catch(() => reject());
  }

  /** The forwarding of this connection: one upstream connection and one session row for all its channels. */
  private openForwarding(user: User, device: string, accountId: number, approvalId: number | null): Promise<Forwarding> {
    this.forwarding ??= (async () => {
      const p = await this.s.policy.current();
      const dev = p.devicesByName.get(device)!;
      const acc = (p.accountsOfDevice.get(dev.id) ?? []).find((a) => a.id === accountId)!;
      const up = await connectUpstream(this.s, dev, acc, user, dev.ports.ssh ?? 22);
      this.upstreams.add(up);
      const fw: Forwarding = { up, deviceId: dev.id, sessionId: 0, channels: new Set(), counters: { in: 0, out: 0 }, audited: new Set() };
      const handle: SessionHandle = {
        close: () => {
          for (const ch of fw.channels) ch.close();
          up.end();
        },
        bytes: () => ({ ...fw.counters }),
      };
      const grantEnd = approvalId !== null ? (this.s.grants.window(approvalId)?.end ?? null) : null;
      fw.sessionId = await this.s.sessions.open({ userId: user.id, deviceId: dev.id, accountId, protocol: 'ssh', approvalId, clientAddr: this.clientAddr, nodeId: this.s.nodeId }, handle, grantEnd);
      this.stops.add((why) => {
        handle.close(why);
        void this.track(this.s.sessions.closed(fw.sessionId, why));
      });
      return fw;
    })();
    return this.forwarding;
  }
}

interface Forwarding {
  up: SshClient;
  deviceId: number;
  sessionId: number;
  channels: Set<ServerChannel>;
  counters: Counters;
  /** Destinations already audited on this connection (once each, not per channel). */
  audited: Set<string>;
}

function openUpstreamChannel(up: SshClient, kind: Kind, pty: PseudoTtyInfo | null, env: Record<string, string>): Promise<{ ch: ClientChannel; exit: ExitInfo }> {
  return new Promise((resolve, reject) => {
    // watchExit here, synchronously: see relay.ts.
    const cb = (err: Error | undefined, ch: ClientChannel) => (err ? reject(err) : resolve({ ch, exit: watchExit(ch) }));
    const win = pty ? { term: pty.term, rows: pty.rows, cols: pty.cols, width: pty.width, height: pty.height, modes: pty.modes } : false;
    if (kind.kind === 'shell') up.shell(win as never, { env }, cb);
    else if (kind.kind === 'exec') up.exec(kind.command, { env, pty: win || undefined }, cb);
    else up.subsys('sftp', cb);
  });
}

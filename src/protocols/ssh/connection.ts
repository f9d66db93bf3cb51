// One client connection to the gateway: login, then each session channel (target, gate, upstream,
// relay: session.ts), the device menu, and local port forwarding (forwarding.ts).
import type { Client as SshClient, Connection, ServerChannel, Session } from 'ssh2';
import type { Services } from '../../services.js';
import type { ChannelState, ConnectionContext, Kind } from './channel.js';
import { Forwarder } from './forwarding.js';
import type { Login, LoginResult } from './login.js';
import { runMenu } from './menu.js';
import { proxySession } from './session.js';
import { TARGET_SYNTAX } from './target.js';
import { finish, say } from './terminal.js';
import { UpstreamPool, type Lease } from './upstream-pool.js';

export type { ChannelState, Kind } from './channel.js';

/** Client environment passed on to the device (it applies its own AcceptEnv too). */
const ENV_ALLOWED = /^(LANG|LC_[A-Z]+|TZ|GIT_PROTOCOL|COLORTERM)$/;
export const REASON_ENV = 'GATEHOUSE_REASON';
/** Environment variables one session may pass on to the device: each is held in memory until then. */
const MAX_ENV_VARS = 64;

export class ProxyConnection implements ConnectionContext {
  private readonly abort = new AbortController();
  readonly stops = new Set<(reason: string) => void>();
  readonly leases = new Set<Lease>();
  readonly upstreams = new Set<SshClient>();
  private readonly settled = new Set<Promise<unknown>>();
  private readonly forwarder = new Forwarder(this);
  closed = false;
  clientGone = false;
  endReason: string | null = null;

  constructor(
    readonly s: Services,
    private readonly conn: Connection,
    readonly clientAddr: string,
    private readonly auth: Login,
    readonly pool: UpstreamPool = new UpstreamPool(),
  ) {
    conn.on('authentication', (ctx) => auth.handle(ctx));
    conn.on('ready', () => {
      conn.on('session', (accept) => this.session(accept()));
      conn.on('tcpip', (accept, reject, info) => (this.auth.result ? this.forwarder.open(accept, reject, info) : reject()));
    });
    conn.on('error', (err) => s.log.debug({ err: String(err), addr: clientAddr }, 'ssh client connection error'));
    conn.on('close', () => {
      this.clientGone = true;
      this.gone('client disconnected');
    });
  }

  get login(): LoginResult {
    return this.auth.result!;
  }

  get user() {
    return this.login.user;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Ends everything of this connection; resolves when its session rows are closed. */
  async shutdown(reason: string): Promise<void> {
    this.gone(reason);
    // The channels got the message and ended; OpenSSH drops what it has not printed when the connection
    // is cut, so give the client a moment to leave by itself.
    if (!this.clientGone)
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

  track<T>(p: Promise<T>): Promise<T> {
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

  /** A session channel: the target the login named, or the menu when it named none. */
  private run(ch: ServerChannel, st: ChannelState, kind: Kind): void {
    ch.on('error', () => {});
    const pty = st.pty !== null && kind.kind !== 'sftp';
    const t = this.login.target;
    const work = async () => {
      if (t.error) {
        say(ch, pty, `${t.error}.`);
        return finish(ch, 1);
      }
      if (!t.device) {
        if (kind.kind === 'shell' && pty) {
          const connect = (device: string, account: string, reason: string | null) =>
            proxySession(this, { ch, st, kind: { kind: 'shell' }, device, account, keepOpen: true, reason });
          return runMenu(this.s, { user: this.user, closed: () => this.closed, connect }, ch);
        }
        say(ch, pty, `Name the device to reach: ${TARGET_SYNTAX}. (The device menu needs a terminal: ssh -t.)`);
        return finish(ch, 1);
      }
      await proxySession(this, { ch, st, kind, device: t.device, account: t.account, keepOpen: false });
    };
    void this.track(work()).catch((err) => {
      this.s.log.error({ err: String(err), stack: (err as Error)?.stack }, 'ssh session failed');
      say(ch, pty, 'Gatehouse hit an internal error; the session ends. An administrator can find it in the log.');
      finish(ch, 1);
    });
  }
}

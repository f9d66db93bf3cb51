// What the steps of one SSH connection share: the kind of session a channel asks for, its state, and
// the connection as the steps see it (so they need not import the connection itself).
import type { Client as SshClient, ClientChannel, PseudoTtyInfo } from 'ssh2';
import type { AsciicastRecorder } from '../../recording/asciicast.js';
import type { Services } from '../../services.js';
import type { LoginResult } from './login.js';
import type { Lease, UpstreamPool } from './upstream-pool.js';

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

export interface ConnectionContext {
  readonly s: Services;
  readonly clientAddr: string;
  /** The login, once the client is in. */
  readonly login: LoginResult;
  readonly pool: UpstreamPool;
  /** Aborts when the connection goes (the client left or the gateway stops). */
  readonly signal: AbortSignal;
  readonly closed: boolean;
  /** The client closed the connection itself. */
  readonly clientGone: boolean;
  /** Why the connection ended, once it did. */
  readonly endReason: string | null;
  /** Upstream connections of this connection's sessions (possibly shared) and its forwarding. */
  readonly leases: Set<Lease>;
  readonly upstreams: Set<SshClient>;
  /** Live relays: stopped when the client goes or the gateway shuts down. */
  readonly stops: Set<(reason: string) => void>;
  /** Keeps `p` until it settles, so shutdown waits for it. */
  track<T>(p: Promise<T>): Promise<T>;
}

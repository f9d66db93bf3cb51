// Shared upstream connections. Sessions of the same user to the same device account under the same
// grant may share one SSH connection to the device, each as its own channel (what OpenSSH's
// ControlMaster does). When ten connections wait on one request and it is approved, the device sees one
// handshake instead of ten; 2,000 released at once would otherwise be 2,000 simultaneous handshakes.
//
// Only sessions with the same key share: user, device, account, port and approval (grant) — so a device
// login is never shared across people or across grants. Every session keeps its own session row,
// recording and audit; revoking the grant closes each session's channel. A connection is ended when its
// last session releases it (no idle pool: nothing stays logged in to a device without a session).
import type { Client as SshClient } from 'ssh2';

export interface Lease {
  client: SshClient;
  /** True when this lease joined a connection that other sessions were already using. */
  shared: boolean;
  /** Give the connection back; the last release ends it. Idempotent. */
  release(): void;
  /** The device refused a channel on this shared connection (its MaxSessions): stop handing it out. */
  full(): void;
}

interface Entry {
  key: string;
  ready: Promise<SshClient>;
  users: number;
  /** No more leases (full, failed or ended). */
  closedToNew: boolean;
  client: SshClient | null;
}

export class UpstreamPool {
  private readonly open = new Map<string, Entry[]>();

  /** At most `perConnection` sessions on one connection; 1 disables sharing. */
  async acquire(key: string, perConnection: number, connect: () => Promise<SshClient>): Promise<Lease> {
    const max = Math.max(1, perConnection);
    const list = this.open.get(key) ?? [];
    let e = max > 1 ? list.find((x) => !x.closedToNew && x.users < max) : undefined;
    const shared = !!e;
    if (!e) {
      const entry: Entry = { key, users: 0, closedToNew: max <= 1, client: null, ready: connect() };
      e = entry;
      list.push(entry);
      this.open.set(key, list);
      entry.ready.then(
        (c) => {
          entry.client = c;
          // The device (or the network) ended the connection: nobody new may join it.
          c.once('close', () => this.retire(entry));
        },
        () => this.retire(entry),
      );
    }
    const entry = e;
    entry.users++;
    let client: SshClient;
    try {
      client = await entry.ready;
    } catch (err) {
      entry.users--;
      throw err;
    }
    let released = false;
    return {
      client,
      shared,
      release: () => {
        if (released) return;
        released = true;
        if (--entry.users === 0) {
          this.retire(entry);
          client.end();
        }
      },
      full: () => this.retire(entry),
    };
  }

  /** Connections currently open or opening (for tests and metrics). */
  size(): number {
    let n = 0;
    for (const l of this.open.values()) n += l.length;
    return n;
  }

  private retire(e: Entry): void {
    e.closedToNew = true;
    const list = this.open.get(e.key);
    if (!list) return;
    const i = list.indexOf(e);
    if (i >= 0) list.splice(i, 1);
    if (!list.length) this.open.delete(e.key);
  }
}

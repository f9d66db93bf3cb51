// Local port forwarding (ssh -L): only with a valid access whose rule allows it, never while waiting.
// One upstream connection and one session row carry all of a connection's forwarded channels.
import type { Client as SshClient, ServerChannel, TcpipRequestInfo } from 'ssh2';
import type { SessionHandle } from '../../core/sessions.js';
import type { User } from '../../core/types.js';
import type { ConnectionContext } from './channel.js';
import type { Counters } from './relay.js';
import { printable } from './target.js';
import { connectUpstream } from './upstream.js';

interface Forwarding {
  up: SshClient;
  deviceId: number;
  sessionId: number;
  channels: Set<ServerChannel>;
  counters: Counters;
  /** Destinations already audited on this connection (once each, not per channel). */
  audited: Set<string>;
}

export class Forwarder {
  private forwarding: Promise<Forwarding> | null = null;

  constructor(private readonly c: ConnectionContext) {}

  /** A `direct-tcpip` channel request. */
  open(accept: () => ServerChannel, reject: () => void, info: TcpipRequestInfo): void {
    const { s, login } = this.c;
    const t = login.target;
    void (async () => {
      if (!t.device || t.error) return reject();
      const to = `${printable(info.destIP, 255)}:${info.destPort}`;
      const who = { actor: login.user.username, actorId: login.user.id, channel: 'ssh' as const, targetType: 'device' };
      const d = await s.approvals.decide(login.user.username, t.device, 'ssh', t.account ?? undefined);
      if (d.outcome !== 'allowed' || !d.allowPortForwarding) {
        const why = d.outcome === 'allowed' ? 'the access rule does not allow port forwarding' : 'no valid access to the device';
        await s.audit({ ...who, action: 'ssh.forward.refused', details: { device: t.device, to, why } });
        return reject();
      }
      const fw = await this.start(login.user, t.device, d.accountId, d.grantId ?? null);
      if (!fw.audited.has(to)) {
        fw.audited.add(to);
        void s
          .audit({ ...who, targetId: fw.deviceId, action: 'ssh.forward', details: { device: t.device, to, session: fw.sessionId } })
          .catch(() => {});
      }
      fw.up.forwardOut(info.srcIP, info.srcPort, info.destIP, info.destPort, (err, upCh) => {
        if (err || this.c.closed) return reject();
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

  /** The forwarding of this connection, opened on first use. */
  private start(user: User, device: string, accountId: number, approvalId: number | null): Promise<Forwarding> {
    const { s, clientAddr } = this.c;
    this.forwarding ??= (async () => {
      const p = await s.policy.current();
      const dev = p.devicesByName.get(device)!;
      const acc = (p.accountsOfDevice.get(dev.id) ?? []).find((a) => a.id === accountId)!;
      const up = await connectUpstream(s, dev, acc, user, dev.ports.ssh ?? 22);
      this.c.upstreams.add(up);
      const fw: Forwarding = { up, deviceId: dev.id, sessionId: 0, channels: new Set(), counters: { in: 0, out: 0 }, audited: new Set() };
      const handle: SessionHandle = {
        close: () => {
          for (const ch of fw.channels) ch.close();
          up.end();
        },
        bytes: () => ({ ...fw.counters }),
      };
      const grantEnd = approvalId !== null ? (s.grants.window(approvalId)?.end ?? null) : null;
      fw.sessionId = await s.sessions.open(
        { userId: user.id, deviceId: dev.id, accountId, protocol: 'ssh', approvalId, clientAddr, nodeId: s.nodeId },
        handle,
        grantEnd,
      );
      this.c.stops.add((why) => {
        handle.close(why);
        void this.c.track(s.sessions.closed(fw.sessionId, why));
      });
      return fw;
    })();
    return this.forwarding;
  }
}

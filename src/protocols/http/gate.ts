// The approval gate for one user on one device host. An `Access` is one HTTP session: user x device x
// grant, a session row, one audit record, the device's settings and credential, counters, and the live
// streams and websockets to cut when it ends. Later requests check it in memory only (policy version and
// the grant cache); anything that changed sends them back through decide().
import type { Duplex } from 'node:stream';
import type { Services } from '../../services.js';
import type { PolicySnapshot } from '../../core/policy/snapshot.js';
import type { Device, User } from '../../core/types.js';
import type { HttpProxyConfig, ProxyOrigin } from './config.js';
import { deviceOrigin } from './config.js';
import type { DeviceSettingsCache, HttpDeviceSettings } from './devices.js';
import { makeUpstream, type ForwardTarget, type Upstream } from './forward.js';
import { LiveList } from './live.js';

export interface Access {
  key: string;
  user: User;
  device: Device;
  accountId: number;
  grantId: number | null;
  grantEnd: number | null;
  policyVersion: number;
  /** The credential mode the target was built with (JSON), to notice a change. */
  auth: string;
  target: ForwardTarget;
  sessionId: number | null;
  /** Set when the session ended: the next request shows the access-ended page with this reason. */
  ended: string | null;
  requests: number;
  firstAt: number;
  lastAt: number;
  bytesIn: number;
  bytesOut: number;
  dirty: boolean;
  /** Responses in flight and websockets, cut when the session ends. */
  live: LiveList;
}

export type GateResult =
  | { kind: 'pass'; access: Access }
  | { kind: 'ended'; access: Access }
  | { kind: 'unavailable' }
  | {
      kind: 'approval';
      user: User;
      device: Device;
      decision: Extract<Awaited<ReturnType<Services['approvals']['decide']>>, { outcome: 'approval-required' }>;
    };

/** The device a proxy host names (device names are matched without case, as host names are). */
function deviceByHost(p: PolicySnapshot, host: string): Device | undefined {
  return [...p.devicesById.values()].find((d) => d.name.toLowerCase() === host);
}

/**
 * Whether the user may open this device host at all: an http rule that lets them in, or one where they
 * may ask for approval (the waiting page). The same test as the gate's, before any token is handed out.
 */
export async function mayOpen(s: Services, userId: number, host: string): Promise<boolean> {
  const p = await s.policy.current();
  const user = p.usersById.get(userId);
  const device = deviceByHost(p, host);
  if (!user || user.disabled || !device || !device.enabled || !device.protocols.includes('http')) return false;
  return (await s.approvals.decide(user.username, device.name, 'http')).outcome !== 'denied';
}

export class Gate {
  /** `${userId}:${host}` -> the current access (live or ended). */
  readonly accesses = new Map<string, Access>();
  private readonly pending = new Map<string, Promise<GateResult>>();
  private readonly upstreams = new Map<string, Upstream>();

  constructor(
    private readonly s: Services,
    private readonly cfg: HttpProxyConfig,
    private readonly origin: () => ProxyOrigin,
    private readonly settings: DeviceSettingsCache,
  ) {}

  /** The hot path: a live access still valid, without awaiting anything; otherwise undefined. */
  fast(userId: number, host: string, now: number): Access | undefined {
    const a = this.accesses.get(`${userId}:${host}`);
    if (!a || a.ended !== null) return undefined;
    if (this.s.policy.peek()?.version !== a.policyVersion) return undefined;
    if (a.grantId !== null) {
      const w = this.s.grants.window(a.grantId);
      if (!w || now >= w.end) return undefined;
    }
    return a;
  }

  /** The slow path, shared by concurrent requests of the same user and host. */
  check(userId: number, host: string): Promise<GateResult> {
    const key = `${userId}:${host}`;
    let p = this.pending.get(key);
    if (!p) {
      p = this.resolve(userId, host, key).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return p;
  }

  private async resolve(userId: number, host: string, key: string): Promise<GateResult> {
    const s = this.s;
    const now = s.clock.now();
    const prev = this.accesses.get(key);
    if (prev && !prev.ended && this.fast(userId, host, now)) return { kind: 'pass', access: prev };
    const p = await s.policy.current();
    const user = p.usersById.get(userId);
    const device = deviceByHost(p, host);
    if (!user || user.disabled || !device) return prev?.ended ? { kind: 'ended', access: prev } : { kind: 'unavailable' };
    const decision = await s.approvals.decide(user.username, device.name, 'http');
    if (prev?.ended) {
      // The ended session keeps saying "access ended" (until "request access again")... unless a new
      // approval (another grant) now allows it: then the user goes straight in, as over SSH.
      const fresh = decision.outcome === 'allowed' && decision.grantId != null && decision.grantId !== prev.grantId;
      if (!fresh) return { kind: 'ended', access: prev };
      this.accesses.delete(key);
      return { kind: 'pass', access: await this.open(key, user, device, decision.accountId, decision.grantId ?? null, p.version) };
    }
    if (prev) {
      // Policy moved or the grant changed: a different grant (or none) means a new session.
      const same = decision.outcome === 'allowed' && (decision.grantId ?? null) === prev.grantId && decision.accountId === prev.accountId;
      if (same) {
        // The device's address or settings may have changed with the policy: aim at the current ones.
        const settings = await this.settings.get(device, p.version);
        const auth = JSON.stringify(settings.auth);
        const credential = auth === prev.auth ? prev.target.credential : await this.credential(device, prev.accountId, settings);
        prev.auth = auth;
        prev.target = await this.target(device, p.version, credential);
        prev.device = device;
        prev.user = user;
        prev.policyVersion = p.version;
        return { kind: 'pass', access: prev };
      }
      const ended = this.end(prev, decision.outcome === 'allowed' ? null : 'access ended: the approval is no longer valid');
      if (ended) return { kind: 'ended', access: prev };
    }
    if (decision.outcome === 'denied' || !device.enabled || !device.protocols.includes('http')) return { kind: 'unavailable' };
    if (decision.outcome === 'approval-required') return { kind: 'approval', user, device, decision };
    return { kind: 'pass', access: await this.open(key, user, device, decision.accountId, decision.grantId ?? null, p.version) };
  }

  private async open(key: string, user: User, device: Device, accountId: number, grantId: number | null, version: number): Promise<Access> {
    const s = this.s;
    const settings = await this.settings.get(device, version);
    const credential = await this.credential(device, accountId, settings);
    const target = await this.target(device, version, credential);
    const now = s.clock.now();
    const window = grantId !== null ? s.grants.window(grantId) : undefined;
    const a: Access = {
      key,
      user,
      device,
      accountId,
      grantId,
      grantEnd: window?.end ?? null,
      policyVersion: version,
      auth: JSON.stringify(settings.auth),
      target,
      sessionId: null,
      ended: null,
      requests: 0,
      firstAt: now,
      lastAt: now,
      bytesIn: 0,
      bytesOut: 0,
      dirty: true,
      live: new LiveList(),
    };
    this.accesses.set(key, a);
    a.sessionId = await s.sessions.open(
      { userId: user.id, deviceId: device.id, accountId, protocol: 'http', approvalId: grantId, clientAddr: null, nodeId: s.nodeId },
      { close: (reason) => this.closed(a, reason), bytes: () => ({ in: a.bytesIn, out: a.bytesOut }) },
      a.grantEnd,
    );
    // Access to the device is audited once per grant (per session), not per request.
    await s.audit({
      actor: user.username,
      actorId: user.id,
      channel: 'web',
      action: 'http.access',
      targetType: 'device',
      targetId: device.name,
      details: { approvalId: grantId, sessionId: a.sessionId },
    });
    return a;
  }

  /** The header carrying the account's secret. Fetched once per session, kept in memory only, never logged. */
  private async credential(device: Device, accountId: number, settings: HttpDeviceSettings): Promise<[string, string] | null> {
    const account = this.s.policy
      .peek()
      ?.accountsOfDevice.get(device.id)
      ?.find((a) => a.id === accountId);
    if (!account || settings.auth.mode === 'none') return null;
    const secret = await this.s.admin.accountSecret(accountId);
    if (secret.kind !== 'password') return null;
    return settings.auth.mode === 'basic'
      ? ['authorization', `Basic ${Buffer.from(`${account.name}:${secret.secret}`).toString('base64')}`]
      : [settings.auth.name, secret.secret];
  }

  private async target(device: Device, version: number, credential: [string, string] | null): Promise<ForwardTarget> {
    const settings = await this.settings.get(device, version);
    const port = device.ports.http ?? (settings.scheme === 'https' ? 443 : 80);
    const ukey = `${settings.scheme}|${device.host}|${port}|${JSON.stringify(settings.tls)}`;
    let upstream = this.upstreams.get(ukey);
    if (!upstream) {
      upstream = makeUpstream(device.host, port, settings, this.cfg.upstreamTimeoutMs);
      this.upstreams.set(ukey, upstream);
    }
    const o = this.origin();
    const publicOrigin = deviceOrigin(o, device.name.toLowerCase());
    return { upstream, publicOrigin, publicHost: publicOrigin.replace(/^https?:\/\//, ''), publicProto: o.scheme, credential };
  }

  /** The registry (revoke, grant end, kill) or this proxy ends a session: cut every stream at once. */
  private closed(a: Access, reason: string): void {
    a.ended = reason;
    a.live.destroyAll();
  }

  /** Ends an access through the registry (so the session row closes); returns whether it was live. */
  end(a: Access, reason: string | null): boolean {
    if (a.ended !== null) return false;
    const why = reason ?? 'access ended: a new session began';
    if (a.sessionId !== null) this.s.sessions.kill(a.sessionId, why);
    else this.closed(a, why);
    if (reason === null) this.accesses.delete(a.key);
    return reason !== null;
  }

  /** "Request access again": forget the ended session so the next request goes through decide(). */
  forget(userId: number, host: string): void {
    const a = this.accesses.get(`${userId}:${host}`);
    if (a?.ended) this.accesses.delete(a.key);
  }

  track(a: Access, d: Duplex | { destroy(): void }): void {
    const e = a.live.add(d);
    if ('once' in d) d.once('close', () => a.live.remove(e));
  }

  /** Sessions without a grant end after a quiet spell; counters are flushed by the caller. */
  idle(now: number): void {
    for (const a of this.accesses.values()) {
      if (a.ended !== null) {
        if (now - a.lastAt > this.cfg.idleMs) this.accesses.delete(a.key);
      } else if (a.grantId === null && now - a.lastAt > this.cfg.idleMs) this.end(a, 'access ended: idle');
    }
  }

  async close(): Promise<void> {
    for (const a of this.accesses.values()) this.end(a, 'gateway stopping');
    await Promise.all([...this.upstreams.values()].map((u) => u.pool.destroy().catch(() => {})));
  }
}

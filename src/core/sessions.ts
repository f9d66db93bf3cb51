// Live sessions of every protocol. A front-end registers each proxied connection with a handle that can
// close it; revocation, grant expiry and an admin's kill end sessions the same way, whatever the protocol
// and whichever node decided (events reach every process).
import type { EventBus } from './events.js';
import type { Clock } from './ports/clock.js';
import type { AuditEntry, Protocol } from './types.js';
import { requestOf } from './events.js';

export interface SessionRecord {
  userId: number;
  deviceId: number;
  accountId: number;
  protocol: Protocol;
  approvalId: number | null;
  clientAddr: string | null;
  nodeId: string;
}

export interface SessionStorePort {
  insertSession(r: SessionRecord, at: number): Promise<number>;
  endSession(id: number, at: number, reason: string, bytesIn: number, bytesOut: number): Promise<void>;
  updateSessionBytes(id: number, bytesIn: number, bytesOut: number): Promise<void>;
  appendSessionEvent(type: string, payload: Record<string, unknown>, at: number): Promise<void>;
  appendAudit(e: AuditEntry, at: number): Promise<void>;
}

export interface SessionHandle {
  /** Ends the connection with a message the user sees where the protocol allows. */
  close(reason: string): void;
  /** Bytes relayed so far (client->device, device->client). */
  bytes(): { in: number; out: number };
}

interface Live {
  id: number;
  /** Byte counts last written to the session row (written only when they changed). */
  written: { in: number; out: number };
  record: SessionRecord;
  handle: SessionHandle;
  grantEnd: number | null;
  timer: NodeJS.Timeout | null;
}

export class SessionRegistry {
  private readonly live = new Map<number, Live>();
  private readonly waits = new Map<Protocol, number>();
  /** Bytes of sessions that ended in this process, by protocol and direction (for /metrics). */
  readonly endedBytes = new Map<string, number>();

  constructor(
    private readonly store: SessionStorePort,
    private readonly clock: Clock,
    bus: EventBus,
    private readonly onError: (err: unknown) => void = () => {},
    /** Whether a user may still hold sessions (exists, not disabled); checked when the policy changes. */
    private readonly userActive: (userId: number) => Promise<boolean> = async () => true,
  ) {
    bus.subscribe((e) => {
      const r = requestOf(e);
      if (r && (e.type === 'approval.revoked' || e.type === 'approval.expired' || e.type === 'approval.cancelled'))
        this.endForApproval(
          r.id,
          `access ${e.type === 'approval.revoked' ? 'revoked' : 'ended'}${r.decisionComment ? `: ${r.decisionComment}` : ''}`,
        );
      if (e.type === 'session.kill' && typeof e.payload.id === 'number')
        this.kill(e.payload.id, String(e.payload.reason ?? 'ended by an administrator'));
      if (e.type === 'session.kill' && typeof e.payload.userId === 'number')
        this.endForUser(e.payload.userId, String(e.payload.reason ?? 'ended by an administrator'));
      if (e.type === 'policy.changed') void this.endForLeavers().catch(this.onError);
    });
  }

  /** Registers a live session; `grantEnd` closes it when the grant's window ends. */
  async open(record: SessionRecord, handle: SessionHandle, grantEnd: number | null): Promise<number> {
    const id = await this.store.insertSession(record, this.clock.now());
    void this.store
      .appendAudit(
        {
          actor: 'system',
          actorId: record.userId,
          channel: 'system',
          action: 'session.start',
          targetType: 'session',
          targetId: id,
          details: { ...record },
        },
        this.clock.now(),
      )
      .catch(this.onError);
    const l: Live = { id, record, handle, grantEnd, timer: null, written: { in: 0, out: 0 } };
    this.live.set(id, l);
    if (grantEnd !== null) {
      const ms = Math.max(0, grantEnd - this.clock.now());
      // setTimeout caps at ~24.8 days; longer grants are re-armed by the periodic check().
      if (ms < 2 ** 31 - 1) {
        l.timer = setTimeout(() => this.kill(id, 'access ended: the approval window is over'), ms);
        l.timer.unref();
      }
    }
    return id;
  }

  /** Records the end of a session (idempotent). */
  async closed(id: number, reason: string): Promise<void> {
    const l = this.live.get(id);
    if (!l) return;
    this.live.delete(id);
    if (l.timer) clearTimeout(l.timer);
    const b = l.handle.bytes();
    const k = l.record.protocol;
    this.endedBytes.set(`${k}:in`, (this.endedBytes.get(`${k}:in`) ?? 0) + b.in);
    this.endedBytes.set(`${k}:out`, (this.endedBytes.get(`${k}:out`) ?? 0) + b.out);
    await this.store.endSession(id, this.clock.now(), reason, b.in, b.out).catch(this.onError);
    await this.store
      .appendAudit(
        {
          actor: 'system',
          actorId: l.record.userId,
          channel: 'system',
          action: 'session.end',
          targetType: 'session',
          targetId: id,
          details: { reason, bytesIn: b.in, bytesOut: b.out, protocol: l.record.protocol },
        },
        this.clock.now(),
      )
      .catch(this.onError);
  }

  /** A connection starts waiting for approval; call the returned function when it stops waiting. */
  beginWait(protocol: Protocol): () => void {
    this.waits.set(protocol, (this.waits.get(protocol) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.waits.set(protocol, (this.waits.get(protocol) ?? 1) - 1);
    };
  }

  waiting(protocol?: Protocol): number {
    if (protocol) return this.waits.get(protocol) ?? 0;
    let n = 0;
    for (const v of this.waits.values()) n += v;
    return n;
  }

  /** Bytes relayed by this process so far (ended and live sessions), by protocol and direction. */
  bytesRelayed(): Map<string, number> {
    const out = new Map(this.endedBytes);
    for (const l of this.live.values()) {
      const b = l.handle.bytes();
      const k = l.record.protocol;
      out.set(`${k}:in`, (out.get(`${k}:in`) ?? 0) + b.in);
      out.set(`${k}:out`, (out.get(`${k}:out`) ?? 0) + b.out);
    }
    return out;
  }

  kill(id: number, reason: string): boolean {
    const l = this.live.get(id);
    if (!l) return false;
    try {
      l.handle.close(reason);
    } catch (err) {
      this.onError(err);
    }
    void this.closed(id, reason);
    return true;
  }

  endForApproval(approvalId: number, reason: string): number {
    let n = 0;
    for (const l of [...this.live.values()]) if (l.record.approvalId === approvalId && this.kill(l.id, reason)) n++;
    return n;
  }

  endForUser(userId: number, reason: string): number {
    let n = 0;
    for (const l of [...this.live.values()]) if (l.record.userId === userId && this.kill(l.id, reason)) n++;
    return n;
  }

  /** A user disabled or removed (by an admin or the directory sync) keeps no live session on any node. */
  private async endForLeavers(): Promise<void> {
    for (const userId of new Set([...this.live.values()].map((l) => l.record.userId)))
      if (!(await this.userActive(userId))) this.endForUser(userId, 'access ended: the account is disabled');
  }

  /** Asks every node to end every live session of one user (the leaver's sign-out). */
  async requestEndForUser(userId: number, reason: string): Promise<void> {
    await this.store.appendSessionEvent('session.kill', { userId, reason }, this.clock.now());
  }

  /** Asks every node to kill a session (the node holding it closes it). */
  async requestKill(id: number, reason: string): Promise<void> {
    await this.store.appendSessionEvent('session.kill', { id, reason }, this.clock.now());
  }

  private lastFlush = 0;

  /**
   * Periodic (every second): end sessions whose grant ended (timers cover the usual case); every 2 s,
   * write the byte counts of live sessions whose counts changed (every 2 s).
   */
  async check(): Promise<void> {
    const now = this.clock.now();
    for (const l of [...this.live.values()])
      if (l.grantEnd !== null && now >= l.grantEnd) this.kill(l.id, 'access ended: the approval window is over');
    if (now - this.lastFlush >= 2_000) await this.flushBytes();
  }

  /** Writes the byte counts of live sessions whose counts changed since the last write (idle ones cost nothing). */
  async flushBytes(): Promise<void> {
    this.lastFlush = this.clock.now();
    for (const l of [...this.live.values()]) {
      const b = l.handle.bytes();
      if (b.in === l.written.in && b.out === l.written.out) continue;
      l.written = { in: b.in, out: b.out };
      await this.store.updateSessionBytes(l.id, b.in, b.out).catch(this.onError);
    }
  }

  count(protocol?: Protocol): number {
    let n = 0;
    for (const l of this.live.values()) if (!protocol || l.record.protocol === protocol) n++;
    return n;
  }

  ids(): number[] {
    return [...this.live.keys()];
  }
}

// Keeps decide()'s inputs in memory: the policy snapshot and the valid grants. Both are refreshed by
// events, so the hot path never queries the database while policy is unchanged.
import type { EventBus } from '../events.js';
import type { Store } from '../ports/store.js';
import type { ApprovalRequest, GatehouseEvent, Protocol } from '../types.js';
import { PolicySnapshot } from './snapshot.js';
import { requestOf } from '../events.js';

export class PolicyCache {
  private snapshot: PolicySnapshot | null = null;
  private loading: Promise<PolicySnapshot> | null = null;
  private generation = 0;
  loads = 0;

  constructor(
    private readonly store: Store,
    bus?: EventBus,
  ) {
    bus?.subscribe((e) => {
      if (e.type === 'policy.changed') this.invalidate();
    });
  }

  invalidate(): void {
    this.generation++;
    this.snapshot = null;
  }

  /** The snapshot, loading it once when stale. Concurrent callers share one load. */
  async current(): Promise<PolicySnapshot> {
    if (this.snapshot) return this.snapshot;
    if (!this.loading) {
      const gen = this.generation;
      this.loading = (async () => {
        const [version, data] = await Promise.all([this.store.policyVersion(), this.store.loadPolicy()]);
        this.loads++;
        const s = new PolicySnapshot(data, version);
        if (gen === this.generation) this.snapshot = s;
        return s;
      })().finally(() => {
        this.loading = null;
      });
    }
    return this.loading;
  }

  /**
   * Read-your-writes across processes: drops the snapshot when the database's policy version moved on
   * (a write by another worker or node whose event has not arrived yet). One small query; true if dropped.
   */
  async fresh(): Promise<boolean> {
    const held = this.snapshot;
    if (!held) return false;
    if ((await this.store.policyVersion()) === held.version) return false;
    if (this.snapshot === held) this.invalidate();
    return true;
  }

  /** The snapshot if it is loaded and fresh; never waits. */
  peek(): PolicySnapshot | null {
    return this.snapshot;
  }
}

interface GrantEntry {
  requestId: number;
  start: number;
  end: number;
}

const key = (u: number, d: number, a: number, p: string) => `${u}:${d}:${a}:${p}`;

/** Valid grants by user/device/account/protocol, kept current by approval events. */
export class GrantCache {
  private readonly grants = new Map<string, GrantEntry[]>();
  private readonly byRequest = new Map<number, string>();

  constructor(bus?: EventBus) {
    bus?.subscribe((e) => this.onEvent(e));
  }

  async load(store: Store, now: number): Promise<void> {
    this.grants.clear();
    this.byRequest.clear();
    for (const r of await store.activeGrants(now)) this.put(r);
  }

  put(r: Pick<ApprovalRequest, 'id' | 'requesterId' | 'deviceId' | 'accountId' | 'protocol' | 'grantStart' | 'grantEnd' | 'status'>): void {
    this.remove(r.id);
    if (r.status !== 'approved' || r.grantStart === null || r.grantEnd === null) return;
    const k = key(r.requesterId, r.deviceId, r.accountId, r.protocol);
    const list = this.grants.get(k) ?? [];
    list.push({ requestId: r.id, start: r.grantStart, end: r.grantEnd });
    this.grants.set(k, list);
    this.byRequest.set(r.id, k);
  }

  remove(requestId: number): void {
    const k = this.byRequest.get(requestId);
    if (k === undefined) return;
    this.byRequest.delete(requestId);
    const list = (this.grants.get(k) ?? []).filter((g) => g.requestId !== requestId);
    if (list.length) this.grants.set(k, list);
    else this.grants.delete(k);
  }

  /** The id of a request whose grant covers `now`, if any. Pure memory. */
  find = (userId: number, deviceId: number, accountId: number, protocol: Protocol, now: number): number | undefined => {
    const list = this.grants.get(key(userId, deviceId, accountId, protocol));
    if (!list) return undefined;
    for (const g of list) if (g.start <= now && now < g.end) return g.requestId;
    return undefined;
  };

  /** The grant window of a request, if cached. */
  window(requestId: number): { start: number; end: number } | undefined {
    const k = this.byRequest.get(requestId);
    return k ? this.grants.get(k)?.find((g) => g.requestId === requestId) : undefined;
  }

  private onEvent(e: GatehouseEvent): void {
    if (!e.type.startsWith('approval.')) return;
    const r = requestOf(e);
    if (r && typeof r.id === 'number') this.put(r);
  }
}

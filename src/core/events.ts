// The event bus: every change is a row in `events`, written in the transaction that made the change.
// Each process polls the table (and PostgreSQL may wake it early), so a decision made anywhere —
// this process, the CLI, another node — reaches subscribers here within one poll interval.
import type { Store } from './ports/store.js';
import { APPROVAL_EVENTS, type ApprovalEvent, type ApprovalRequest, type BusEvent, type GatehouseEvent } from './types.js';

export type Listener = (e: BusEvent) => void;

const KNOWN = new Set<string>([...APPROVAL_EVENTS, 'policy.changed', 'session.kill']);

/**
 * A stored event read as its kind. The payload is JSON this code wrote in the same transaction as the
 * change, so its shape follows from the type; an approval event without a request, or an unknown type,
 * is not delivered.
 */
export function toBusEvent(e: GatehouseEvent): BusEvent | undefined {
  if (!KNOWN.has(e.type) && !e.type.startsWith('delegation.')) return undefined;
  if (e.type.startsWith('approval.')) {
    const r = e.payload.request as { id?: unknown } | undefined;
    if (!r || typeof r.id !== 'number') return undefined;
  }
  return e as BusEvent;
}

export function isApprovalEvent(e: BusEvent): e is ApprovalEvent {
  return e.type.startsWith('approval.');
}

/** The approval request an event carries (stored or delivered), if it is an approval event. */
export function requestOf(e: GatehouseEvent | BusEvent): ApprovalRequest | undefined {
  const b = toBusEvent(e as GatehouseEvent);
  return b && isApprovalEvent(b) ? b.payload.request : undefined;
}

/**
 * Events may commit out of id order under concurrency (PostgreSQL hands out ids before commit). An id
 * skipped by a poll is a "gap": the next polls ask for it by id for this long, then give up on it (a
 * rolled-back transaction leaves a gap that never fills). Asking for the gaps by id keeps each poll
 * small: re-reading the whole window costs thousands of rows per poll under load.
 */
const LATE_COMMIT_WINDOW_MS = 30_000;
/** More open gaps than this (a sequence jump, a burst of rollbacks): re-read the whole window instead. */
const MAX_GAPS = 500;

export class EventBus {
  private readonly listeners = new Set<Listener>();
  /** Listeners of one request's approval events: 10,000 waiters must not each be called for every event. */
  private readonly byRequest = new Map<number, Set<Listener>>();
  private readonly seen = new Map<number, number>();
  /** Skipped ids that may still commit -> when they were first skipped. */
  private readonly gaps = new Map<number, number>();
  private cursor = 0;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private again = false;
  private started = false;
  lastError: unknown = null;
  /** Wall time of the last successful poll: /metrics shows the bus's lag from it. */
  lastPollAt = 0;

  constructor(
    private readonly store: Store,
    private readonly intervalMs = 200,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Like subscribe, for the approval events about request `id` only. */
  subscribeRequest(id: number, fn: Listener): () => void {
    let set = this.byRequest.get(id);
    if (!set) this.byRequest.set(id, (set = new Set()));
    set.add(fn);
    return () => {
      const s = this.byRequest.get(id);
      if (s?.delete(fn) && s.size === 0) this.byRequest.delete(id);
    };
  }

  /** Starts polling. Events that exist now count as already delivered. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.cursor = await this.store.maxEventId();
    const recent = await this.store.eventsSince(this.cursor, Date.now() - LATE_COMMIT_WINDOW_MS, 10_000);
    for (const e of recent) this.seen.set(e.id, e.at);
    if (recent.length) this.noteGaps(recent[0].id - 1, this.cursor, Date.now());
    this.schedule();
  }

  stop(): void {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Other processes of this node to tell when this one commits an event (their poll then runs at once). */
  private nudgePeers: (() => void) | null = null;

  onWrite(fn: () => void): void {
    this.nudgePeers = fn;
  }

  /** This process committed an event: poll now, and have this node's other processes poll too. */
  written(): Promise<void> {
    this.nudgePeers?.();
    return this.kick();
  }

  /** Poll now (after this process committed something, or a database notification arrived). */
  kick(): Promise<void> {
    if (!this.started) return Promise.resolve();
    if (this.polling) {
      this.again = true;
      return this.polling;
    }
    this.polling = this.pollOnce().finally(() => {
      this.polling = null;
      if (this.again) {
        this.again = false;
        void this.kick();
      }
    });
    return this.polling;
  }

  private schedule(): void {
    if (!this.started) return;
    this.timer = setTimeout(() => {
      void this.kick().finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  private async pollOnce(): Promise<void> {
    const now = Date.now();
    for (const [id, t] of this.gaps) if (t < now - LATE_COMMIT_WINDOW_MS) this.gaps.delete(id);
    let events: GatehouseEvent[];
    try {
      events =
        this.gaps.size > MAX_GAPS
          ? await this.store.eventsSince(this.cursor, now - LATE_COMMIT_WINDOW_MS, 5000)
          : await this.store.eventsAfter(this.cursor, [...this.gaps.keys()], 5000);
      this.lastError = null;
      this.lastPollAt = Date.now();
    } catch (err) {
      this.lastError = err;
      this.onError(err);
      return;
    }
    const before = this.cursor;
    for (const e of events) {
      this.gaps.delete(e.id);
      if (this.seen.has(e.id)) continue;
      this.seen.set(e.id, e.at);
      if (e.id > this.cursor) this.cursor = e.id;
      this.deliver(e);
    }
    this.noteGaps(before, this.cursor, now);
    const horizon = Date.now() - 2 * LATE_COMMIT_WINDOW_MS;
    for (const [id, at] of this.seen) if (at < horizon) this.seen.delete(id);
  }

  /** Ids in (from, to) not seen yet are gaps (capped: past MAX_GAPS the window is re-read instead). */
  private noteGaps(from: number, to: number, now: number): void {
    for (let id = from + 1; id < to && this.gaps.size <= MAX_GAPS; id++)
      if (!this.seen.has(id) && !this.gaps.has(id)) this.gaps.set(id, now);
  }

  private deliver(stored: GatehouseEvent): void {
    const e = toBusEvent(stored);
    if (!e) return;
    // The request's own listeners first: one that narrows to it while the general ones run has then
    // already missed this event there, and is not handed it twice.
    const keyed = isApprovalEvent(e) ? this.byRequest.get(e.payload.request.id) : undefined;
    if (keyed) this.call(keyed, e);
    this.call(this.listeners, e);
  }

  private call(listeners: Set<Listener>, e: BusEvent): void {
    for (const fn of listeners) {
      try {
        fn(e);
      } catch (err) {
        this.onError(err);
      }
    }
  }
}

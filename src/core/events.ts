// The event bus: every change is a row in `events`, written in the transaction that made the change.
// Each process polls the table (and PostgreSQL may wake it early), so a decision made anywhere —
// this process, the CLI, another node — reaches subscribers here within one poll interval.
import type { Store } from './ports/store.js';
import type { GatehouseEvent } from './types.js';

export type Listener = (e: GatehouseEvent) => void;

/** Events may commit out of id order under concurrency; re-read this window and de-duplicate by id. */
const LATE_COMMIT_WINDOW_MS = 30_000;

export class EventBus {
  private readonly listeners = new Set<Listener>();
  private readonly seen = new Map<number, number>();
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

  /** Starts polling. Events that exist now count as already delivered. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.cursor = await this.store.maxEventId();
    for (const e of await this.store.eventsSince(this.cursor, Date.now() - LATE_COMMIT_WINDOW_MS, 10_000)) this.seen.set(e.id, e.at);
    this.schedule();
  }

  stop(): void {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
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
    let events: GatehouseEvent[];
    try {
      events = await this.store.eventsSince(this.cursor, Date.now() - LATE_COMMIT_WINDOW_MS, 5000);
      this.lastError = null;
      this.lastPollAt = Date.now();
    } catch (err) {
      this.lastError = err;
      this.onError(err);
      return;
    }
    for (const e of events) {
      if (this.seen.has(e.id)) continue;
      this.seen.set(e.id, e.at);
      if (e.id > this.cursor) this.cursor = e.id;
      this.deliver(e);
    }
    const horizon = Date.now() - 2 * LATE_COMMIT_WINDOW_MS;
    for (const [id, at] of this.seen) if (at < horizon) this.seen.delete(id);
  }

  private deliver(e: GatehouseEvent): void {
    for (const fn of this.listeners) {
      try {
        fn(e);
      } catch (err) {
        this.onError(err);
      }
    }
  }
}

// Prometheus metrics (prom-client) on a registry of our own.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Services } from '../services.js';

export class Metrics {
  readonly registry = new Registry();
  readonly approvalsByStatus: Gauge;
  readonly transitions: Counter;
  readonly busLag: Gauge;

  constructor(private readonly s: Services) {
    collectDefaultMetrics({ register: this.registry, prefix: 'gatehouse_process_' });
    this.approvalsByStatus = new Gauge({ name: 'gatehouse_approvals', help: 'Approval requests by status', labelNames: ['status'], registers: [this.registry] });
    this.transitions = new Counter({ name: 'gatehouse_approval_events_total', help: 'Approval events seen by this process', labelNames: ['type'], registers: [this.registry] });
    this.busLag = new Gauge({ name: 'gatehouse_event_bus_lag_seconds', help: 'Seconds since the event bus last polled successfully', registers: [this.registry] });
    s.bus.subscribe((e) => {
      if (e.type.startsWith('approval.')) this.transitions.inc({ type: e.type });
    });
  }

  async render(): Promise<string> {
    const rows = await this.s.store.db.selectFrom('approval_requests').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
    this.approvalsByStatus.reset();
    for (const r of rows) this.approvalsByStatus.set({ status: r.status }, Number(r.n));
    this.busLag.set(this.s.bus.lastPollAt ? (Date.now() - this.s.bus.lastPollAt) / 1000 : 0);
    return this.registry.metrics();
  }
}

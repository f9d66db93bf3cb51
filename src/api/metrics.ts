// Prometheus metrics (prom-client) on a registry of our own. With several workers, /metrics answers for
// the node: the primary gathers every process's values and merges them metric by metric (`aggregator`:
// sums for what each process counts alone, the first for what comes from the database, the largest for
// what every process sees alike, such as approval events).
import {
  AggregatorRegistry,
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';
import type { Services } from '../services.js';
import { PROTOCOLS } from '../core/types.js';
import { registerMailMetrics } from '../notify/metrics.js';
import { requestOf } from '../core/events.js';

const perProcess = new WeakMap<Services, Metrics>();

export class Metrics {
  /** The one Metrics of a process's services (its counters start once). */
  static of(s: Services): Metrics {
    let m = perProcess.get(s);
    if (!m) perProcess.set(s, (m = new Metrics(s)));
    return m;
  }

  readonly registry = new Registry();
  readonly approvalsByStatus: Gauge;
  readonly transitions: Counter;
  readonly busLag: Gauge;
  readonly decisionSeconds: Histogram;
  readonly waiting: Gauge;
  readonly liveSessions: Gauge;
  readonly bytes: Gauge;
  readonly audits: Gauge;
  readonly loginFailures: Gauge;
  readonly statementsWritten: Counter;
  readonly statementsDropped: Counter;

  constructor(private readonly s: Services) {
    collectDefaultMetrics({ register: this.registry, prefix: 'gatehouse_' });
    this.approvalsByStatus = new Gauge({
      name: 'gatehouse_approvals',
      aggregator: 'first',
      help: 'Approval requests by status',
      labelNames: ['status'],
      registers: [this.registry],
    });
    this.transitions = new Counter({
      name: 'gatehouse_approval_events_total',
      aggregator: 'max',
      help: 'Approval events seen by this process',
      labelNames: ['type'],
      registers: [this.registry],
    });
    this.busLag = new Gauge({
      name: 'gatehouse_event_bus_lag_seconds',
      aggregator: 'max',
      help: 'Seconds since the event bus last polled successfully',
      registers: [this.registry],
    });
    this.decisionSeconds = new Histogram({
      name: 'gatehouse_approval_decision_seconds',
      aggregator: 'max',
      help: 'Time from request to decision (approved or rejected), seen by this process',
      labelNames: ['outcome'],
      buckets: [5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200],
      registers: [this.registry],
    });
    this.waiting = new Gauge({
      name: 'gatehouse_waiting_connections',
      help: 'Connections held open on this node waiting for approval',
      labelNames: ['protocol'],
      registers: [this.registry],
    });
    this.liveSessions = new Gauge({
      name: 'gatehouse_live_sessions',
      help: 'Live proxied sessions on this node',
      labelNames: ['protocol'],
      registers: [this.registry],
    });
    this.bytes = new Gauge({
      name: 'gatehouse_bytes_relayed',
      help: 'Bytes relayed by this node since it started (in = client to device)',
      labelNames: ['protocol', 'direction'],
      registers: [this.registry],
    });
    this.audits = new Gauge({
      name: 'gatehouse_audit_records_written',
      help: 'Audit records written by this process since start, by action (approval transitions count under gatehouse_approval_events_total)',
      labelNames: ['action'],
      registers: [this.registry],
    });
    this.loginFailures = new Gauge({
      name: 'gatehouse_login_failures',
      help: 'Failed logins seen by this process since start',
      registers: [this.registry],
    });
    this.statementsWritten = new Counter({
      name: 'gatehouse_db_statements_written_total',
      help: 'Database statements the audit wrote in this process since start, by protocol',
      labelNames: ['protocol'],
      registers: [this.registry],
    });
    this.statementsDropped = new Counter({
      name: 'gatehouse_db_statements_dropped_total',
      help: 'Database statements the audit dropped in this process since start (queue full or write failed), by protocol',
      labelNames: ['protocol'],
      registers: [this.registry],
    });
    this.countEvents();
    try {
      registerMailMetrics(this.registry, s);
    } catch {
      // mail metrics are optional
    }
  }

  /** Set when this process is one worker of several: asks the primary for the whole node's figures. */
  nodeWide?: () => Promise<string>;

  /** Approval events as this process's bus sees them (every process sees every event). */
  private countEvents(): void {
    this.s.bus.subscribe((e) => {
      if (!e.type.startsWith('approval.')) return;
      this.transitions.inc({ type: e.type });
      const r = requestOf(e);
      if (r && (e.type === 'approval.approved' || e.type === 'approval.rejected') && r.decidedAt && !r.autoApproved)
        this.decisionSeconds.observe({ outcome: r.status }, Math.max(0, (r.decidedAt - r.createdAt) / 1000));
    });
  }

  /** The text /metrics answers: this process's figures, or the node's when it is one worker of several. */
  async render(): Promise<string> {
    if (this.nodeWide) return this.nodeWide();
    await this.refresh();
    return this.registry.metrics();
  }

  /** This process's figures as JSON, for the primary to merge. */
  async part(): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
    await this.refresh();
    return this.registry.getMetricsAsJSON();
  }

  /** Merges the processes' parts into one exposition text. */
  static merge(parts: MetricObjectWithValues<MetricValue<string>>[][]): Promise<string> {
    return AggregatorRegistry.aggregate(parts).metrics();
  }

  private async refresh(): Promise<void> {
    const rows = await this.s.reports.approvalsByStatus();
    this.approvalsByStatus.reset();
    for (const r of rows) this.approvalsByStatus.set({ status: r.status }, r.n);
    this.busLag.set(this.s.bus.lastPollAt ? (Date.now() - this.s.bus.lastPollAt) / 1000 : 0);
    for (const p of PROTOCOLS) {
      this.waiting.set({ protocol: p }, this.s.sessions.waiting(p));
      this.liveSessions.set({ protocol: p }, this.s.sessions.count(p));
    }
    for (const [k, v] of this.s.sessions.bytesRelayed()) {
      const [protocol, direction] = k.split(':');
      this.bytes.set({ protocol, direction }, v);
    }
    let failures = 0;
    for (const [action, n] of this.s.auditCounts) {
      this.audits.set({ action }, n);
      if (/login[.-]failed|login\.blocked/.test(action)) failures += n;
    }
    this.loginFailures.set(failures);
    // The writers count on their own; the counters are set to their totals (reset and inc run without a pause).
    this.statementsWritten.reset();
    this.statementsDropped.reset();
    for (const [protocol, w] of this.s.statementAudits) {
      this.statementsWritten.inc({ protocol }, w.written);
      this.statementsDropped.inc({ protocol }, w.dropped);
    }
  }
}

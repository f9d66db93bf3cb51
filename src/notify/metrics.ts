// Outbox gauges for /metrics. Call registerMailMetrics(metrics.registry, s) once where the registry is built.
import { Gauge, type Registry } from 'prom-client';
import type { Services } from '../services.js';
import { outboxStats } from './outbox.js';

export function registerMailMetrics(registry: Registry, s: Pick<Services, 'mail'>): void {
  let last: Promise<Awaited<ReturnType<typeof outboxStats>>> | null = null;
  // One query per scrape, shared by the gauges below.
  const stats = () => {
    last ??= outboxStats(s).finally(() => setTimeout(() => (last = null), 0));
    return last;
  };
  new Gauge({
    name: 'gatehouse_mail_outbox',
    aggregator: 'first',
    help: 'Mail in the outbox by status (queued and sending = not yet delivered; failed = given up)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const st = await stats();
      for (const k of ['queued', 'sending', 'sent', 'failed'] as const) this.set({ status: k }, st[k]);
    },
  });
  new Gauge({
    name: 'gatehouse_mail_outbox_oldest_unsent_seconds',
    aggregator: 'first',
    help: 'Age of the oldest mail not yet delivered (0 when the outbox is empty)',
    registers: [registry],
    async collect() {
      this.set((await stats()).oldestUnsentSeconds);
    },
  });
}

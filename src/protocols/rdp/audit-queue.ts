// The gateway's audit records go through one queue written one at a time: a flood of bad connections
// then costs one database connection, not the whole pool (which approvals and logins need too). Past
// the limit, refusals are counted instead of queued, and the count is written as one record when the
// queue drains.
import type { AuditEntry } from '../../core/types.js';
import type { Services } from '../../services.js';

export const AUDIT_QUEUE_LIMIT = 1000;

export class AuditQueue {
  private readonly queue: AuditEntry[] = [];
  private dropped = 0;
  private running: Promise<void> | null = null;

  constructor(private readonly s: Services) {}

  push(e: AuditEntry): void {
    if (this.queue.length >= AUDIT_QUEUE_LIMIT) this.dropped++;
    else this.queue.push(e);
    this.running ??= this.drain().finally(() => (this.running = null));
  }

  /** Resolves once everything queued so far is written (shutdown, tests). */
  async flushed(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    for (;;) {
      let e = this.queue.shift();
      if (!e && this.dropped) {
        e = {
          actor: 'system',
          channel: 'system',
          action: 'rdp.refused-unaudited',
          targetType: 'rdp',
          details: { count: this.dropped, why: 'too many refusals at once; these were counted, not recorded one by one' },
        };
        this.dropped = 0;
      }
      if (!e) return;
      try {
        await this.s.audit(e);
      } catch (err) {
        this.s.log.warn({ err: String(err), action: e.action }, 'rdp audit record failed');
      }
    }
  }
}

// The approval events one waiter cares about, queued from the moment it subscribes, plus reads of the
// request at its deadline: the sweeper expires it and the event arrives, the read covers a late sweeper.
import { isApprovalEvent } from '../events.js';
import type { ApprovalEventType, ApprovalRequest } from '../types.js';
import { Inbox } from './inbox.js';
import type { AccessPorts } from './types.js';

export interface Seen {
  /** The event that carried the request, or 'read' when the gate read it itself. */
  type: ApprovalEventType | 'read';
  request: ApprovalRequest;
}

export type FeedPorts = Pick<AccessPorts, 'bus' | 'clock'> & { approvals: Pick<AccessPorts['approvals'], 'get'> };

export class RequestFeed {
  readonly inbox = new Inbox<Seen>();
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: () => void;
  private readonly onAbort = () => this.inbox.close();

  constructor(
    private readonly ports: FeedPorts,
    accept: (r: ApprovalRequest) => boolean,
    private readonly signal: AbortSignal,
    private readonly slackMs = 250,
  ) {
    this.unsubscribe = ports.bus.subscribe((e) => {
      if (isApprovalEvent(e) && accept(e.payload.request)) this.inbox.push({ type: e.type, request: e.payload.request });
    });
    signal.addEventListener('abort', this.onAbort);
    if (signal.aborted) this.inbox.close();
  }

  /**
   * From now on only request `id`'s events are queued. One user's many waiting connections (a crowd, a
   * script) would otherwise each wake for every decision about that user's other requests: 10,000 waits
   * and 2,000 decisions are 20 million wake-ups.
   */
  narrow(id: number): void {
    this.unsubscribe();
    this.unsubscribe = this.ports.bus.subscribeRequest(id, (e) => {
      if (isApprovalEvent(e)) this.inbox.push({ type: e.type, request: e.payload.request });
    });
  }

  /** Queues what the request is now (after a cancel, at its deadline); a failed read changes nothing. */
  read(id: number): void {
    this.ports.approvals
      .get(id)
      .then((r) => r && this.inbox.push({ type: 'read', request: r }))
      .catch(() => {});
  }

  push(request: ApprovalRequest): void {
    this.inbox.push({ type: 'read', request });
  }

  /** Reads the request just after its deadline (once; the latest call wins). */
  armExpiry(r: ApprovalRequest): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (r.expiresAt === null) return;
    const ms = Math.min(2 ** 31 - 1, Math.max(0, r.expiresAt - this.ports.clock.now()) + this.slackMs);
    this.timer = setTimeout(() => this.read(r.id), ms);
    this.timer.unref();
  }

  close(): void {
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.signal.removeEventListener('abort', this.onAbort);
    this.inbox.close();
  }
}

// What webhooks need from the database: the endpoints (their secrets sealed by the vault), the delivery
// outbox with its leases, and the cursor over the audit log that feeds it.
import type { GatehouseEvent } from '../types.js';
import type { AuditFeedRecord } from './audit-feed.js';

export interface Webhook {
  id: number;
  name: string;
  url: string;
  /** Event patterns: `approval.*`, `session.started`, `*`. */
  events: string[];
  /** Sealed by the vault; opened only to sign. */
  secretEnc: string;
  allowHttp: boolean;
  createdAt: number;
  createdBy: string;
}

export type NewWebhook = Omit<Webhook, 'id'>;

export type DeliveryStatus = 'queued' | 'sending' | 'delivered' | 'failed';

export interface NewDelivery {
  deliveryId: string;
  webhookId: number;
  webhookName: string;
  /** Unique per webhook: `audit:<seq>` or `ping:<random>`, so an event is queued once per webhook. */
  eventKey: string;
  eventType: string;
  body: string;
}

export interface Delivery {
  id: number;
  deliveryId: string;
  webhookId: number;
  webhookName: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  responseCode: number | null;
  lastError: string | null;
  nextAttemptAt: number | null;
  createdAt: number;
  deliveredAt: number | null;
}

export interface ClaimedDelivery extends Delivery {
  body: string;
}

export interface WebhookStore {
  addWebhook(w: NewWebhook): Promise<Webhook>;
  webhooks(): Promise<Webhook[]>;
  webhookByName(name: string): Promise<Webhook | undefined>;
  /** Removes the endpoint and gives up its undelivered deliveries (the log keeps them). */
  removeWebhook(name: string): Promise<boolean>;

  /** The audit seq the builder stands at; created at the log's current end, so history is not replayed. */
  cursor(): Promise<number>;
  /** Bus events of `type` written at `at` (the approval engine writes one beside each audit record). */
  eventsAt(type: string, at: number): Promise<GatehouseEvent[]>;
  /** Audit records after `seq`, in seq order. */
  auditAfter(seq: number, limit: number): Promise<AuditFeedRecord[]>;
  /**
   * In one transaction: moves the cursor from `from` to `to` when it still stands at `from`, and queues
   * the deliveries (insert-if-absent on webhook × event). False when another builder moved it first.
   */
  queue(from: number, to: number, rows: NewDelivery[], now: number): Promise<boolean>;
  /** Queues one delivery outside the audit feed (a ping); its id. */
  queueOne(row: NewDelivery, now: number): Promise<number>;

  due(now: number, limit: number): Promise<number[]>;
  /** Conditional update: queued and due, or sending with a lapsed lease. Undefined when someone else has it. */
  claim(id: number, owner: string, now: number, leaseMs: number): Promise<ClaimedDelivery | undefined>;
  /** Records an attempt's outcome while the lease is still ours. */
  finish(
    id: number,
    owner: string,
    o: {
      status: 'delivered' | 'queued' | 'failed';
      responseCode: number | null;
      error: string | null;
      nextAttemptAt: number | null;
      now: number;
    },
  ): Promise<boolean>;
  deliveries(o: { webhook?: string; limit: number; beforeId?: number }): Promise<Delivery[]>;
  delivery(id: number): Promise<Delivery | undefined>;
  /** Drops finished deliveries older than `before`. */
  prune(before: number): Promise<void>;
}

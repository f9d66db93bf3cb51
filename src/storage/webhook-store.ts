// Webhooks' tables (core/ports/webhooks.ts): endpoints, the delivery outbox and its leases, and the
// builder's cursor over the audit log (a `meta` row moved by conditional update, in the same transaction
// as the deliveries it queues, so two builders never queue a batch twice).
import type { Kysely, Selectable } from 'kysely';
import type { AuditFeedRecord } from '../core/ports/audit-feed.js';
import type { GatehouseEvent } from '../core/types.js';
import type { ClaimedDelivery, Delivery, DeliveryStatus, NewDelivery, NewWebhook, Webhook, WebhookStore } from '../core/ports/webhooks.js';
import type { Database, WebhookDeliveriesTable, WebhooksTable } from './schema.js';
import { KyselyAuditFeed } from './audit-feed.js';

const CURSOR = 'webhooks.cursor';

function toWebhook(r: Selectable<WebhooksTable>): Webhook {
  return {
    id: r.id,
    name: r.name,
    url: r.url,
    events: r.events.split(',').filter(Boolean),
    secretEnc: r.secret_enc,
    allowHttp: !!r.allow_http,
    createdAt: Number(r.created_at),
    createdBy: r.created_by,
  };
}

function toDelivery(r: Omit<Selectable<WebhookDeliveriesTable>, 'body' | 'event_key' | 'lease_until' | 'claimed_by'>): Delivery {
  return {
    id: r.id,
    deliveryId: r.delivery_id,
    webhookId: r.webhook_id,
    webhookName: r.webhook_name,
    eventType: r.event_type,
    status: r.status as DeliveryStatus,
    attempts: r.attempts,
    responseCode: r.response_code,
    lastError: r.last_error,
    nextAttemptAt: r.next_attempt_at === null ? null : Number(r.next_attempt_at),
    createdAt: Number(r.created_at),
    deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at),
  };
}

const LISTED = [
  'id',
  'delivery_id',
  'webhook_id',
  'webhook_name',
  'event_type',
  'status',
  'attempts',
  'response_code',
  'last_error',
  'next_attempt_at',
  'created_at',
  'delivered_at',
] as const;

export class KyselyWebhookStore implements WebhookStore {
  private readonly feed: KyselyAuditFeed;
  constructor(private readonly db: Kysely<Database>) {
    this.feed = new KyselyAuditFeed(db);
  }

  async addWebhook(w: NewWebhook): Promise<Webhook> {
    const row = await this.db
      .insertInto('webhooks')
      .values({
        name: w.name,
        url: w.url,
        events: w.events.join(','),
        secret_enc: w.secretEnc,
        allow_http: w.allowHttp ? 1 : 0,
        created_at: w.createdAt,
        created_by: w.createdBy,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toWebhook(row);
  }

  async webhooks(): Promise<Webhook[]> {
    return (await this.db.selectFrom('webhooks').selectAll().orderBy('name').execute()).map(toWebhook);
  }

  async webhookByName(name: string): Promise<Webhook | undefined> {
    const r = await this.db.selectFrom('webhooks').selectAll().where('name', '=', name).executeTakeFirst();
    return r ? toWebhook(r) : undefined;
  }

  async removeWebhook(name: string): Promise<boolean> {
    return this.db.transaction().execute(async (t) => {
      const w = await t.selectFrom('webhooks').select('id').where('name', '=', name).executeTakeFirst();
      if (!w) return false;
      await t
        .updateTable('webhook_deliveries')
        .set({ status: 'failed', next_attempt_at: null, lease_until: null, last_error: 'webhook removed', delivered_at: null })
        .where('webhook_id', '=', w.id)
        .where('status', 'in', ['queued', 'sending'])
        .execute();
      await t.deleteFrom('webhooks').where('id', '=', w.id).execute();
      return true;
    });
  }

  async cursor(): Promise<number> {
    const r = await this.db.selectFrom('meta').select('value').where('key', '=', CURSOR).executeTakeFirst();
    if (r) return Number(r.value);
    const end = await this.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.max('seq').as('m'))
      .executeTakeFirst();
    await this.db
      .insertInto('meta')
      .values({ key: CURSOR, value: String(Number(end?.m ?? 0) || 0) })
      .onConflict((oc) => oc.doNothing())
      .execute();
    const again = await this.db.selectFrom('meta').select('value').where('key', '=', CURSOR).executeTakeFirstOrThrow();
    return Number(again.value);
  }

  async eventsAt(type: string, at: number): Promise<GatehouseEvent[]> {
    const rows = await this.db.selectFrom('events').selectAll().where('at', '=', at).where('type', '=', type).limit(50).execute();
    return rows.map((r) => ({ id: r.id, at: Number(r.at), type: r.type, payload: JSON.parse(r.payload) as Record<string, unknown> }));
  }

  auditAfter(seq: number, limit: number): Promise<AuditFeedRecord[]> {
    return this.feed.after(seq, limit);
  }

  queue(from: number, to: number, rows: NewDelivery[], now: number): Promise<boolean> {
    return this.db.transaction().execute(async (t) => {
      // The conditional move comes first: on PostgreSQL it locks the cursor row, so a second builder
      // waits here, then finds the cursor moved and queues nothing.
      const moved = await t
        .updateTable('meta')
        .set({ value: String(to) })
        .where('key', '=', CURSOR)
        .where('value', '=', String(from))
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) !== 1) return false;
      for (const r of rows) await this.insert(t, r, now);
      return true;
    });
  }

  private async insert(db: Kysely<Database>, r: NewDelivery, now: number): Promise<number | undefined> {
    const got = await db
      .insertInto('webhook_deliveries')
      .values({
        delivery_id: r.deliveryId,
        webhook_id: r.webhookId,
        webhook_name: r.webhookName,
        event_key: r.eventKey,
        event_type: r.eventType,
        body: r.body,
        status: 'queued',
        attempts: 0,
        next_attempt_at: now,
        lease_until: null,
        claimed_by: null,
        response_code: null,
        last_error: null,
        created_at: now,
        delivered_at: null,
      })
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    return got?.id;
  }

  async queueOne(row: NewDelivery, now: number): Promise<number> {
    const id = await this.insert(this.db, row, now);
    if (id === undefined) throw new Error('webhook delivery already queued');
    return id;
  }

  async due(now: number, limit: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'queued'), eb('next_attempt_at', '<=', now)]),
          eb.and([eb('status', '=', 'sending'), eb('lease_until', '<', now)]),
        ]),
      )
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  async claim(id: number, owner: string, now: number, leaseMs: number): Promise<ClaimedDelivery | undefined> {
    const r = await this.db
      .updateTable('webhook_deliveries')
      .set((eb) => ({ status: 'sending', lease_until: now + leaseMs, claimed_by: owner, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id)
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'queued'), eb('next_attempt_at', '<=', now)]),
          eb.and([eb('status', '=', 'sending'), eb('lease_until', '<', now)]),
        ]),
      )
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return undefined;
    const row = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('id', '=', id)
      .where('claimed_by', '=', owner)
      .executeTakeFirst();
    return row ? { ...toDelivery(row), body: row.body } : undefined;
  }

  async finish(
    id: number,
    owner: string,
    o: {
      status: 'delivered' | 'queued' | 'failed';
      responseCode: number | null;
      error: string | null;
      nextAttemptAt: number | null;
      now: number;
    },
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('webhook_deliveries')
      .set({
        status: o.status,
        response_code: o.responseCode,
        last_error: o.error === null ? null : o.error.slice(0, 400),
        next_attempt_at: o.nextAttemptAt,
        lease_until: null,
        delivered_at: o.status === 'delivered' ? o.now : null,
      })
      .where('id', '=', id)
      .where('claimed_by', '=', owner)
      .where('status', '=', 'sending')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async deliveries(o: { webhook?: string; limit: number; beforeId?: number }): Promise<Delivery[]> {
    let q = this.db.selectFrom('webhook_deliveries').select(LISTED).orderBy('id', 'desc').limit(o.limit);
    if (o.webhook !== undefined) q = q.where('webhook_name', '=', o.webhook);
    if (o.beforeId !== undefined) q = q.where('id', '<', o.beforeId);
    return (await q.execute()).map(toDelivery);
  }

  async delivery(id: number): Promise<Delivery | undefined> {
    const r = await this.db.selectFrom('webhook_deliveries').select(LISTED).where('id', '=', id).executeTakeFirst();
    return r ? toDelivery(r) : undefined;
  }

  async prune(before: number): Promise<void> {
    await this.db
      .deleteFrom('webhook_deliveries')
      .where('status', 'in', ['delivered', 'failed'])
      .where('created_at', '<', before)
      .execute();
  }
}

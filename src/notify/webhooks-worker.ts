// Webhook delivery from a durable outbox. The builder follows the audit log from a cursor and queues one
// row per webhook × event (the cursor moves in the same transaction, by conditional update, and a unique
// index backs it: an event is queued once, whichever node gets there first). The worker claims due rows
// with a conditional update and a lease, POSTs them signed, and retries with exponential backoff.
// Delivery is at-least-once: a node that dies after the receiver got the POST but before recording the
// answer loses its lease, and the row is sent again, with the same Gatehouse-Delivery id.
import { randomBytes } from 'node:crypto';
import type { ClaimedDelivery, Delivery, NewDelivery, Webhook } from '../core/ports/webhooks.js';
import type { Services } from '../services.js';
import { requestOf } from '../core/events.js';
import { eventOf, matches } from './webhooks-events.js';
import { POST_DEFAULTS, postJson, signature, type PostOptions } from './webhooks-http.js';

export interface WebhookOptions {
  pollMs: number;
  /** A claimed row is someone else's to retry once this passes; well above post.timeoutMs. */
  leaseMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Attempts before a row is marked failed. */
  maxAttempts: number;
  /** Deliveries in flight at once per process. */
  concurrency: number;
  post: PostOptions;
}

/** 30 s, 1, 2, 4, 8, 16, 32 min (each plus up to 10% jitter), then failed at the 8th attempt: about an hour. */
export const WEBHOOK_DEFAULTS: WebhookOptions = {
  pollMs: 1000,
  leaseMs: 60_000,
  retryBaseMs: 30_000,
  retryMaxMs: 3600_000,
  maxAttempts: 8,
  concurrency: 4,
  post: POST_DEFAULTS,
};

const BATCH = 200;
const KEEP_MS = 30 * 24 * 3600_000;

export function backoffMs(o: Pick<WebhookOptions, 'retryBaseMs' | 'retryMaxMs'>, attempts: number): number {
  const base = Math.min(o.retryMaxMs, o.retryBaseMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
  return base + Math.floor(Math.random() * base * 0.1);
}

const ownerOf = (s: Services) => `${s.nodeId}:${process.pid}:${randomBytes(3).toString('hex')}`.slice(0, 80);

/** Signs and POSTs one claimed row, then records the outcome while the lease is ours. */
async function attempt(
  s: Services,
  o: WebhookOptions,
  owner: string,
  d: ClaimedDelivery,
  w: Webhook | undefined,
  final: boolean,
): Promise<void> {
  const now = () => s.clock.now();
  if (!w) {
    await s.webhooks.finish(d.id, owner, {
      status: 'failed',
      responseCode: null,
      error: 'webhook removed',
      nextAttemptAt: null,
      now: now(),
    });
    return;
  }
  let secret: string;
  try {
    secret = s.vault.open(w.secretEnc);
  } catch (err) {
    await s.webhooks.finish(d.id, owner, {
      status: 'failed',
      responseCode: null,
      error: (err as Error).message,
      nextAttemptAt: null,
      now: now(),
    });
    return;
  }
  const headers = {
    'user-agent': 'Gatehouse-Webhooks/1',
    'gatehouse-delivery': d.deliveryId,
    'gatehouse-event': d.eventType,
    'gatehouse-signature': signature(secret, d.body, Math.floor(Date.now() / 1000)),
  };
  const r = await postJson(w.url, headers, d.body, o.post);
  const ok = r.error === null;
  const giveUp = !ok && (final || d.attempts >= o.maxAttempts);
  const status = ok ? 'delivered' : giveUp ? 'failed' : 'queued';
  const next = status === 'queued' ? Date.now() + backoffMs(o, d.attempts) : null;
  const kept = await s.webhooks.finish(d.id, owner, { status, responseCode: r.status, error: r.error, nextAttemptAt: next, now: now() });
  const log = { webhook: w.name, delivery: d.deliveryId, event: d.eventType, attempts: d.attempts, status: r.status };
  if (!kept) s.log.warn(log, 'webhook lease lapsed before the answer was recorded; the delivery will be sent again');
  else if (!ok)
    s.log.warn({ ...log, err: r.error, giveUp }, giveUp ? 'webhook delivery failed for good' : 'webhook delivery failed; will retry');
}

/** Delivers one queued row now, once, whatever its schedule says (`webhook test`). */
export async function deliverNow(s: Services, id: number, o: WebhookOptions = WEBHOOK_DEFAULTS): Promise<Delivery> {
  const owner = ownerOf(s);
  const d = await s.webhooks.claim(id, owner, Date.now(), o.leaseMs);
  if (d)
    await attempt(
      s,
      o,
      owner,
      d,
      (await s.webhooks.webhooks()).find((w) => w.id === d.webhookId),
      true,
    );
  return (await s.webhooks.delivery(id))!;
}

/** Turns audit records into delivery rows. Safe on any number of nodes at once. */
export class WebhookBuilder {
  constructor(private readonly s: Services) {}

  async runOnce(): Promise<number> {
    let queued = 0;
    for (let round = 0; round < 20; round++) {
      const from = await this.s.webhooks.cursor();
      const recs = await this.s.webhooks.auditAfter(from, BATCH);
      if (!recs.length) break;
      const hooks = await this.s.webhooks.webhooks();
      const rows = hooks.length ? await this.rows(hooks, recs) : [];
      if (await this.s.webhooks.queue(from, recs[recs.length - 1].seq!, rows, Date.now())) queued += rows.length;
      if (recs.length < BATCH) break;
    }
    return queued;
  }

  private async rows(hooks: Webhook[], recs: Awaited<ReturnType<Services['webhooks']['auditAfter']>>): Promise<NewDelivery[]> {
    const inputs = {
      policy: await this.s.policy.current(),
      request: (id: number) => this.s.store.getRequest(id),
      snapshot: async (type: string, at: number, id: number) =>
        (await this.s.webhooks.eventsAt(type, at)).map(requestOf).find((r) => r?.id === id),
      now: this.s.clock.now(),
      publicUrl: this.s.config.publicUrl,
    };
    const rows: NewDelivery[] = [];
    for (const rec of recs) {
      const e = await eventOf(rec, inputs);
      if (!e) continue;
      const body = JSON.stringify(e);
      for (const w of hooks)
        if (w.createdAt <= rec.at && matches(w.events, e.type))
          rows.push({
            deliveryId: `whd_${randomBytes(12).toString('hex')}`,
            webhookId: w.id,
            webhookName: w.name,
            eventKey: `audit:${rec.seq}`,
            eventType: e.type,
            body,
          });
    }
    return rows;
  }
}

export class WebhookWorker {
  private readonly owner: string;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private lastPrune = 0;
  readonly builder: WebhookBuilder;
  lastError: unknown = null;

  constructor(
    private readonly s: Services,
    private readonly o: WebhookOptions = WEBHOOK_DEFAULTS,
  ) {
    this.owner = ownerOf(s);
    this.builder = new WebhookBuilder(s);
  }

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.kick().finally(loop), this.o.pollMs);
      this.timer.unref();
    };
    void this.kick();
    loop();
  }

  /** Build and deliver now; a call during a pass waits for that pass. */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.pass()
      .catch((err) => {
        this.lastError = err;
        this.s.log.warn({ err: String(err) }, 'webhook worker failed; will retry');
      })
      .finally(() => (this.running = null));
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private async pass(): Promise<void> {
    await this.builder.runOnce();
    for (let round = 0; round < 50 && !this.stopped; round++) {
      const due = await this.s.webhooks.due(Date.now(), 50);
      if (!due.length) break;
      const hooks = await this.s.webhooks.webhooks();
      let claimed = 0;
      const queue = [...due];
      const lane = async () => {
        for (let id = queue.shift(); id !== undefined && !this.stopped; id = queue.shift()) {
          const d = await this.s.webhooks.claim(id, this.owner, Date.now(), this.o.leaseMs);
          if (!d) continue;
          claimed++;
          await attempt(
            this.s,
            this.o,
            this.owner,
            d,
            hooks.find((w) => w.id === d.webhookId),
            false,
          );
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, this.o.concurrency) }, lane));
      if (!claimed) break;
    }
    if (Date.now() - this.lastPrune > 600_000) {
      this.lastPrune = Date.now();
      await this.s.webhooks.prune(Date.now() - KEEP_MS);
    }
  }
}

/** Starts delivery on a running node; approval events wake it early. */
export function startWebhooks(s: Services, o: WebhookOptions = WEBHOOK_DEFAULTS): { worker: WebhookWorker; stop(): Promise<void> } {
  const worker = new WebhookWorker(s, o);
  worker.start();
  const unsubscribe = s.bus.subscribe((e) => {
    if (e.type.startsWith('approval.')) void worker.kick();
  });
  return {
    worker,
    async stop() {
      unsubscribe();
      await worker.stop();
    },
  };
}

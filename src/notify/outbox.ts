// The outbox worker: claims queued mail with a conditional update (so with several workers or nodes each
// mail is claimed by one), sends it with nodemailer, retries with exponential backoff, and gives up only
// after GATEHOUSE_MAIL_GIVE_UP_HOURS or on a permanent (5xx) refusal. A worker that dies mid-send loses
// its lease and the mail is sent again with the same Message-ID (SMTP is at-least-once at that instant);
// a worker that lives marks what it sent, retrying the mark through a busy database while its lease holds.
// Rows are unique per request × recipient × kind × occurrence (builder.ts), so a mail is queued once.
import nodemailer, { type Transporter } from 'nodemailer';
import type { Services } from '../services.js';
import type { MailHeaders } from './compose.js';
import type { MailConfig } from './config.js';
import { mailDb, type MailDb, type MailOutboxTable } from './schema.js';
import type { Selectable } from 'kysely';

export interface OutboxStats {
  queued: number;
  sending: number;
  failed: number;
  sent: number;
  /** Age in seconds of the oldest mail not yet sent (queued or sending); 0 when none. */
  oldestUnsentSeconds: number;
  lastError: string | null;
}

export async function outboxStats(s: Pick<Services, 'store'>, now = Date.now()): Promise<OutboxStats> {
  const db = mailDb(s);
  const rows = await db.selectFrom('mail_outbox').select(['status', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.min('created_at').as('oldest')]).groupBy('status').execute();
  const out: OutboxStats = { queued: 0, sending: 0, failed: 0, sent: 0, oldestUnsentSeconds: 0, lastError: null };
  let oldest = Infinity;
  for (const r of rows) {
    out[r.status as 'queued'] = Number(r.n);
    if (r.status === 'queued' || r.status === 'sending') oldest = Math.min(oldest, Number(r.oldest));
  }
  if (oldest !== Infinity) out.oldestUnsentSeconds = Math.max(0, (now - oldest) / 1000);
  const last = await db.selectFrom('mail_outbox').select('last_error').where('last_error', 'is not', null).orderBy('id', 'desc').limit(1).executeTakeFirst();
  out.lastError = last?.last_error ?? null;
  return out;
}

/** Strips anything credential-like from transport errors before they are stored or logged. */
function describe(err: unknown): string {
  const e = err as { code?: string; responseCode?: number; message?: string };
  const msg = (e.message ?? String(err)).replace(/\/\/[^@\s/]*@/g, '//***@').slice(0, 300);
  return [e.code, e.responseCode, msg].filter((x) => x !== undefined).join(' ');
}

export class OutboxWorker {
  private transporter: Transporter | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly me: string;
  sentCount = 0;

  constructor(
    private readonly s: Services,
    private readonly cfg: MailConfig,
  ) {
    this.me = `${s.nodeId}:${process.pid}`.slice(0, 64);
    // Pooled: an open connection is reused (a new SMTP session costs ~100 ms); it reconnects after outages.
    if (cfg.transport) this.transporter = nodemailer.createTransport({ ...cfg.transport, pool: true, maxConnections: 1, maxMessages: 100 });
  }

  start(): void {
    this.schedule();
    void this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => {});
    this.transporter?.close();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.kick().finally(() => this.schedule());
    }, this.cfg.workerPollMs);
    this.timer.unref();
  }

  kick(): Promise<void> {
    if (this.stopped || !this.transporter) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.drain()
      .catch((err) => this.s.log.warn({ err: describe(err) }, 'mail outbox worker failed; will retry'))
      .finally(() => {
        this.running = null;
        if (this.again && !this.stopped) {
          this.again = false;
          void this.kick();
        }
      });
    return this.running;
  }

  private async drain(): Promise<void> {
    const db = mailDb(this.s);
    for (;;) {
      if (this.stopped) return;
      const now = Date.now();
      const due = await db
        .selectFrom('mail_outbox')
        .select('id')
        .where((eb) => eb.or([eb.and([eb('status', '=', 'queued'), eb('next_attempt_at', '<=', now)]), eb.and([eb('status', '=', 'sending'), eb('lease_until', '<', now)])]))
        .orderBy('id')
        .limit(20)
        .execute();
      if (!due.length) return;
      let claimedAny = false;
      for (const { id } of due) {
        const mail = await this.claim(db, id);
        if (!mail) continue;
        claimedAny = true;
        await this.send(db, mail);
      }
      if (!claimedAny) return;
    }
  }

  /** One conditional update: exactly one worker gets the row. */
  private async claim(db: MailDb, id: number): Promise<Selectable<MailOutboxTable> | undefined> {
    const now = Date.now();
    const r = await db
      .updateTable('mail_outbox')
      .set((eb) => ({ status: 'sending', lease_until: now + this.cfg.leaseMs, claimed_by: this.me, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id)
      .where((eb) => eb.or([eb.and([eb('status', '=', 'queued'), eb('next_attempt_at', '<=', now)]), eb.and([eb('status', '=', 'sending'), eb('lease_until', '<', now)])]))
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return undefined;
    return db.selectFrom('mail_outbox').selectAll().where('id', '=', id).where('claimed_by', '=', this.me).executeTakeFirst();
  }

  private async send(db: MailDb, m: Selectable<MailOutboxTable>): Promise<void> {
    const h = JSON.parse(m.headers) as MailHeaders;
    try {
      await this.transporter!.sendMail({
        from: this.cfg.from,
        to: m.to_addr,
        subject: m.subject,
        text: m.text_body ?? '',
        html: m.html_body ?? undefined,
        messageId: m.message_id,
        replyTo: h.replyTo,
        inReplyTo: h.inReplyTo,
        references: h.references,
        headers: h.autoSubmitted ? { 'Auto-Submitted': h.autoSubmitted } : undefined,
        // Keep mail small and predictable: no tracking, no extra headers from the transport.
        disableFileAccess: true,
        disableUrlAccess: true,
      });
    } catch (err) {
      await this.failed(db, m, err);
      return;
    }
    await this.markSent(db, m);
    this.sentCount++;
  }

  /**
   * Sent: forget the bodies (they carry single-use link tokens). The mail is out, so this mark must not
   * be lost to a busy database: an unmarked row is sent again when its lease passes. It is tried again,
   * with backoff, for as long as the lease holds.
   */
  private async markSent(db: MailDb, m: Selectable<MailOutboxTable>): Promise<void> {
    const until = Date.now() + Math.max(1000, this.cfg.leaseMs - 1000);
    for (let delay = 50; ; delay = Math.min(delay * 2, 2000)) {
      try {
        await db
          .updateTable('mail_outbox')
          .set({ status: 'sent', sent_at: Date.now(), lease_until: null, text_body: null, html_body: null, last_error: null })
          .where('id', '=', m.id)
          .where('claimed_by', '=', this.me)
          .where('status', '=', 'sending')
          .execute();
        return;
      } catch (err) {
        if (Date.now() + delay >= until) throw err;
        this.s.log.warn({ mail: m.id, err: describe(err) }, 'could not mark a sent mail; trying again');
        await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
      }
    }
  }

  private async failed(db: MailDb, m: Selectable<MailOutboxTable>, err: unknown): Promise<void> {
    const now = Date.now();
    const code = (err as { responseCode?: number }).responseCode;
    const permanent = typeof code === 'number' && code >= 500 && code < 600;
    const giveUp = permanent || now - m.created_at > this.cfg.giveUpMs;
    const backoff = Math.min(this.cfg.retryMaxMs, this.cfg.retryBaseMs * 2 ** Math.min(20, m.attempts - 1));
    const jitter = Math.floor(Math.random() * Math.min(1000, backoff / 4));
    await db
      .updateTable('mail_outbox')
      .set({ status: giveUp ? 'failed' : 'queued', next_attempt_at: now + backoff + jitter, lease_until: null, last_error: describe(err) })
      .where('id', '=', m.id)
      .where('claimed_by', '=', this.me)
      .where('status', '=', 'sending')
      .execute();
    this.s.log.warn({ mail: m.id, kind: m.kind, attempts: m.attempts, err: describe(err), giveUp }, giveUp ? 'mail failed permanently' : 'mail not sent; will retry');
  }
}

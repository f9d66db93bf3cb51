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
import type { ClaimedMail, OutboxStats } from '../core/ports/mail.js';

export type { OutboxStats } from '../core/ports/mail.js';

export function outboxStats(s: Pick<Services, 'mail'>, now = Date.now()): Promise<OutboxStats> {
  return s.mail.outboxStats(now);
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
    for (;;) {
      if (this.stopped) return;
      const due = await this.s.mail.dueMail(Date.now(), 20);
      if (!due.length) return;
      let claimedAny = false;
      for (const id of due) {
        const mail = await this.s.mail.claimMail(id, this.me, Date.now(), this.cfg.leaseMs);
        if (!mail) continue;
        claimedAny = true;
        await this.send(mail);
      }
      if (!claimedAny) return;
    }
  }

  private async send(m: ClaimedMail): Promise<void> {
    const h = JSON.parse(m.headers) as MailHeaders;
    // A process stalled past its lease (a starved CPU) may have lost the mail to another: then it does not send.
    if (!(await this.s.mail.renewMail(m.id, this.me, Date.now(), this.cfg.leaseMs))) return;
    try {
      await this.transporter!.sendMail({
        from: this.cfg.from,
        to: m.to,
        subject: m.subject,
        text: m.text ?? '',
        html: m.html ?? undefined,
        messageId: m.messageId,
        replyTo: h.replyTo,
        inReplyTo: h.inReplyTo,
        references: h.references,
        headers: h.autoSubmitted ? { 'Auto-Submitted': h.autoSubmitted } : undefined,
        // Keep mail small and predictable: no tracking, no extra headers from the transport.
        disableFileAccess: true,
        disableUrlAccess: true,
      });
    } catch (err) {
      await this.failed(m, err);
      return;
    }
    await this.markSent(m);
    this.sentCount++;
  }

  /**
   * Sent: forget the bodies (they carry single-use link tokens). The mail is out, so this mark must not
   * be lost to a busy database: an unmarked row is sent again when its lease passes. It is tried again,
   * with backoff, for as long as the lease holds.
   */
  private async markSent(m: ClaimedMail): Promise<void> {
    const until = Date.now() + Math.max(1000, this.cfg.leaseMs - 1000);
    for (let delay = 50; ; delay = Math.min(delay * 2, 2000)) {
      try {
        await this.s.mail.markSent(m.id, this.me, Date.now());
        return;
      } catch (err) {
        if (Date.now() + delay >= until) throw err;
        this.s.log.warn({ mail: m.id, err: describe(err) }, 'could not mark a sent mail; trying again');
        await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
      }
    }
  }

  private async failed(m: ClaimedMail, err: unknown): Promise<void> {
    const now = Date.now();
    const code = (err as { responseCode?: number }).responseCode;
    const permanent = typeof code === 'number' && code >= 500 && code < 600;
    const giveUp = permanent || now - m.createdAt > this.cfg.giveUpMs;
    const backoff = Math.min(this.cfg.retryMaxMs, this.cfg.retryBaseMs * 2 ** Math.min(20, m.attempts - 1));
    const jitter = Math.floor(Math.random() * Math.min(1000, backoff / 4));
    await this.s.mail.markFailed(m.id, this.me, { giveUp, nextAttemptAt: now + backoff + jitter, error: describe(err) });
    this.s.log.warn(
      { mail: m.id, kind: m.kind, attempts: m.attempts, err: describe(err), giveUp },
      giveUp ? 'mail failed permanently' : 'mail not sent; will retry',
    );
  }
}

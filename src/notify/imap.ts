// The IMAP poller (imapflow + mailparser). Each pass reads messages in the mailbox that do not carry the
// $GatehouseProcessed keyword, processes them, then flags them (\Seen and $GatehouseProcessed) or moves
// them to GATEHOUSE_IMAP_PROCESSED_MAILBOX. The inbound Message-ID table makes a crash between processing
// and flagging harmless: on restart the message is seen as already processed and only flagged.
import { ImapFlow } from 'imapflow';
import type { Services } from '../services.js';
import type { ImapConfig } from './config.js';
import type { ReplyProcessor } from './replies.js';
import { MAX_BYTES } from './smtp-in.js';

export const PROCESSED_KEYWORD = '$GatehouseProcessed';

export class ImapPoller {
  private client: ImapFlow | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private running: Promise<void> | null = null;
  private failures = 0;
  lastError: string | null = null;
  processed = 0;
  /** Messages skipped because they were larger than MAX_BYTES. */
  tooLarge = 0;

  constructor(
    private readonly s: Services,
    private readonly cfg: ImapConfig,
    private readonly replies: ReplyProcessor,
  ) {}

  start(): void {
    this.tick(0);
  }

  private tick(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass()
        .then(() => {
          this.failures = 0;
          this.lastError = null;
        })
        .catch(async (err) => {
          this.failures++;
          this.lastError = String((err as Error).message ?? err).slice(0, 200);
          this.s.log.warn({ err: this.lastError, host: this.cfg.host, mailbox: this.cfg.mailbox }, 'imap poll failed; will retry');
          await this.disconnect();
        })
        .finally(() => {
          this.running = null;
          this.tick(Math.min(60_000, this.cfg.pollMs * 2 ** Math.min(5, this.failures)));
        });
    }, delay);
    this.timer.unref();
  }

  private async connect(): Promise<ImapFlow> {
    if (this.client?.usable) return this.client;
    await this.disconnect();
    const c = new ImapFlow({
      host: this.cfg.host,
      port: this.cfg.port,
      secure: this.cfg.secure,
      auth: { user: this.cfg.user, pass: this.cfg.pass },
      logger: false,
      disableAutoIdle: true,
      // Without these a server that accepts and then goes silent holds a pass (and shutdown) for
      // imapflow's default 5 minutes; the SMTP transport uses 30 s the same way.
      connectionTimeout: Math.min(10_000, this.cfg.timeoutMs),
      greetingTimeout: Math.min(10_000, this.cfg.timeoutMs),
      socketTimeout: this.cfg.timeoutMs,
      // A server's answers are bounded too (imapflow's defaults allow 1 GiB literals): a message is
      // never larger than a reply may be, so a lying or broken server fails the connection, not memory.
      maxLiteralSize: MAX_BYTES + 64 * 1024,
      maxLineLength: 4 * 1024 * 1024,
      maxResponseSize: 8 * 1024 * 1024,
    });
    c.on('error', (err: Error) => this.s.log.warn({ err: String(err.message) }, 'imap connection error'));
    await c.connect();
    if (this.cfg.processedMailbox) await c.mailboxCreate(this.cfg.processedMailbox).catch(() => {}); // exists already: fine
    this.client = c;
    return c;
  }

  private async disconnect(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c) await c.logout().catch(() => c.close());
  }

  /** Who holds the poller lease: this process (workers of a node share the node id). */
  private get me(): string {
    return `${this.s.nodeId}:${process.pid}`.slice(0, 80);
  }

  /** One pass over the mailbox, when this process holds the poller lease. Exposed for tests. */
  async pass(): Promise<void> {
    // Several pollers of one mailbox would read each message twice; the second would look like a replay.
    if (!(await this.s.mail.takeImapLease(this.me, Date.now(), Math.max(30_000, 3 * this.cfg.pollMs)))) return;
    const c = await this.connect();
    const lock = await c.getMailboxLock(this.cfg.mailbox);
    try {
      const uids = (await c.search({ unKeyword: PROCESSED_KEYWORD }, { uid: true })) || [];
      for (const uid of uids) {
        if (this.stopped) return;
        const meta = await c.fetchOne(String(uid), { size: true }, { uid: true });
        if (!meta) continue;
        if ((meta.size ?? 0) > MAX_BYTES) {
          // Not downloaded: marked processed so it is not looked at again, and logged for the admin.
          this.s.log.warn(
            { uid, size: meta.size, limit: MAX_BYTES, mailbox: this.cfg.mailbox },
            'imap: message larger than a reply may be; skipped',
          );
          this.tooLarge++;
        } else {
          const msg = await c.fetchOne(String(uid), { source: { maxLength: MAX_BYTES } }, { uid: true });
          if (!msg || !msg.source) continue;
          await this.replies.process(msg.source, { via: 'imap' });
          this.processed++;
        }
        await c.messageFlagsAdd(String(uid), ['\\Seen', PROCESSED_KEYWORD], { uid: true });
        if (this.cfg.processedMailbox) await c.messageMove(String(uid), this.cfg.processedMailbox, { uid: true });
      }
    } finally {
      lock.release();
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.running) {
      // A pass gets a moment to finish; one stuck on a silent server is cut off (a reply processed but
      // not yet flagged is recognised by its Message-ID next time, so cutting is safe).
      const finished = await Promise.race([
        this.running.then(
          () => true,
          () => true,
        ),
        new Promise<false>((r) => setTimeout(() => r(false), 2000).unref()),
      ]);
      if (!finished) {
        this.client?.close();
        await this.running.catch(() => {});
      }
    }
    await this.disconnect();
    await this.s.mail.releaseImapLease(this.me).catch(() => {});
  }
}

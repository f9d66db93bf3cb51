// Mail: outbound notifications through a durable outbox, approve/reject by link or by reply (SMTP
// listener, IMAP poller). See docs/email.md.
import type { Services } from '../services.js';
import { OutboxBuilder } from './builder.js';
import { loadMailConfig, mailSource, type MailConfig } from './config.js';
import { ImapPoller } from './imap.js';
import { OutboxWorker } from './outbox.js';
import { ReplyProcessor } from './replies.js';
import { startSmtpListener, type SmtpListener } from './smtp-in.js';

export interface Notifier {
  /** Ports of inbound listeners, when any (SMTP). */
  smtpInPort?: number;
  close(): Promise<void>;
}

export interface RunningNotify extends Notifier {
  cfg: MailConfig;
  builder: OutboxBuilder;
  worker: OutboxWorker;
  replies: ReplyProcessor;
  imap: ImapPoller | null;
}

const BUILDER_POLL_MS = 1000;

/**
 * Starts the outbox builder and worker, the inbound SMTP listener when GATEHOUSE_SMTP_IN_PORT is set
 * (0 = a free port, returned), and the IMAP poller when GATEHOUSE_IMAP_URL is set. Without
 * GATEHOUSE_SMTP_URL (or console settings) mail still queues durably and is sent once SMTP is configured.
 */
export async function startNotify(s: Services): Promise<RunningNotify> {
  const cfg = await loadMailConfig(s);
  const worker = new OutboxWorker(s, cfg);
  const builder = new OutboxBuilder(s, cfg, () => void worker.kick());
  const replies = new ReplyProcessor(s, cfg, () => void worker.kick());
  const source = await mailSource(s);
  if (!cfg.transport) s.log.warn(source.summary);
  else s.log.info({ mailTransport: source.transport, smtpServer: source.server }, source.summary);

  const unsubscribe = s.bus.subscribe((e) => {
    if (e.type.startsWith('approval.')) void builder.kick();
  });
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const loop = () => {
    if (stopped) return;
    timer = setTimeout(() => void builder.kick().finally(loop), BUILDER_POLL_MS);
    timer.unref();
  };
  await builder.kick();
  loop();
  worker.start();

  let smtp: SmtpListener | null = null;
  if (s.config.smtpInPort !== undefined) smtp = await startSmtpListener(s, replies, s.config.smtpInPort);
  const imap = cfg.imap ? new ImapPoller(s, cfg.imap, replies) : null;
  imap?.start();

  return {
    cfg,
    builder,
    worker,
    replies,
    imap,
    smtpInPort: smtp?.port,
    async close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      unsubscribe();
      await smtp?.close();
      await imap?.close();
      await worker.stop();
    },
  };
}

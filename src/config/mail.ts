// Mail's variables turned into connection settings: the SMTP transport from GATEHOUSE_SMTP_URL and the
// IMAP mailbox from GATEHOUSE_IMAP_URL (both validated by loadConfig in env.ts).
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { MailEnv } from './env.js';

export interface ImapConfig {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  pass: string;
  mailbox: string;
  /** Where processed mail is moved; unset = flagged \Seen and $GatehouseProcessed in place. */
  processedMailbox?: string;
  pollMs: number;
  /** Silence on the IMAP connection (a hung server, a lost route) after which it is dropped and reopened. */
  timeoutMs: number;
}

export function transportFromUrl(url: string): SMTPTransport.Options {
  const u = new URL(url);
  const secure = u.protocol === 'smtps:';
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : secure ? 465 : 587,
    secure,
    auth: u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : undefined,
    // smtp:// upgrades with STARTTLS when the server offers it; ?starttls=required insists on it.
    requireTLS: u.searchParams.get('starttls') === 'required',
    ignoreTLS: u.searchParams.get('starttls') === 'off',
    tls: u.searchParams.get('tls') === 'insecure' ? { rejectUnauthorized: false } : undefined,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  };
}

export function imapFromUrl(url: string, m: Pick<MailEnv, 'imapProcessedMailbox' | 'imapPollMs' | 'imapTimeoutMs'>): ImapConfig {
  const u = new URL(url);
  if (u.protocol !== 'imap:' && u.protocol !== 'imaps:') throw new Error('GATEHOUSE_IMAP_URL must start with imap:// or imaps://');
  const secure = u.protocol === 'imaps:';
  const mailbox = decodeURIComponent(u.pathname.replace(/^\/+/, '')) || 'INBOX';
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : secure ? 993 : 143,
    secure,
    user: decodeURIComponent(u.username),
    pass: decodeURIComponent(u.password),
    mailbox,
    processedMailbox: m.imapProcessedMailbox,
    pollMs: m.imapPollMs,
    timeoutMs: m.imapTimeoutMs,
  };
}

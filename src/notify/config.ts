// Mail configuration: GATEHOUSE_SMTP_URL / GATEHOUSE_MAIL_FROM from the validated config, the console's
// mail settings (password in the vault) as a fallback, and the notify-only variables read here.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { Services } from '../services.js';
import { mailDb } from './schema.js';

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

export interface MailConfig {
  /** Outbound transport; undefined = mail is off (mails still queue, nothing is sent). */
  transport?: SMTPTransport.Options;
  from: string;
  /** Replies go here, plus-addressed with the request's secret: approvals+<secret>@domain. */
  replyAddress: string;
  /** Domain of Message-IDs. */
  domain: string;
  publicUrl: string;
  imap?: ImapConfig;
  templatesDirs: string[];
  retryBaseMs: number;
  retryMaxMs: number;
  /** Mail still unsent this long after it was queued is marked failed. */
  giveUpMs: number;
  workerPollMs: number;
  /** How long a worker holds a claimed mail; a worker that died releases it when this passes. */
  leaseMs: number;
}

const num = (v: string | undefined, def: number) => (v && /^\d+$/.test(v) ? Number(v) : def);

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

export function imapFromUrl(url: string, env: NodeJS.ProcessEnv): ImapConfig {
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
    processedMailbox: env.GATEHOUSE_IMAP_PROCESSED_MAILBOX || undefined,
    pollMs: num(env.GATEHOUSE_IMAP_POLL_MS, 2000),
    timeoutMs: num(env.GATEHOUSE_IMAP_TIMEOUT_MS, 30_000),
  };
}

/** The repo's default templates (templates/mail beside src/ and dist/). */
export const DEFAULT_TEMPLATES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates', 'mail');

export interface MailSettings {
  host?: string;
  port?: number;
  /** 'tls' (smtps), 'starttls' (required) or 'none'. */
  security?: 'tls' | 'starttls' | 'none';
  user?: string;
  from?: string;
  /** Whether a password is stored (it is kept encrypted in the vault, never returned). */
  hasPassword?: boolean;
}

/** The console's mail settings (for the settings page). The password never leaves. */
export async function readMailSettings(s: Services): Promise<MailSettings> {
  const rows = await mailDb(s).selectFrom('mail_settings').selectAll().execute();
  const m = new Map(rows.map((r) => [r.key, r.value]));
  return {
    host: m.get('host'),
    port: m.has('port') ? Number(m.get('port')) : undefined,
    security: m.get('security') as MailSettings['security'],
    user: m.get('user'),
    from: m.get('from'),
    hasPassword: m.has('password'),
  };
}

/** Saves console mail settings; `password` is encrypted with the vault. Env variables still win at start-up. */
export async function saveMailSettings(s: Services, patch: Omit<MailSettings, 'hasPassword'> & { password?: string | null }): Promise<void> {
  const db = mailDb(s);
  const now = Date.now();
  const entries: [string, string | null][] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if (k === 'password') entries.push(['password', v === null ? null : s.vault.seal(String(v))]);
    else entries.push([k, v === null ? null : String(v)]);
  }
  await db.transaction().execute(async (t) => {
    for (const [key, value] of entries) {
      await t.deleteFrom('mail_settings').where('key', '=', key).execute();
      if (value !== null) await t.insertInto('mail_settings').values({ key, value, updated_at: now }).execute();
    }
  });
}

async function transportFromSettings(s: Services): Promise<{ transport?: SMTPTransport.Options; from?: string }> {
  const rows = await mailDb(s).selectFrom('mail_settings').selectAll().execute();
  const m = new Map(rows.map((r) => [r.key, r.value]));
  const from = m.get('from');
  if (!m.get('host')) return { from };
  const security = m.get('security') ?? 'starttls';
  const secure = security === 'tls';
  const enc = m.get('password');
  return {
    from,
    transport: {
      host: m.get('host'),
      port: m.has('port') ? Number(m.get('port')) : secure ? 465 : 587,
      secure,
      requireTLS: security === 'starttls',
      ignoreTLS: security === 'none',
      auth: m.get('user') ? { user: m.get('user')!, pass: enc ? s.vault.open(enc) : '' } : undefined,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    },
  };
}

export async function loadMailConfig(s: Services, env: NodeJS.ProcessEnv = process.env): Promise<MailConfig> {
  const fromSettings = await transportFromSettings(s).catch(() => ({ transport: undefined, from: undefined }));
  const transport = s.config.smtpUrl ? transportFromUrl(s.config.smtpUrl) : fromSettings.transport;
  const from = s.config.mailFrom ?? fromSettings.from ?? 'gatehouse@localhost';
  const fromAddr = /<([^>]+)>/.exec(from)?.[1] ?? from;
  const domain = fromAddr.split('@')[1] ?? 'localhost';
  const replyAddress = env.GATEHOUSE_MAIL_REPLY_TO || `approvals@${domain}`;
  const templatesDirs = [env.GATEHOUSE_MAIL_TEMPLATES_DIR || join(s.config.dataDir, 'templates', 'mail'), DEFAULT_TEMPLATES_DIR];
  return {
    transport,
    from,
    replyAddress,
    domain,
    publicUrl: s.config.publicUrl,
    imap: env.GATEHOUSE_IMAP_URL ? imapFromUrl(env.GATEHOUSE_IMAP_URL, env) : undefined,
    templatesDirs,
    retryBaseMs: num(env.GATEHOUSE_MAIL_RETRY_BASE_MS, 1000),
    retryMaxMs: num(env.GATEHOUSE_MAIL_RETRY_MAX_MS, 300_000),
    giveUpMs: num(env.GATEHOUSE_MAIL_GIVE_UP_HOURS, 48) * 3600_000,
    workerPollMs: num(env.GATEHOUSE_MAIL_POLL_MS, 1000),
    leaseMs: num(env.GATEHOUSE_MAIL_LEASE_MS, 60_000),
  };
}

/** approvals@example.com + secret -> approvals+secret@example.com */
export function plusAddress(addr: string, secret: string): string {
  const [local, domain] = addr.split('@');
  return `${local}+${secret}@${domain}`;
}

// Mail configuration: GATEHOUSE_SMTP_URL / GATEHOUSE_MAIL_FROM and mail's own variables from the one
// validated config (src/config/env.ts), the console's mail settings (password in the vault) as a fallback.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { loadConfig } from '../config/env.js';
import { imapFromUrl, transportFromUrl, type ImapConfig } from '../config/mail.js';
import type { Services } from '../services.js';

export { imapFromUrl, transportFromUrl, type ImapConfig };

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
  const m = await s.mail.settings();
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
export async function saveMailSettings(
  s: Services,
  patch: Omit<MailSettings, 'hasPassword'> & { password?: string | null },
): Promise<void> {
  const now = Date.now();
  const entries: [string, string | null][] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if (k === 'password') entries.push(['password', v === null ? null : s.vault.seal(String(v))]);
    else entries.push([k, v === null ? null : String(v)]);
  }
  await s.mail.saveSettings(entries, now);
}

async function transportFromSettings(s: Services): Promise<{ transport?: SMTPTransport.Options; from?: string }> {
  const m = await s.mail.settings();
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

/** Where the outgoing transport and the sender come from. The environment wins over the console. */
export interface MailSource {
  transport: 'environment' | 'console' | 'off';
  from: 'environment' | 'console' | 'default';
  /** host:port of the SMTP server in use (never a user or password); null when mail is off. */
  server: string | null;
  /** One sentence for the start-up log and the console's mail form. */
  summary: string;
}

/** Which mail settings win, and why, in words: GATEHOUSE_SMTP_URL, else the console's mail settings, else off. */
export async function mailSource(s: Services): Promise<MailSource> {
  const m = await s.mail.settings().catch(() => new Map<string, string>());
  const from = s.config.mailFrom ? 'environment' : m.get('from') ? 'console' : 'default';
  if (s.config.smtpUrl) {
    const t = transportFromUrl(s.config.smtpUrl);
    const server = `${t.host}:${t.port}`;
    const ignored = m.get('host') ? ': it wins over the SMTP settings saved in the console, which are ignored' : '';
    return { transport: 'environment', from, server, summary: `mail goes out through GATEHOUSE_SMTP_URL (${server})${ignored}` };
  }
  const host = m.get('host');
  if (host) {
    const security = m.get('security') ?? 'starttls';
    const server = `${host}:${m.get('port') ?? (security === 'tls' ? 465 : 587)}`;
    return {
      transport: 'console',
      from,
      server,
      summary: `mail goes out through the console's mail settings (${server}); GATEHOUSE_SMTP_URL, when set, wins over them`,
    };
  }
  return {
    transport: 'off',
    from,
    server: null,
    summary:
      'mail is off: set the SMTP host in the console (System Parameters > Mail) or GATEHOUSE_SMTP_URL, which wins; mail is queued and sent once one is set',
  };
}

/**
 * Mail's settings from the validated config. `env`, when given, is validated the same way and replaces
 * the config's mail variables (tests and tools that build a mail config apart from a running gateway).
 */
export async function loadMailConfig(s: Services, env?: NodeJS.ProcessEnv): Promise<MailConfig> {
  const m = env ? loadConfig({ GATEHOUSE_DATA_DIR: s.config.dataDir, ...env }).mail : s.config.mail;
  const fromSettings = await transportFromSettings(s).catch(() => ({ transport: undefined, from: undefined }));
  const transport = s.config.smtpUrl ? transportFromUrl(s.config.smtpUrl) : fromSettings.transport;
  const from = s.config.mailFrom ?? fromSettings.from ?? 'gatehouse@localhost';
  const fromAddr = /<([^>]+)>/.exec(from)?.[1] ?? from;
  const domain = fromAddr.split('@')[1] ?? 'localhost';
  const replyAddress = m.replyTo ?? `approvals@${domain}`;
  const templatesDirs = [m.templatesDir ?? join(s.config.dataDir, 'templates', 'mail'), DEFAULT_TEMPLATES_DIR];
  return {
    transport,
    from,
    replyAddress,
    domain,
    publicUrl: s.config.publicUrl,
    imap: m.imapUrl ? imapFromUrl(m.imapUrl, m) : undefined,
    templatesDirs,
    retryBaseMs: m.retryBaseMs,
    retryMaxMs: m.retryMaxMs,
    giveUpMs: m.giveUpMs,
    workerPollMs: m.pollMs,
    leaseMs: m.leaseMs,
  };
}

/** approvals@example.com + secret -> approvals+secret@example.com */
export function plusAddress(addr: string, secret: string): string {
  const [local, domain] = addr.split('@');
  return `${local}+${secret}@${domain}`;
}

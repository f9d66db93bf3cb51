// Configuration, parsed once from the environment into a typed, validated object. Invalid config exits
// with a message that names the variable. Every variable is documented in README.md.
import { z } from 'zod';
import { resolve } from 'node:path';

const port = (def: number) =>
  z.coerce.number().int().min(0).max(65535).default(def);
/** An integer from `min` to `max`: a typo stops the process instead of becoming a default. */
const int = (min: number, max: number, def: number) => z.coerce.number().int(`must be an integer from ${min} to ${max}`).min(min, `must be an integer from ${min} to ${max}`).max(max, `must be an integer from ${min} to ${max}`).default(def);
const HOST_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

const schema = z.object({
  /** Where SQLite, the vault key, host keys and recordings live. */
  GATEHOUSE_DATA_DIR: z.string().min(1).default('./data'),
  /** postgres://… switches storage to PostgreSQL; unset = embedded SQLite in the data dir. */
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://').optional(),
  /** Address every listener binds to. */
  GATEHOUSE_BIND: z.string().min(1).default('127.0.0.1'),
  GATEHOUSE_WEB_PORT: port(8080),
  GATEHOUSE_SSH_PORT: port(2222),
  GATEHOUSE_HTTP_PROXY_PORT: port(8081),
  GATEHOUSE_RDP_PORT: port(3389),
  /** Inbound SMTP for email replies; off unless set. */
  GATEHOUSE_SMTP_IN_PORT: port(0).optional(),
  /** Password of the first admin, used on first run only. */
  GATEHOUSE_ADMIN_PASSWORD: z.string().min(8, 'needs at least 8 characters').optional(),
  /** Vault key; when unset a random key is generated into <data dir>/secret.key (mode 0600). */
  GATEHOUSE_SECRET_KEY: z.string().min(16, 'needs at least 16 characters').optional(),
  /** Base of links in mail. */
  GATEHOUSE_PUBLIC_URL: z.string().url().optional(),
  /** smtp://user:pass@host:port or smtps://…; mail is off when unset. */
  GATEHOUSE_SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://').optional(),
  GATEHOUSE_MAIL_FROM: z.string().optional(),
  /** Stable id of this node (several nodes on one PostgreSQL); generated into the data dir when unset. */
  GATEHOUSE_NODE_ID: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(),
  /** pino level: fatal, error, warn, info, debug, trace, silent. */
  GATEHOUSE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** How often each process polls the event table, in ms. */
  GATEHOUSE_EVENT_POLL_MS: z.coerce.number().int().min(20).max(5000).default(200),
  /** Where SSH session recordings go (default <data dir>/recordings). */
  GATEHOUSE_RECORDINGS_DIR: z.string().min(1).optional(),
  /** SIEM export: append every audit record as a JSON line to this file. */
  GATEHOUSE_SIEM_FILE: z.string().min(1).optional(),
  /** SIEM export: RFC 5424 syslog to udp://host:514, tcp://host:514 or tls://host:6514 (?verify=off for self-signed). */
  GATEHOUSE_SYSLOG_URL: z.string().regex(/^(udp|tcp|tls):\/\/[^/]+/, 'must look like udp://host:514, tcp://host:514 or tls://host:6514').optional(),
  /** How often expiry and escalation run, in ms. */
  GATEHOUSE_SWEEP_MS: z.coerce.number().int().min(100).max(600000).default(2000),

  // The HTTP proxy (docs/http.md).
  /** Devices are served on `<device>.<base domain>`. */
  GATEHOUSE_HTTP_BASE_DOMAIN: z
    .string()
    .transform((v) => v.toLowerCase().replace(/^\.+|\.+$/g, ''))
    .refine((v) => HOST_RE.test(v), 'is not a domain name')
    .default('localhost'),
  /** TLS on the proxy listener: PEM certificate and key files, both or neither. */
  GATEHOUSE_HTTP_TLS_CERT: z.string().min(1).optional(),
  GATEHOUSE_HTTP_TLS_KEY: z.string().min(1).optional(),
  /** The port browsers see (a load balancer in front); default: the listening port. */
  GATEHOUSE_HTTP_PUBLIC_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  GATEHOUSE_HTTP_UPSTREAM_TIMEOUT_MS: int(100, 600_000, 30_000),
  GATEHOUSE_HTTP_IDLE_MINUTES: int(1, 10_080, 30),

  // Mail (docs/email.md).
  GATEHOUSE_MAIL_REPLY_TO: z.string().regex(/^[^\s@<>]+@[^\s@<>]+$/, 'must be an address like approvals@example.com').optional(),
  GATEHOUSE_MAIL_TEMPLATES_DIR: z.string().min(1).optional(),
  GATEHOUSE_MAIL_RETRY_BASE_MS: int(10, 3_600_000, 1000),
  GATEHOUSE_MAIL_RETRY_MAX_MS: int(10, 86_400_000, 300_000),
  GATEHOUSE_MAIL_GIVE_UP_HOURS: int(1, 8760, 48),
  GATEHOUSE_MAIL_POLL_MS: int(10, 600_000, 1000),
  GATEHOUSE_MAIL_LEASE_MS: int(100, 3_600_000, 60_000),
  /** imap://user:pass@host:143/INBOX or imaps://…: the mailbox replies are read from. */
  GATEHOUSE_IMAP_URL: z
    .string()
    .regex(/^imaps?:\/\/[^/]+/, 'must look like imap://user:pass@host:143/INBOX or imaps://…')
    .refine((v) => URL.canParse(v), 'is not a valid URL')
    .optional(),
  GATEHOUSE_IMAP_PROCESSED_MAILBOX: z.string().min(1).optional(),
  GATEHOUSE_IMAP_POLL_MS: int(50, 3_600_000, 2000),
  GATEHOUSE_IMAP_TIMEOUT_MS: int(100, 600_000, 30_000),
});

export type Env = z.infer<typeof schema>;

export interface Config {
  dataDir: string;
  sqlitePath: string;
  databaseUrl?: string;
  bind: string;
  webPort: number;
  sshPort: number;
  httpProxyPort: number;
  rdpPort: number;
  smtpInPort?: number;
  adminPassword?: string;
  secretKey?: string;
  publicUrl: string;
  smtpUrl?: string;
  mailFrom?: string;
  nodeId?: string;
  logLevel: Env['GATEHOUSE_LOG_LEVEL'];
  eventPollMs: number;
  sweepMs: number;
  siemFile?: string;
  syslogUrl?: string;
  recordingsDir: string;
  http: HttpSettings;
  mail: MailEnv;
}

/** The HTTP proxy's variables; the TLS files are read when the proxy starts. */
export interface HttpSettings {
  baseDomain: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  publicPort: number | null;
  upstreamTimeoutMs: number;
  idleMs: number;
}

/** Mail's own variables (the SMTP URL and sender are in Config itself). */
export interface MailEnv {
  replyTo?: string;
  templatesDir?: string;
  retryBaseMs: number;
  retryMaxMs: number;
  giveUpMs: number;
  pollMs: number;
  leaseMs: number;
  imapUrl?: string;
  imapProcessedMailbox?: string;
  imapPollMs: number;
  imapTimeoutMs: number;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const clean = Object.fromEntries(Object.entries(env).filter(([k, v]) => k in schema.shape && v !== ''));
  const r = schema.safeParse(clean);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = r.data;
  if (!!e.GATEHOUSE_HTTP_TLS_CERT !== !!e.GATEHOUSE_HTTP_TLS_KEY)
    throw new ConfigError(`invalid configuration:\n  ${e.GATEHOUSE_HTTP_TLS_CERT ? 'GATEHOUSE_HTTP_TLS_KEY' : 'GATEHOUSE_HTTP_TLS_CERT'}: GATEHOUSE_HTTP_TLS_CERT and GATEHOUSE_HTTP_TLS_KEY go together: set both or neither`);
  const dataDir = resolve(e.GATEHOUSE_DATA_DIR);
  return {
    dataDir,
    sqlitePath: resolve(dataDir, 'gatehouse.db'),
    databaseUrl: e.DATABASE_URL,
    bind: e.GATEHOUSE_BIND,
    webPort: e.GATEHOUSE_WEB_PORT,
    sshPort: e.GATEHOUSE_SSH_PORT,
    httpProxyPort: e.GATEHOUSE_HTTP_PROXY_PORT,
    rdpPort: e.GATEHOUSE_RDP_PORT,
    smtpInPort: e.GATEHOUSE_SMTP_IN_PORT,
    adminPassword: e.GATEHOUSE_ADMIN_PASSWORD,
    secretKey: e.GATEHOUSE_SECRET_KEY,
    publicUrl: (e.GATEHOUSE_PUBLIC_URL ?? `http://127.0.0.1:${e.GATEHOUSE_WEB_PORT}`).replace(/\/+$/, ''),
    smtpUrl: e.GATEHOUSE_SMTP_URL,
    mailFrom: e.GATEHOUSE_MAIL_FROM,
    nodeId: e.GATEHOUSE_NODE_ID,
    logLevel: e.GATEHOUSE_LOG_LEVEL,
    eventPollMs: e.GATEHOUSE_EVENT_POLL_MS,
    sweepMs: e.GATEHOUSE_SWEEP_MS,
    siemFile: e.GATEHOUSE_SIEM_FILE ? resolve(e.GATEHOUSE_SIEM_FILE) : undefined,
    syslogUrl: e.GATEHOUSE_SYSLOG_URL,
    recordingsDir: resolve(e.GATEHOUSE_RECORDINGS_DIR ?? resolve(dataDir, 'recordings')),
    http: {
      baseDomain: e.GATEHOUSE_HTTP_BASE_DOMAIN,
      tlsCertFile: e.GATEHOUSE_HTTP_TLS_CERT,
      tlsKeyFile: e.GATEHOUSE_HTTP_TLS_KEY,
      publicPort: e.GATEHOUSE_HTTP_PUBLIC_PORT ?? null,
      upstreamTimeoutMs: e.GATEHOUSE_HTTP_UPSTREAM_TIMEOUT_MS,
      idleMs: e.GATEHOUSE_HTTP_IDLE_MINUTES * 60_000,
    },
    mail: {
      replyTo: e.GATEHOUSE_MAIL_REPLY_TO,
      templatesDir: e.GATEHOUSE_MAIL_TEMPLATES_DIR,
      retryBaseMs: e.GATEHOUSE_MAIL_RETRY_BASE_MS,
      retryMaxMs: e.GATEHOUSE_MAIL_RETRY_MAX_MS,
      giveUpMs: e.GATEHOUSE_MAIL_GIVE_UP_HOURS * 3600_000,
      pollMs: e.GATEHOUSE_MAIL_POLL_MS,
      leaseMs: e.GATEHOUSE_MAIL_LEASE_MS,
      imapUrl: e.GATEHOUSE_IMAP_URL,
      imapProcessedMailbox: e.GATEHOUSE_IMAP_PROCESSED_MAILBOX,
      imapPollMs: e.GATEHOUSE_IMAP_POLL_MS,
      imapTimeoutMs: e.GATEHOUSE_IMAP_TIMEOUT_MS,
    },
  };
}

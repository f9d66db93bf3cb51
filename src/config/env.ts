// Configuration, parsed once from the environment into a typed, validated object. Invalid config exits
// with a message that names the variable. Every variable is documented in README.md.
import { resolve } from 'node:path';
import { integer, mapped, matching, oneOf, parseEnv, rules, str, url, type Parsed } from './checks.js';

const port = (def: number) => ({ check: integer({ min: 0, max: 65535 }), default: def });
/** An integer from `min` to `max`: a typo stops the process instead of becoming a default. */
const int = (min: number, max: number, def: number) => ({
  check: integer({ min, max, message: `must be an integer from ${min} to ${max}` }),
  default: def,
});
const optional = <T>(check: (raw: string) => T) => ({ check });
const HOST_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const schema = {
  /** Where SQLite, the vault key, host keys and recordings live. */
  GATEHOUSE_DATA_DIR: { check: str(), default: './data' },
  /** postgres://… switches storage to PostgreSQL; unset = embedded SQLite in the data dir. */
  DATABASE_URL: optional(matching(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')),
  /** Address every listener binds to. */
  GATEHOUSE_BIND: { check: str(), default: '127.0.0.1' },
  GATEHOUSE_WEB_PORT: port(8080),
  GATEHOUSE_SSH_PORT: port(2222),
  GATEHOUSE_HTTP_PROXY_PORT: port(8081),
  GATEHOUSE_RDP_PORT: port(3389),
  /** Database listeners (docs/databases.md); a busy port turns that listener off, loudly. */
  GATEHOUSE_POSTGRES_PORT: port(6432),
  GATEHOUSE_MYSQL_PORT: port(3307),
  /** TLS for the database listeners: PEM files, both or neither (neither: a self-signed pair in the data dir). */
  GATEHOUSE_DB_TLS_CERT: optional(str()),
  GATEHOUSE_DB_TLS_KEY: optional(str()),
  /** true (default): a client that will not use TLS is refused with a message naming sslmode=require / --ssl. */
  GATEHOUSE_DB_TLS_REQUIRED: { check: oneOf(['true', 'false'] as const), default: 'true' as 'true' | 'false' },
  /** Inbound SMTP for email replies; off unless set. */
  GATEHOUSE_SMTP_IN_PORT: port(0),
  /** Password of the first admin, used on first run only. */
  GATEHOUSE_ADMIN_PASSWORD: optional(rules([(v) => v.length >= 8, 'needs at least 8 characters'])),
  /** Vault key; when unset a random key is generated into <data dir>/secret.key (mode 0600). */
  GATEHOUSE_SECRET_KEY: optional(rules([(v) => v.length >= 16, 'needs at least 16 characters'])),
  /** Base of links in mail. */
  GATEHOUSE_PUBLIC_URL: optional(url()),
  /** smtp://user:pass@host:port or smtps://…; mail is off when unset. */
  GATEHOUSE_SMTP_URL: optional(matching(/^smtps?:\/\//, 'must start with smtp:// or smtps://')),
  GATEHOUSE_MAIL_FROM: optional(str()),
  /** Stable id of this node (several nodes on one PostgreSQL); generated into the data dir when unset. */
  GATEHOUSE_NODE_ID: optional(matching(/^[A-Za-z0-9._-]{1,64}$/)),
  /** pino level: fatal, error, warn, info, debug, trace, silent. */
  GATEHOUSE_LOG_LEVEL: { check: oneOf(LOG_LEVELS), default: 'info' as (typeof LOG_LEVELS)[number] },
  /** How often each process polls the event table, in ms. */
  GATEHOUSE_EVENT_POLL_MS: { check: integer({ min: 20, max: 5000 }), default: 200 },
  /** Where SSH session recordings go (default <data dir>/recordings). */
  GATEHOUSE_RECORDINGS_DIR: optional(str()),
  /** SIEM export: append every audit record as a JSON line to this file. */
  GATEHOUSE_SIEM_FILE: optional(str()),
  /** SIEM export: RFC 5424 syslog to udp://host:514, tcp://host:514 or tls://host:6514 (?verify=off for self-signed). */
  GATEHOUSE_SYSLOG_URL: optional(matching(/^(udp|tcp|tls):\/\/[^/]+/, 'must look like udp://host:514, tcp://host:514 or tls://host:6514')),
  /** How often expiry and escalation run, in ms. */
  GATEHOUSE_SWEEP_MS: { check: integer({ min: 100, max: 600000 }), default: 2000 },

  // The HTTP proxy (docs/http.md).
  /** Devices are served on `<device>.<base domain>`. */
  GATEHOUSE_HTTP_BASE_DOMAIN: {
    check: mapped((v) => v.toLowerCase().replace(/^\.+|\.+$/g, ''), matching(HOST_RE, 'is not a domain name')),
    default: 'localhost',
  },
  /** TLS on the proxy listener: PEM certificate and key files, both or neither. */
  GATEHOUSE_HTTP_TLS_CERT: optional(str()),
  GATEHOUSE_HTTP_TLS_KEY: optional(str()),
  /** The port browsers see (a load balancer in front); default: the listening port. */
  GATEHOUSE_HTTP_PUBLIC_PORT: optional(integer({ min: 1, max: 65535 })),
  GATEHOUSE_HTTP_UPSTREAM_TIMEOUT_MS: int(100, 600_000, 30_000),
  GATEHOUSE_HTTP_IDLE_MINUTES: int(1, 10_080, 30),

  // Mail (docs/email.md).
  GATEHOUSE_MAIL_REPLY_TO: optional(matching(/^[^\s@<>]+@[^\s@<>]+$/, 'must be an address like approvals@example.com')),
  GATEHOUSE_MAIL_TEMPLATES_DIR: optional(str()),
  GATEHOUSE_MAIL_RETRY_BASE_MS: int(10, 3_600_000, 1000),
  GATEHOUSE_MAIL_RETRY_MAX_MS: int(10, 86_400_000, 300_000),
  GATEHOUSE_MAIL_GIVE_UP_HOURS: int(1, 8760, 48),
  GATEHOUSE_MAIL_POLL_MS: int(10, 600_000, 1000),
  GATEHOUSE_MAIL_LEASE_MS: int(100, 3_600_000, 60_000),
  /** imap://user:pass@host:143/INBOX or imaps://…: the mailbox replies are read from. */
  GATEHOUSE_IMAP_URL: optional(
    rules(
      [(v) => /^imaps?:\/\/[^/]+/.test(v), 'must look like imap://user:pass@host:143/INBOX or imaps://…'],
      [(v) => URL.canParse(v), 'is not a valid URL'],
    ),
  ),
  GATEHOUSE_IMAP_PROCESSED_MAILBOX: optional(str()),
  GATEHOUSE_IMAP_POLL_MS: int(50, 3_600_000, 2000),
  GATEHOUSE_IMAP_TIMEOUT_MS: int(100, 600_000, 30_000),
};

export type Env = Parsed<typeof schema>;

export interface Config {
  dataDir: string;
  sqlitePath: string;
  databaseUrl?: string;
  bind: string;
  webPort: number;
  sshPort: number;
  httpProxyPort: number;
  rdpPort: number;
  postgresPort: number;
  mysqlPort: number;
  db: DbSettings;
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

/** The database listeners' TLS settings; the files are read when a listener starts. */
export interface DbSettings {
  tlsCertFile?: string;
  tlsKeyFile?: string;
  tlsRequired: boolean;
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
  const r = parseEnv(schema, env);
  if (!r.ok) throw new ConfigError(`invalid configuration:\n${r.errors.join('\n')}`);
  const e = r.value;
  if (!!e.GATEHOUSE_HTTP_TLS_CERT !== !!e.GATEHOUSE_HTTP_TLS_KEY)
    throw new ConfigError(
      `invalid configuration:\n  ${e.GATEHOUSE_HTTP_TLS_CERT ? 'GATEHOUSE_HTTP_TLS_KEY' : 'GATEHOUSE_HTTP_TLS_CERT'}: GATEHOUSE_HTTP_TLS_CERT and GATEHOUSE_HTTP_TLS_KEY go together: set both or neither`,
    );
  if (!!e.GATEHOUSE_DB_TLS_CERT !== !!e.GATEHOUSE_DB_TLS_KEY)
    throw new ConfigError(`invalid configuration:\n  GATEHOUSE_DB_TLS_CERT and GATEHOUSE_DB_TLS_KEY go together: set both or neither`);
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
    postgresPort: e.GATEHOUSE_POSTGRES_PORT,
    mysqlPort: e.GATEHOUSE_MYSQL_PORT,
    db: { tlsCertFile: e.GATEHOUSE_DB_TLS_CERT, tlsKeyFile: e.GATEHOUSE_DB_TLS_KEY, tlsRequired: e.GATEHOUSE_DB_TLS_REQUIRED === 'true' },
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

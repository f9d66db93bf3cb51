// Configuration, parsed once from the environment into a typed, validated object. Invalid config exits
// with a message that names the variable. Every variable is documented in README.md.
import { z } from 'zod';
import { resolve } from 'node:path';

const port = (def: number) =>
  z.coerce.number().int().min(0).max(65535).default(def);

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
  };
}

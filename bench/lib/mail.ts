// Mail test kit: a real SMTP sink (smtp-server) that can go down and come back on the same port, a
// gateway started with start(env) on a temp data dir, and small polling helpers.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { start, type Running } from '../../src/main.js';
import { freePort } from './net.js';
export { sleep, waitFor } from './wait.js';

export interface SinkMessage {
  raw: string;
  parsed: ParsedMail;
  rcpt: string[];
  at: number;
}

export interface Sink {
  port: number;
  messages: SinkMessage[];
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
  to(addr: string): SinkMessage[];
}

export { freePort };

/** A real SMTP server on 127.0.0.1 that records what it accepts. */
export async function startSink(): Promise<Sink> {
  const messages: SinkMessage[] = [];
  let server: SMTPServer | null = null;
  let port = 0;
  const listen = async () => {
    const srv = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      // No reverse DNS of the client: it costs a lookup per connection and decides nothing here.
      disableReverseLookup: true,
      logger: false,
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          simpleParser(raw)
            .then((parsed) => {
              messages.push({ raw, parsed, rcpt: session.envelope.rcptTo.map((r) => r.address), at: Date.now() });
              cb();
            })
            .catch(cb);
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      srv.server.once('error', reject);
      srv.listen(port, '127.0.0.1', () => resolve());
    });
    port = (srv.server.address() as AddressInfo).port;
    server = srv;
  };
  await listen();
  const close = async () => {
    const srv = server;
    server = null;
    if (srv) await new Promise<void>((r) => srv.close(() => r()));
  };
  return {
    get port() {
      return port;
    },
    messages,
    down: close,
    up: listen,
    close,
    to: (addr) => messages.filter((m) => m.rcpt.includes(addr)),
  };
}

/** Test knobs for mail: startGateway passes them in start(env); child processes inherit them from process.env. */
export const mailKnobs: Record<string, string> = {};
export function fastMailEnv(extra: Record<string, string> = {}): void {
  Object.assign(mailKnobs, {
    GATEHOUSE_MAIL_RETRY_BASE_MS: '100',
    GATEHOUSE_MAIL_RETRY_MAX_MS: '400',
    GATEHOUSE_MAIL_POLL_MS: '100',
    ...extra,
  });
  Object.assign(process.env, mailKnobs);
}

export interface Gateway {
  g: Running;
  dir: string;
  env: Record<string, string>;
  web: string;
  restart(extra?: Record<string, string>): Promise<Running>;
  stop(): Promise<void>;
}

export async function startGateway(
  sinkPort: number,
  extra: Record<string, string> = {},
  dir = mkdtempSync(join(tmpdir(), 'gh-mail-')),
): Promise<Gateway> {
  const env: Record<string, string> = {
    GATEHOUSE_DATA_DIR: dir,
    GATEHOUSE_WEB_PORT: '0',
    GATEHOUSE_SSH_PORT: '0',
    GATEHOUSE_RDP_PORT: '0',
    GATEHOUSE_POSTGRES_PORT: '0',
    GATEHOUSE_MYSQL_PORT: '0',
    GATEHOUSE_HTTP_PROXY_PORT: '0',
    GATEHOUSE_SMTP_IN_PORT: '0',
    GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${sinkPort}`,
    GATEHOUSE_MAIL_FROM: 'Gatehouse <gatehouse@gh.test>',
    GATEHOUSE_EVENT_POLL_MS: process.env.GATEHOUSE_EVENT_POLL_MS ?? '50',
    GATEHOUSE_ADMIN_PASSWORD: 'admin-pass-123',
    GATEHOUSE_SECRET_KEY: 'test-vault-key-0123456789abcdef',
    GATEHOUSE_LOG_LEVEL: 'silent',
    ...mailKnobs,
    ...extra,
  };
  const gw: Gateway = {
    g: await start(env),
    dir,
    env,
    web: '',
    async restart(more = {}) {
      await gw.g.stop();
      Object.assign(gw.env, more);
      gw.g = await start(gw.env);
      gw.web = `http://127.0.0.1:${gw.g.webPort}`;
      return gw.g;
    },
    async stop() {
      await gw.g.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  gw.web = `http://127.0.0.1:${gw.g.webPort}`;
  return gw;
}

export const SUBJECT = (id: number, instance = 'Gatehouse') => `${instance} - Connection Approval Notification - #${id}`;

/** The Approve / Reject links of an approver mail. */
export function links(m: SinkMessage): { approve: string; reject: string } {
  const text = m.parsed.text ?? '';
  const approve = /Approve: (\S+)/.exec(text)?.[1];
  const reject = /Reject:\s+(\S+)/.exec(text)?.[1];
  if (!approve || !reject) throw new Error(`no links in mail:\n${text}`);
  return { approve, reject };
}

/** A reply to an approver mail, the way a mail client writes one. */
export function replyTo(
  m: SinkMessage,
  from: string,
  firstLine: string,
  o: { replyTo?: string; references?: string | null; messageId?: string } = {},
) {
  const rt = o.replyTo ?? m.parsed.replyTo?.value[0]?.address ?? '';
  const refs = o.references === null ? undefined : (o.references ?? m.parsed.messageId);
  const quoted = (m.parsed.text ?? '')
    .split('\n')
    .map((l) => `> ${l}`)
    .join('\n');
  return {
    from,
    to: rt,
    subject: `Re: ${m.parsed.subject}`,
    inReplyTo: refs,
    references: refs,
    messageId: o.messageId,
    text: `${firstLine}\n\nOn some day, Gatehouse wrote:\n${quoted}\n`,
  };
}

/** Sends a mail to an SMTP port (the gateway's listener) and returns the raw message it sent. */
export async function sendTo(port: number, mail: SendMailOptions): Promise<void> {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  try {
    await t.sendMail(mail);
  } finally {
    t.close();
  }
}

/** The raw RFC 822 bytes of a mail (for IMAP APPEND or a replay). */
export async function rawMail(mail: SendMailOptions): Promise<Buffer> {
  const t = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  const info = await t.sendMail(mail);
  return info.message as Buffer;
}

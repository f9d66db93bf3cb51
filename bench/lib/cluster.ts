// Real gateway node processes, an SMTP sink and CPU hogs, shared by the cluster tests and benchmarks.
// Imports only src/ and packages (benchmarks import nothing from test/).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

const ENTRY = fileURLToPath(new URL('./cli-entry.ts', import.meta.url));

export { freePort, waitForPort } from './net.js';
import { freePort, waitForPort, waitForRunning } from './net.js';

export interface Node {
  name: string;
  proc: ChildProcess;
  web: number;
  ssh: number;
  dir: string;
  log: string[];
}

export async function startNode(name: string, env: Record<string, string>): Promise<Node> {
  const [web, ssh] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), `gh-node-${name}-`));
  const log: string[] = [];
  const proc = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'serve'], {
    env: {
      ...process.env,
      ...env,
      GATEHOUSE_DATA_DIR: dir,
      GATEHOUSE_NODE_ID: `node-${name}`,
      GATEHOUSE_WEB_PORT: String(web),
      GATEHOUSE_SSH_PORT: String(ssh),
      GATEHOUSE_HTTP_PROXY_PORT: '0',
      GATEHOUSE_RDP_PORT: '0',
      GATEHOUSE_POSTGRES_PORT: '0',
      GATEHOUSE_MYSQL_PORT: '0',
      GATEHOUSE_LOG_LEVEL: 'warn',
      GATEHOUSE_SWEEP_MS: '300',
      GATEHOUSE_MAIL_RETRY_BASE_MS: '100',
      GATEHOUSE_MAIL_RETRY_MAX_MS: '400',
      GATEHOUSE_MAIL_POLL_MS: '100',
      // A mail claimed by a node that is then killed goes out again once its lease passes: with the
      // default 60 s that fell right at the kill -9 test's 60 s wait under load.
      GATEHOUSE_MAIL_LEASE_MS: '15000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => log.push(String(d)));
  proc.stderr!.on('data', (d) => log.push(String(d)));
  try {
    await waitForRunning(proc, log, 60_000);
    await waitForPort(web, 10_000);
    await waitForPort(ssh, 10_000);
  } catch (err) {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}; node ${name} said: ${log.join('').slice(-2000)}`);
  }
  return { name, proc, web, ssh, dir, log };
}

export async function stopNode(n: Node): Promise<void> {
  if (n.proc.exitCode === null && !n.proc.signalCode) {
    n.proc.kill('SIGTERM');
    await new Promise((r) => n.proc.once('exit', r));
  }
  rmSync(n.dir, { recursive: true, force: true });
}

/** A console login on one node: cookie + CSRF token, as the browser holds them. */
export async function login(node: Node, username: string, password: string) {
  const res = await fetch(`http://127.0.0.1:${node.web}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
  const body = (await res.json()) as { csrf?: string; csrfToken?: string };
  const csrf = body.csrf ?? body.csrfToken ?? '';
  return async (path: string, payload: unknown = {}) => {
    const r = await fetch(`http://127.0.0.1:${node.web}/api/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf },
      body: JSON.stringify(payload),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
}

export interface Hogs {
  count: number;
  stop(): Promise<void>;
}

/** One process spinning `for(;;){}` per core, so a test runs on a machine as busy as a loaded CI host. */
export function startHogs(count = availableParallelism()): Hogs {
  const procs = Array.from({ length: count }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
  return {
    count,
    async stop() {
      await Promise.all(
        procs.map((p) => {
          if (p.exitCode !== null || p.signalCode) return Promise.resolve();
          const gone = new Promise((r) => p.once('exit', r));
          p.kill('SIGKILL');
          return gone;
        }),
      );
    },
  };
}

export interface SunkMail {
  rcpt: string[];
  subject: string;
  messageId: string;
  at: number;
}

export interface MailSink {
  port: number;
  messages: SunkMail[];
  close(): Promise<void>;
}

/** A real SMTP server on 127.0.0.1 that records the envelope, subject and Message-ID of what it accepts. */
export async function startMailSink(): Promise<MailSink> {
  const messages: SunkMail[] = [];
  const srv = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    disableReverseLookup: true,
    logger: false,
    onData(stream, session, cb) {
      simpleParser(stream)
        .then((p) => {
          messages.push({
            rcpt: session.envelope.rcptTo.map((r) => r.address),
            subject: p.subject ?? '',
            messageId: p.messageId ?? '',
            at: Date.now(),
          });
          cb();
        })
        .catch(cb);
    },
  });
  await new Promise<void>((resolve, reject) => {
    srv.server.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  return { port: (srv.server.address() as AddressInfo).port, messages, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

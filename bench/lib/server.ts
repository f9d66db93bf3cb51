// A real `gatehouse serve` child process on a data directory and database the test chooses, so it can
// be killed with SIGKILL and started again on the same ports, directory and database.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { launch, freePort, sshArgs, waitForPort, type KeyPair, type Running } from './ssh.js';
import { waitForRunning } from './net.js';

const ENTRY = fileURLToPath(new URL('./cli-entry.ts', import.meta.url));

export interface Server {
  proc: ChildProcess;
  web: number;
  ssh: number;
  log: string[];
  exited: Promise<void>;
}

export interface ServerOpts {
  dir: string;
  env: Record<string, string>;
  web?: number;
  ssh?: number;
  /** Also run the HTTP proxy on this port (off by default). */
  http?: number;
}

/** Servers being stopped on purpose (their exit is expected). */
const stopping = new WeakSet<ChildProcess>();

export async function startServer(o: ServerOpts): Promise<Server> {
  const web = o.web ?? (await freePort());
  const ssh = o.ssh ?? (await freePort());
  const log: string[] = [];
  // GATEHOUSE_TEST_SERVER_NODE_ARGS: extra node flags for the server (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
  const extra = (process.env.GATEHOUSE_TEST_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...extra, '--import', 'tsx', ENTRY, 'serve'], {
    env: {
      ...process.env,
      GATEHOUSE_LOG_LEVEL: 'warn',
      GATEHOUSE_SWEEP_MS: '300',
      GATEHOUSE_MAIL_RETRY_BASE_MS: '100',
      GATEHOUSE_MAIL_RETRY_MAX_MS: '400',
      GATEHOUSE_MAIL_POLL_MS: '100',
      ...o.env,
      GATEHOUSE_DATA_DIR: o.dir,
      GATEHOUSE_NODE_ID: 'node-rel',
      GATEHOUSE_WEB_PORT: String(web),
      GATEHOUSE_SSH_PORT: String(ssh),
      GATEHOUSE_HTTP_PROXY_PORT: String(o.http ?? 0),
      GATEHOUSE_RDP_PORT: '0',
      GATEHOUSE_POSTGRES_PORT: '0',
      GATEHOUSE_MYSQL_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => log.push(String(d)));
  proc.stderr!.on('data', (d) => log.push(String(d)));
  const exited = new Promise<void>((r) => (proc.exitCode !== null ? r() : proc.once('exit', () => r())));
  // A server that dies on its own (not stopped by stopServer) says so, with its whole log ('close': after
  // its pipes are drained, so the last words of a dying process are in it), in the test output.
  proc.once('close', (code, signal) => {
    if (!stopping.has(proc))
      process.stderr.write(`# gatehouse serve exited unexpectedly (code ${code}, signal ${signal}); its log:\n${log.join('')}\n`);
  });
  await waitForRunning(proc, log, 90_000);
  await Promise.all([waitForPort(web, 10_000), waitForPort(ssh, 10_000)]);
  return { proc, web, ssh, log, exited };
}

export async function stopServer(s: Server | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!s || s.proc.exitCode !== null || s.proc.signalCode) return;
  stopping.add(s.proc);
  s.proc.kill(signal);
  await s.exited;
}

/** The OpenSSH client in exec mode through the gateway, never prompting. */
export function sshExec(port: number, key: KeyPair, target: string, cmd: string, timeoutMs = 120_000): Running {
  return launch('ssh', [...sshArgs(port, key.path, `${target}@127.0.0.1`, ['-o', 'ConnectTimeout=30']), cmd], { timeoutMs });
}

/** Runs `fn` over `items` with at most `n` at once. */
export async function pool<T, R>(items: T[], n: number, fn: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

/**
 * The organisation most reliability checks use: bob manages ops (alice, whose key is given), ops may
 * reach device group linux over SSH, and each named device points at the test sshd with its account key.
 */
export async function seedSshOrg(
  s: import('../../src/services.js').Services,
  o: {
    alicePublic: string;
    sshd: { port: number; account: string; accountKey: { private: string } };
    devices: string[];
    requireApproval?: boolean;
  },
): Promise<void> {
  const ADMIN = { username: 'admin', id: null, channel: 'cli' as const };
  await s.admin.addUser(ADMIN, { username: 'bob', email: 'bob@example.com', password: 'bob-S3cret-pass' });
  await s.admin.addUser(ADMIN, {
    username: 'alice',
    email: 'alice@example.com',
    password: 'alice-S3cret-pass',
    manager: 'bob',
    sshKeys: [o.alicePublic],
  });
  await s.admin.addGroup(ADMIN, 'user', 'ops', { managers: ['bob'], ...(o.requireApproval === false ? {} : { requireApproval: true }) });
  await s.admin.addMember(ADMIN, 'ops', 'alice');
  await s.admin.addGroup(ADMIN, 'device', 'linux', {});
  for (const d of o.devices) {
    await s.admin.addDevice(ADMIN, { name: d, host: '127.0.0.1', protocols: 'ssh', group: 'linux', port: o.sshd.port });
    await s.admin.addAccount(ADMIN, d, o.sshd.account, { privateKey: o.sshd.accountKey.private });
  }
  await s.admin.grantAccess(ADMIN, 'ops', 'linux', 'ssh');
}

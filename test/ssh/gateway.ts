// A whole gateway in this process (start() from src/main.ts) on a temp data dir, seeded with the
// walkthrough organisation and pointed at a real sshd.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, type Running as Gateway } from '../../src/main.js';
import type { Actor } from '../../src/core/admin/service.js';
import type { Services } from '../../src/services.js';
import { QUIET_SSH, launch, makeKey, run, type KeyPair, type Run, type Running, type Sshd } from './peers.js';

export const ADMIN: Actor = { username: 'admin', id: null, channel: 'cli' };
export const PASSWORD = 'alice-S3cret-pass';

export interface Gw {
  g: Gateway;
  s: Services;
  port: number;
  dir: string;
  env: Record<string, string>;
  alice: KeyPair;
  /** ssh/sftp/scp options: batch mode, no host key prompts, alice's key; `extra` first (it wins). */
  opts(extra?: string[]): string[];
  ssh(
    target: string,
    args: string[],
    o?: { env?: NodeJS.ProcessEnv; input?: string | Buffer; extra?: string[]; timeoutMs?: number },
  ): Running;
  /** The gatehouse CLI on the same data dir, as another process. */
  cli(args: string[]): Running;
  stop(): Promise<void>;
}

export interface GwOpts {
  /** ops needs managerial approval (bob) to reach linux devices. Default true. */
  approval?: boolean;
  reason?: boolean;
  env?: Record<string, string>;
  portForwarding?: boolean;
}

export async function startGateway(sshd: Sshd, o: GwOpts = {}): Promise<Gw> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-gw-'));
  const env: Record<string, string> = {
    GATEHOUSE_DATA_DIR: dir,
    GATEHOUSE_SECRET_KEY: 'test-vault-key-0123456789abcdef',
    GATEHOUSE_ADMIN_PASSWORD: 'admin-pass-123',
    GATEHOUSE_SSH_PORT: '0',
    GATEHOUSE_WEB_PORT: '0',
    GATEHOUSE_POSTGRES_PORT: '0',
    GATEHOUSE_MYSQL_PORT: '0',
    GATEHOUSE_EVENT_POLL_MS: '50',
    GATEHOUSE_SWEEP_MS: '200',
    GATEHOUSE_LOG_LEVEL: process.env.GATEHOUSE_TEST_LOG ?? 'silent',
    ...o.env,
  };
  const g = await start(env);
  const s = g.services;
  const alice = makeKey(dir, 'alice_key');
  const a = ADMIN;
  await s.admin.addUser(a, { username: 'bob', displayName: 'Bob Manager', email: 'bob@example.com', password: 'bob-S3cret-pass' });
  await s.admin.addUser(a, { username: 'carol', email: 'carol@example.com', password: 'carol-S3cret-pass' });
  await s.admin.addUser(a, {
    username: 'alice',
    displayName: 'Alice Admin',
    email: 'alice@example.com',
    password: PASSWORD,
    manager: 'bob',
    sshKeys: [alice.public],
  });
  await s.admin.addGroup(a, 'user', 'ops', { managers: ['bob'], requireApproval: o.approval ?? true, requireReason: o.reason ?? false });
  await s.admin.addMember(a, 'ops', 'alice');
  await s.admin.addGroup(a, 'device', 'linux', {});
  await s.admin.addGroup(a, 'device', 'db', {});
  await s.admin.addDevice(a, { name: 'web01', host: '127.0.0.1', protocols: 'ssh,sftp', group: 'linux', port: sshd.port });
  await s.admin.addAccount(a, 'web01', sshd.account, { privateKey: sshd.accountKey.private });
  await s.admin.addDevice(a, { name: 'db01', host: '127.0.0.1', protocols: 'ssh,sftp', group: 'db', port: sshd.port });
  await s.admin.addAccount(a, 'db01', sshd.account, { privateKey: sshd.accountKey.private });
  await s.admin.grantAccess(a, 'ops', 'linux', 'ssh,sftp', o.portForwarding ?? false);
  const port = g.sshPort!;
  let stopped = false;
  const stop = g.stop.bind(g);
  g.stop = async () => {
    if (stopped) return;
    stopped = true;
    await stop();
  };
  // OpenSSH takes the first value of an option: `extra` comes first so it can override (-o BatchMode=no).
  const opts = (extra: string[] = []) => [...extra, '-i', alice.path, ...QUIET_SSH];
  return {
    g,
    s,
    port,
    dir,
    env,
    alice,
    opts,
    ssh: (target, args, so = {}) =>
      launch('ssh', ['-p', String(port), ...opts(so.extra), `${target}@127.0.0.1`, ...args], {
        env: so.env,
        input: so.input,
        timeoutMs: so.timeoutMs,
      }),
    cli: (args) =>
      launch(process.execPath, ['--import', 'tsx', 'test/ssh/cli.ts', ...args], { env: { ...env, GATEHOUSE_LOG_LEVEL: 'silent' } }),
    async stop() {
      await g.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function cliOk(gw: Gw, args: string[]): Promise<Run> {
  const r = await gw.cli(args).done;
  if (r.code !== 0) throw new Error(`gatehouse ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r;
}

export { run };

// Real peers for the SSH tests: a throw-away sshd on 127.0.0.1, client keys, and the OpenSSH client.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { hasBinary, missing } from './peers.js';

export const SSHD = '/usr/sbin/sshd';
export const SSHD_SKIP = missing(
  'sshd',
  existsSync(SSHD) && hasBinary('ssh') && hasBinary('sftp') && hasBinary('scp') && hasBinary('ssh-keygen'),
  'install openssh-server and openssh-client',
);

import { freePort, waitForPort } from './net.js';

export { freePort, waitForPort };

export interface KeyPair {
  path: string;
  private: string;
  public: string;
}

export function makeKey(dir: string, name: string, type: 'ed25519' | 'rsa' = 'ed25519'): KeyPair {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', path]);
  return { path, private: readFileSync(path, 'utf8'), public: readFileSync(`${path}.pub`, 'utf8').trim() };
}

export interface Sshd {
  port: number;
  dir: string;
  /** The login on this sshd: root when the tests run as root, else the current user. */
  account: string;
  /** Private key that logs in as `account` (the device account's vaulted secret). */
  accountKey: KeyPair;
  hostKey: KeyPair;
  stop(): Promise<void>;
}

/** Starts a real sshd on 127.0.0.1 with a temporary config, its own host key and authorized key. */
export async function startSshd(
  opts: { port?: number; extraConfig?: string; hostKey?: KeyPair; accountKey?: KeyPair } = {},
): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-sshd-'));
  const hostKey = opts.hostKey ?? makeKey(dir, 'host_key');
  const accountKey = opts.accountKey ?? makeKey(dir, 'account_key');
  writeFileSync(join(dir, 'authorized_keys'), `${accountKey.public}\n`, { mode: 0o600 });
  const root = process.getuid?.() === 0;
  // sshd started as root needs its privilege-separation directory.
  if (root) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = opts.port ?? (await freePort());
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${opts.hostKey ? opts.hostKey.path : hostKey.path}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'UsePAM no',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'StrictModes no',
    'Subsystem sftp internal-sftp',
    'AcceptEnv LANG LC_* TZ',
    'PrintMotd no',
    'PrintLastLog no',
    'MaxStartups 2000',
    'MaxSessions 100',
    // The device's shells start clean: bash run by sshd reads ~/.bashrc, and on a developer's machine
    // root's may be slow (pyenv init runs `pyenv rehash` under a global lock: 200 sessions started at
    // once took 73 s, all of it there). sshd still changes to the account's real home directory.
    `SetEnv HOME=${dir}`,
    'LogLevel ERROR',
    opts.extraConfig ?? '',
  ].join('\n');
  writeFileSync(join(dir, 'sshd_config'), config + '\n');
  const proc: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  try {
    await Promise.race([waitForPort(port), exited.then(() => Promise.reject(new Error(`sshd exited: ${err}`)))]);
  } catch (e) {
    proc.kill();
    throw e;
  }
  return {
    port,
    dir,
    account: root ? 'root' : userInfo().username,
    accountKey,
    hostKey,
    async stop() {
      proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Running {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  done: Promise<Run>;
  write(s: string | Buffer): void;
  /** SIGKILL to the client and its children (sftp and scp run ssh as a child). */
  killAll(): void;
  /** Resolves when stdout+stderr match `re`. */
  waitFor(re: RegExp, ms?: number): Promise<string>;
}

/** Starts a client process; its output accumulates and can be awaited for a pattern. */
export function launch(
  cmd: string,
  args: string[],
  opts: {
    env?: NodeJS.ProcessEnv;
    input?: string | Buffer;
    cwd?: string;
    timeoutMs?: number;
    /** Never read stdout: a client that stops reading. */ stalled?: boolean;
  } = {},
): Running {
  const t0 = Date.now();
  // Its own process group, so killAll() reaches ssh children too.
  const proc = spawn(cmd, args, { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'], cwd: opts.cwd, detached: true });
  let out = '';
  let err = '';
  const waiters: { re: RegExp; resolve: (s: string) => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (w.re.test(out + err)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(out + err);
      }
    }
  };
  if (!opts.stalled)
    proc.stdout!.on('data', (d) => {
      out += d;
      check();
    });
  proc.stderr!.on('data', (d) => {
    err += d;
    check();
  });
  proc.stdin!.on('error', () => {});
  if (opts.input !== undefined) proc.stdin!.end(opts.input);
  const timer = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const done = new Promise<Run>((resolve) =>
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: out, stderr: err, ms: Date.now() - t0 });
    }),
  );
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    done,
    write: (s) => proc.stdin!.write(s),
    killAll: () => {
      try {
        process.kill(-proc.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    },
    waitFor(re, ms = 15_000) {
      if (re.test(out + err)) return Promise.resolve(out + err);
      return new Promise((resolve, reject) => {
        const w = { re, resolve };
        waiters.push(w);
        const t = setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`timed out waiting for ${re} in output:\n${out}\n--- stderr ---\n${err}`));
        }, ms);
        void done.then(() => {
          clearTimeout(t);
          const i = waiters.indexOf(w);
          if (i >= 0) {
            waiters.splice(i, 1);
            if (re.test(out + err)) resolve(out + err);
            else reject(new Error(`process ended before ${re} appeared:\n${out}\n--- stderr ---\n${err}`));
          }
        });
        void t;
      });
    },
  };
}

export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer; timeoutMs?: number } = {},
): Promise<Run> {
  return launch(cmd, args, opts).done;
}

/** Options for a scripted OpenSSH client: key only, no prompts, no known_hosts. */
export const QUIET_SSH = [
  '-o',
  'IdentitiesOnly=yes',
  '-o',
  'BatchMode=yes',
  '-o',
  'StrictHostKeyChecking=no',
  '-o',
  'UserKnownHostsFile=/dev/null',
  '-o',
  'LogLevel=ERROR',
];

/** `ssh` arguments up to the destination; OpenSSH takes an option's first value, so `extra` comes first. */
export function sshArgs(port: number | string, keyPath: string, destination: string, extra: string[] = []): string[] {
  return [...extra, '-p', String(port), '-i', keyPath, ...QUIET_SSH, destination];
}

// A throw-away MariaDB server (Debian mariadb-server) for tests and benchmarks: its own data dir in a
// temp dir, 127.0.0.1 on a free port, TLS with a fresh self-signed pair, and an account `app_rw`.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './net.js';
import { hasBinary } from './peers.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

export const MARIADB_ACCOUNT = 'app_rw';
export const MARIADB_PASSWORD = 'Vault-pw-app_rw-1';

export interface MariaDb {
  port: number;
  dir: string;
  /** PEM files of the pair the server (and tests of the gateway's own TLS) use. */
  cert: string;
  key: string;
  /** SHA-256 fingerprint of the server's certificate, as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprint: string;
  /** Runs SQL as root over the server's socket; stdout. */
  sql(q: string): Promise<string>;
  stop(): Promise<void>;
}

export function hasMariaDb(): boolean {
  return hasBinary('mariadbd') && hasBinary('mariadb-install-db') && hasBinary('mysql') && hasBinary('openssl');
}

/** A self-signed pair for 127.0.0.1 in `dir`. */
export function selfSigned(dir: string, cn = '127.0.0.1'): { cert: string; key: string; fingerprint: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`],
    {
      stdio: 'ignore',
    },
  );
  const fp = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-fingerprint', '-sha256']).toString();
  return { cert, key, fingerprint: fp.split('=')[1]!.trim() };
}

export async function startMariaDb(): Promise<MariaDb> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-mariadb-'));
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  const user = process.getuid?.() === 0 ? ['--user=root'] : [];
  await run('mariadb-install-db', [
    '--no-defaults',
    `--datadir=${data}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    ...user,
  ]);
  const tls = selfSigned(dir);
  const port = await freePort();
  const proc: ChildProcess = spawn(
    'mariadbd',
    [
      '--no-defaults',
      ...user,
      `--datadir=${data}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--socket=${sock}`,
      `--pid-file=${join(dir, 'pid')}`,
      '--skip-name-resolve',
      `--ssl-cert=${tls.cert}`,
      `--ssl-key=${tls.key}`,
      '--innodb-buffer-pool-size=32M',
      '--max-connections=500',
      `--log-error=${join(dir, 'error.log')}`,
    ],
    { stdio: 'ignore' },
  );
  const sql = async (q: string) => (await run('mysql', ['--no-defaults', `--socket=${sock}`, '-uroot', '-N', '-B', '-e', q])).stdout;
  const stop = async () => {
    if (proc.exitCode === null) {
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('mariadbd to start', () => existsSync(sock), 60_000, 100);
    await waitFor(
      'mariadbd to answer',
      () =>
        sql('select 1').then(
          () => true,
          () => false,
        ),
      30_000,
      100,
    );
    await sql(
      `CREATE USER '${MARIADB_ACCOUNT}'@'%' IDENTIFIED BY '${MARIADB_PASSWORD}'; GRANT ALL ON *.* TO '${MARIADB_ACCOUNT}'@'%'; CREATE DATABASE app;`,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, dir, ...tls, sql, stop };
}

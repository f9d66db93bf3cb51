// The device for the PostgreSQL tests and bench/db.ts: a throw-away PostgreSQL cluster (scripts/pg.mjs) with TLS on,
// password_encryption scram-sha-256 for app_rw and md5 for legacy (pg_hba method md5 serves both), and a
// whole gateway in this process pointed at it.
import { execFileSync, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { start, type Running } from '../../src/main.js';
import type { Actor } from '../../src/core/admin/service.js';
import type { Services } from '../../src/services.js';
import { hasBinary, missing } from './peers.js';
import { freePort, waitForPort } from './net.js';
import { childrenOf } from './workers.js';
import { launcherFlags } from './gateway.js';
// @ts-expect-error scripts/pg.mjs is plain JavaScript
import { startPostgres } from '../../scripts/pg.mjs';

export const PG_PEER_SKIP = missing(
  'PostgreSQL and psql',
  hasBinary('initdb') && hasBinary('psql'),
  'install postgresql-15 and postgresql-client',
);
export const ADMIN: Actor = { username: 'admin', id: null, channel: 'cli' };
export const ALICE_PW = 'alice-S3cret-pass';
export const APP_RW_PW = 'vaulted-Zq8-app-rw-secret';
export const LEGACY_PW = 'vaulted-Md5-legacy-secret';

export interface Device {
  url: string;
  host: string;
  port: number;
  /** The server certificate's SHA-256 fingerprint (hex). */
  fingerprint: string;
  /** SQL as the cluster's superuser. */
  sql(q: string): Promise<pg.QueryResult>;
  stop(): void;
}

export async function startDevice(): Promise<Device> {
  const c = (await startPostgres()) as { url: string | null; reason?: string; stop(): void; dir: string };
  if (!c.url) throw new Error(`postgres: ${c.reason}`);
  const u = new URL(c.url);
  const sql = async (q: string) => {
    const client = new pg.Client({ connectionString: c.url! });
    await client.connect();
    try {
      return await client.query(q);
    } finally {
      await client.end();
    }
  };
  const data = (await sql('show data_directory')).rows[0].data_directory as string;
  const hba = (await sql('show hba_file')).rows[0].hba_file as string;
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'].concat([
      '-subj',
      '/CN=pgdb01',
      '-keyout',
      join(data, 'server.key'),
      '-out',
      join(data, 'server.crt'),
    ]),
    { stdio: 'ignore' },
  );
  writeFileSync(hba, 'local all all trust\nhost all all 127.0.0.1/32 md5\nhost all all ::1/128 md5\n');
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    for (const f of ['server.key', 'server.crt']) chownSync(join(data, f), uid, gid);
    chownSync(hba, uid, gid);
  }
  execFileSync('chmod', ['600', join(data, 'server.key')]);
  await sql(`alter system set ssl = on`);
  await sql(`select pg_reload_conf()`);
  await sql(`set password_encryption = 'scram-sha-256'; create role app_rw login password '${APP_RW_PW}'`);
  await sql(`set password_encryption = 'md5'; create role legacy login password '${LEGACY_PW}'`);
  await sql(`create database app owner app_rw`);
  const pem = readFileSync(join(data, 'server.crt'), 'utf8');
  const fingerprint = new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
  return { url: c.url, host: u.hostname, port: Number(u.port), fingerprint, sql, stop: () => c.stop() };
}

export interface Gw {
  g: Running;
  s: Services;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/** A gateway whose ops group (alice, manager bob) reaches pgdb01 (device group db) over postgres. */
const KEY_ENV = { GATEHOUSE_SECRET_KEY: 'test-vault-key-0123456789abcdef', GATEHOUSE_ADMIN_PASSWORD: 'admin-pass-123' };

export async function startGateway(dev: Device, o: { approval?: boolean; env?: Record<string, string> } = {}): Promise<Gw> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-pgw-'));
  const g = await start({
    GATEHOUSE_DATA_DIR: dir,
    ...KEY_ENV,
    GATEHOUSE_SSH_PORT: '0',
    GATEHOUSE_WEB_PORT: '0',
    GATEHOUSE_RDP_PORT: '0',
    GATEHOUSE_MYSQL_PORT: '0',
    GATEHOUSE_HTTP_PROXY_PORT: '0',
    GATEHOUSE_POSTGRES_PORT: '0',
    GATEHOUSE_EVENT_POLL_MS: '50',
    GATEHOUSE_SWEEP_MS: '200',
    GATEHOUSE_LOG_LEVEL: process.env.GATEHOUSE_TEST_LOG ?? 'silent',
    ...o.env,
  });
  const s = g.services;
  const a = ADMIN;
  await s.admin.addUser(a, { username: 'bob', displayName: 'Bob Manager', email: 'bob@example.com', password: 'bob-S3cret-pass' });
  await s.admin.addUser(a, { username: 'alice', email: 'alice@example.com', password: ALICE_PW, manager: 'bob' });
  await s.admin.addUser(a, { username: 'mallory', email: 'mallory@example.com', password: ALICE_PW });
  await s.admin.addGroup(a, 'user', 'ops', { managers: ['bob'], requireApproval: o.approval ?? true });
  await s.admin.addMember(a, 'ops', 'alice');
  await s.admin.addGroup(a, 'device', 'db', {});
  await s.admin.addGroup(a, 'device', 'other', {});
  await s.admin.addDevice(a, { name: 'pgdb01', host: dev.host, protocols: 'postgres', group: 'db', ports: { postgres: dev.port } });
  await s.admin.addAccount(a, 'pgdb01', 'app_rw', { password: APP_RW_PW });
  await s.admin.addAccount(a, 'pgdb01', 'legacy', { password: LEGACY_PW });
  await s.admin.addDevice(a, { name: 'pgdb02', host: dev.host, protocols: 'postgres', group: 'other', ports: { postgres: dev.port } });
  await s.admin.addAccount(a, 'pgdb02', 'app_rw', { password: APP_RW_PW });
  await s.admin.grantAccess(a, 'ops', 'db', 'postgres');
  return {
    g,
    s,
    port: g.postgresPort!,
    dir,
    async stop() {
      await g.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Served {
  port: number;
  /** The primary and its workers, for their CPU time. */
  pids(): number[];
  stop(): Promise<void>;
}

/**
 * The gateway as production runs it: `gatehouse serve` (from source, the launcher's node flags) with
 * `workers` listener processes, on the data dir an in-process gateway set up (stopped first).
 */
export async function serveGateway(gw: Gw, workers: number, env: Record<string, string> = {}): Promise<Served> {
  await gw.g.stop();
  const port = await freePort();
  const entry = fileURLToPath(new URL('./cli-entry.ts', import.meta.url));
  const proc = spawn(process.execPath, [...launcherFlags(), '--import', 'tsx', entry, 'serve'], {
    env: {
      ...process.env,
      ...KEY_ENV,
      GATEHOUSE_DATA_DIR: gw.dir,
      GATEHOUSE_WORKERS: String(workers),
      GATEHOUSE_POSTGRES_PORT: String(port),
      GATEHOUSE_WEB_PORT: String(await freePort()),
      GATEHOUSE_SSH_PORT: String(await freePort()),
      GATEHOUSE_HTTP_PROXY_PORT: String(await freePort()),
      GATEHOUSE_RDP_PORT: '0',
      GATEHOUSE_MYSQL_PORT: '0',
      GATEHOUSE_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(port, 120_000);
  // Every worker listens before the figure starts.
  await new Promise((r) => setTimeout(r, 3000));
  return {
    port,
    pids: () => [proc.pid!, ...childrenOf(proc.pid!)],
    async stop() {
      if (proc.exitCode === null && !proc.signalCode) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await gone;
      }
      rmSync(gw.dir, { recursive: true, force: true });
    },
  };
}

// The device for the PostgreSQL tests and bench/db.ts: a throw-away PostgreSQL cluster (scripts/pg.mjs) with TLS on,
// password_encryption scram-sha-256 for app_rw and md5 for legacy (pg_hba method md5 serves both), and a
// whole gateway in this process pointed at it.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { start, type Running } from '../../src/main.js';
import type { Actor } from '../../src/core/admin/service.js';
import type { Services } from '../../src/services.js';
import { hasBinary, missing } from './peers.js';
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
  return { url: c.url, host: u.hostname, port: Number(u.port), sql, stop: () => c.stop() };
}

export interface Gw {
  g: Running;
  s: Services;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/** A gateway whose ops group (alice, manager bob) reaches pgdb01 (device group db) over postgres. */
export async function startGateway(dev: Device, o: { approval?: boolean; env?: Record<string, string> } = {}): Promise<Gw> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-pgw-'));
  const g = await start({
    GATEHOUSE_DATA_DIR: dir,
    GATEHOUSE_SECRET_KEY: 'test-vault-key-0123456789abcdef',
    GATEHOUSE_ADMIN_PASSWORD: 'admin-pass-123',
    GATEHOUSE_SSH_PORT: '0',
    GATEHOUSE_WEB_PORT: '0',
    GATEHOUSE_RDP_PORT: '0',
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

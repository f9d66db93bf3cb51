// Real services on a real database in a temp dir, with a clock the test controls.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/env.js';
import { ManualClock } from '../../src/core/ports/clock.js';
import type { Actor } from '../../src/core/admin/service.js';
import { makeLogger } from '../../src/log.js';
import { openServices, type Services } from '../../src/services.js';
import { freshPgDatabase } from './db.js';

export interface TestEnv {
  s: Services;
  clock: ManualClock;
  dir: string;
  env: Record<string, string>;
  /** Closes the services and reopens them on the same database (a process restart). */
  restart(clock?: ManualClock): Promise<Services>;
  cleanup(): Promise<void>;
}

export const ADMIN: Actor = { username: 'admin', id: null, channel: 'cli' };

export async function testServices(dialect: 'sqlite' | 'postgres', opts: { clock?: ManualClock; real?: boolean } = {}): Promise<TestEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-test-'));
  const pgdb = dialect === 'postgres' ? await freshPgDatabase() : null;
  const env: Record<string, string> = {
    GATEHOUSE_DATA_DIR: dir,
    GATEHOUSE_SECRET_KEY: 'test-vault-key-0123456789abcdef',
    GATEHOUSE_EVENT_POLL_MS: '50',
    ...(pgdb ? { DATABASE_URL: pgdb.url } : {}),
  };
  const config = loadConfig(env);
  const clock = opts.clock ?? new ManualClock(Date.now());
  const open = (c: ManualClock) => openServices(config, makeLogger('silent'), opts.real ? {} : { clock: c });
  const t: TestEnv = {
    s: await open(clock),
    clock,
    dir,
    env,
    async restart(c?: ManualClock) {
      await t.s.close();
      if (c) t.clock = c;
      t.s = await open(t.clock);
      return t.s;
    },
    async cleanup() {
      await t.s.close().catch(() => {});
      await pgdb?.drop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}

/**
 * The walkthrough organisation: bob manages ops (alice, dave); carol manages device group linux (web01);
 * erin manages dev; db01 in device group db.
 */
export async function seedOrg(s: Services, o: { opsApproval?: boolean; linuxApproval?: boolean } = {}) {
  const a = ADMIN;
  const pw = 'S3cret-pass';
  await s.admin.addUser(a, { username: 'admin', password: pw, admin: true }).catch(() => {});
  for (const u of ['bob', 'carol', 'erin', 'frank', 'gina', 'hank'])
    await s.admin.addUser(a, { username: u, email: `${u}@example.com`, password: pw });
  await s.admin.addUser(a, { username: 'alice', email: 'alice@example.com', password: pw, manager: 'bob' });
  await s.admin.addUser(a, { username: 'dave', email: 'dave@example.com', password: pw, manager: 'erin' });
  await s.admin.addGroup(a, 'user', 'ops', { managers: ['bob'], requireApproval: o.opsApproval ?? true });
  await s.admin.addMember(a, 'ops', 'alice');
  await s.admin.addMember(a, 'ops', 'dave');
  await s.admin.addGroup(a, 'user', 'dba', { managers: ['erin'] });
  for (const u of ['frank', 'gina', 'hank']) await s.admin.addMember(a, 'dba', u);
  await s.admin.addGroup(a, 'device', 'linux', { managers: ['carol'], requireApproval: o.linuxApproval ?? false });
  await s.admin.addGroup(a, 'device', 'db', { managers: ['carol'] });
  await s.admin.addDevice(a, { name: 'web01', host: '127.0.0.1', protocols: 'ssh,sftp', group: 'linux', port: 22 });
  await s.admin.addDevice(a, { name: 'db01', host: '127.0.0.1', protocols: 'ssh', group: 'db', port: 22 });
  await s.admin.addAccount(a, 'web01', 'root', { password: 'web01-root-secret' });
  await s.admin.addAccount(a, 'db01', 'postgres', { password: 'db01-pg-secret' });
  await s.admin.grantAccess(a, 'ops', 'linux', 'ssh,sftp');
  await s.admin.grantAccess(a, 'ops', 'db', 'ssh');
}

export const SSH = 'ssh' as const;

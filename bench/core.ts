// Core benchmarks (issue: foundation):
//  1. decide() throughput with 10k users, 1k groups, 10k devices from warm caches, counting database
//     queries on the hot path (target: >= 50k decisions/s, 0 queries while policy is unchanged).
//  2. create-and-approve round trips per second on SQLite and on PostgreSQL.
// Run: npm run bench -- core
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshPgDatabase } from './lib/db.js';
import { loadConfig } from '../src/config/env.js';
import { makeLogger } from '../src/log.js';
import { openServices, type Services } from '../src/services.js';
import type { Protocol } from '../src/core/types.js';
import { kyselyOf } from '../src/storage/store.js';

const USERS = 10_000;
const GROUPS = 1_000;
const DEVICE_GROUPS = 100;
const DEVICES = 10_000;

async function open(dialect: 'sqlite' | 'postgres', onQuery?: (sql: string) => void): Promise<{ s: Services; done: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-'));
  const fresh = dialect === 'postgres' ? await freshPgDatabase() : null;
  const url = fresh?.url;
  const drop = fresh ? fresh.drop : async () => {};
  const config = loadConfig({
    GATEHOUSE_DATA_DIR: dir,
    GATEHOUSE_SECRET_KEY: 'bench-key-0123456789abcdef',
    ...(url ? { DATABASE_URL: url } : {}),
  });
  const s = await openServices(config, makeLogger('silent'), { onQuery });
  return {
    s,
    async done() {
      await s.close();
      await drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Bulk-loads a large organisation straight into the tables (the admin service is per-object and audited). */
async function seedLarge(s: Services): Promise<void> {
  const db = kyselyOf(s.store);
  const now = Date.now();
  const chunk = async <T>(rows: T[], fn: (part: T[]) => Promise<unknown>) => {
    for (let i = 0; i < rows.length; i += 500) await fn(rows.slice(i, i + 500));
  };
  await chunk(
    Array.from({ length: USERS }, (_, i) => i),
    (p) =>
      db
        .insertInto('users')
        .values(
          p.map((i) => ({
            username: `u${i}`,
            display_name: `User ${i}`,
            email: `u${i}@example.com`,
            password_hash: null,
            manager_id: null,
            is_admin: 0,
            disabled: 0,
            source: 'local',
            created_at: now,
            updated_at: now,
          })),
        )
        .execute(),
  );
  await chunk(
    Array.from({ length: GROUPS }, (_, i) => i),
    (p) =>
      db
        .insertInto('user_groups')
        .values(p.map((i) => ({ name: `g${i}`, description: null, require_approval: i % 2, require_reason: 0, created_at: now })))
        .execute(),
  );
  // Each user in 3 groups; each group managed by 2 users.
  const members = Array.from({ length: USERS * 3 }, (_, k) => ({
    group_id: 1 + ((Math.floor(k / 3) * 7 + (k % 3) * 131) % GROUPS),
    user_id: 1 + Math.floor(k / 3),
  }));
  const uniq = [...new Map(members.map((m) => [`${m.group_id}:${m.user_id}`, m])).values()];
  await chunk(uniq, (p) => db.insertInto('user_group_members').values(p).execute());
  await chunk(
    Array.from({ length: GROUPS * 2 }, (_, k) => ({ group_id: 1 + Math.floor(k / 2), user_id: 1 + ((k * 37) % USERS) })),
    (p) =>
      db
        .insertInto('user_group_managers')
        .values(p)
        .onConflict((oc) => oc.doNothing())
        .execute(),
  );
  await chunk(
    Array.from({ length: DEVICE_GROUPS }, (_, i) => i),
    (p) =>
      db
        .insertInto('device_groups')
        .values(
          p.map((i) => ({ name: `dg${i}`, description: null, require_approval: i % 3 === 0 ? 1 : 0, require_reason: 0, created_at: now })),
        )
        .execute(),
  );
  await chunk(
    Array.from({ length: DEVICES }, (_, i) => i),
    (p) =>
      db
        .insertInto('devices')
        .values(
          p.map((i) => ({
            name: `d${i}`,
            host: '10.0.0.1',
            ports: '{"ssh":22,"sftp":22}',
            protocols: 'ssh,sftp',
            group_id: 1 + (i % DEVICE_GROUPS),
            host_key: null,
            host_key_pinned_at: null,
            options: '{}',
            enabled: 1,
            created_at: now,
          })),
        )
        .execute(),
  );
  await chunk(
    Array.from({ length: DEVICES }, (_, i) => i),
    (p) =>
      db
        .insertInto('accounts')
        .values(
          p.map((i) => ({
            device_id: i + 1,
            name: 'root',
            secret_kind: 'password',
            secret_enc: s.vault.seal('x'),
            is_default: 1,
            created_at: now,
          })),
        )
        .execute(),
  );
  // Each user group may reach 5 device groups.
  const rules = Array.from({ length: GROUPS * 5 }, (_, k) => ({
    user_group_id: 1 + Math.floor(k / 5),
    device_group_id: 1 + ((k * 13) % DEVICE_GROUPS),
    protocols: 'ssh,sftp',
    allow_port_forwarding: 0,
    created_at: now,
  }));
  await chunk([...new Map(rules.map((r) => [`${r.user_group_id}:${r.device_group_id}`, r])).values()], (p) =>
    db.insertInto('access_rules').values(p).execute(),
  );
  await chunk(
    Array.from({ length: 50 }, (_, i) => i),
    (p) =>
      db
        .insertInto('workflows')
        .values(
          p.map((i) => ({
            name: `wf${i}`,
            user_group_id: 1 + i * 3,
            device_group_id: 1 + ((i * 3 * 5 * 13) % DEVICE_GROUPS),
            levels: JSON.stringify([
              { authority: { kind: 'group-manager' }, quorum: 1, escalateAfterMinutes: null },
              { authority: { kind: 'line-manager' }, quorum: 1, escalateAfterMinutes: null },
            ]),
            created_at: now,
          })),
        )
        .onConflict((oc) => oc.doNothing())
        .execute(),
  );
  s.policy.invalidate();
}

async function benchDecide(): Promise<void> {
  let queries = 0;
  const { s, done } = await open('sqlite', () => queries++);
  await seedLarge(s);
  const t0 = performance.now();
  await s.policy.current();
  const loadMs = performance.now() - t0;
  const protos: Protocol[] = ['ssh', 'sftp'];
  // Warm-up, then measure.
  for (let i = 0; i < 20_000; i++) await s.approvals.decide(`u${i % USERS}`, `d${(i * 7919) % DEVICES}`, protos[i & 1]);
  queries = 0;
  const N = 500_000;
  const outcomes: Record<string, number> = {};
  const start = performance.now();
  for (let i = 0; i < N; i++) {
    const d = await s.approvals.decide(`u${(i * 31) % USERS}`, `d${(i * 7919) % DEVICES}`, protos[i & 1]);
    outcomes[d.outcome] = (outcomes[d.outcome] ?? 0) + 1;
  }
  const secs = (performance.now() - start) / 1000;
  console.log(`decide(): ${USERS} users, ${GROUPS} groups, ${DEVICES} devices; policy load ${loadMs.toFixed(0)} ms`);
  console.log(
    `  ${N} decisions in ${secs.toFixed(2)} s = ${Math.round(N / secs).toLocaleString('en')} decisions/s (target >= 50,000), database queries during the run: ${queries}`,
  );
  console.log(`  outcomes: ${JSON.stringify(outcomes)}`);
  await done();
}

async function benchRoundTrips(dialect: 'sqlite' | 'postgres'): Promise<void> {
  const { s, done } = await open(dialect);
  const a = { username: 'admin', id: null, channel: 'cli' as const };
  await s.admin.addUser(a, { username: 'boss' });
  await s.admin.addGroup(a, 'user', 'ops', { managers: ['boss'], requireApproval: true });
  await s.admin.addGroup(a, 'device', 'linux', {});
  await s.admin.addDevice(a, { name: 'web01', host: '127.0.0.1', protocols: 'ssh', group: 'linux' });
  await s.admin.addAccount(a, 'web01', 'root', { password: 'pw-secret' });
  await s.admin.grantAccess(a, 'ops', 'linux', 'ssh');
  const N = dialect === 'sqlite' ? 2000 : 1000;
  for (let i = 0; i < N; i++) await s.admin.addUser(a, { username: `r${i}` }).then(() => s.admin.addMember(a, 'ops', `r${i}`));
  await s.policy.current();
  const lat: number[] = [];
  const start = performance.now();
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    const r = await s.approvals.request({ username: `r${i}`, device: 'web01', protocol: 'ssh', channel: 'api', reason: 'bench' });
    if (r.outcome === 'allowed') throw new Error('expected a request');
    await s.approvals.approve(r.request.id, 'boss', { channel: 'api' });
    lat.push(performance.now() - t);
  }
  const secs = (performance.now() - start) / 1000;
  lat.sort((x, y) => x - y);
  const p = (q: number) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))].toFixed(2);
  console.log(
    `create+approve on ${dialect}: ${N} round trips in ${secs.toFixed(2)} s = ${Math.round(N / secs)} /s; latency p50 ${p(0.5)} ms, p99 ${p(0.99)} ms`,
  );
  await done();
}

await benchDecide();
await benchRoundTrips('sqlite');
if (process.env.GATEHOUSE_TEST_PG_URL) await benchRoundTrips('postgres');
else console.log('create+approve on postgres: skipped (no PostgreSQL)');

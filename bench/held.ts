// Held connections at scale (issue 24, item 1), a compiled gateway (BENCH_HELD_WORKERS: its GATEHOUSE_WORKERS, default 1):
//  - anchor: 1,000 SSH connections waiting for approval (RSS, idle CPU), as `npm run bench -- ssh` measures;
//  - then up to 10,000 (BENCH_HELD_N) on the same process: RSS (target < 1 GB), idle CPU over 30 s
//    (target < 5 % of a core);
//  - then 2,000 (BENCH_HELD_APPROVE) approved at once through the API, one decision each: time until every
//    one of those sessions ran its command (target < 5 s).
// The first 2,000 connections ask for a device each (a request each: those are approved); the rest share
// BENCH_HELD_SHARED (100) more devices, joining their requests (seeding 10,000 devices one by one through
// the admin service takes longer than the run: each write reloads the policy). The device is the
// built-in ssh2 demo target in its own process, so the figures are the gateway's. Clients: ssh2 in this process, spread
// over several 127.0.0.x source addresses.
// Run: npm run bench -- held      (figures also in .bench-out/held.json)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../src/config/env.js';
import { kyselyOf } from '../src/storage/store.js';
import { makeLogger } from '../src/log.js';
import { ensureAdmin, openServices } from '../src/services.js';
import { makeKey } from './lib/ssh.js';
import { freePort } from './lib/net.js';
import { startSsh2Device } from './lib/held.js';
import { compileGateway, launcherFlags, procTreeStat, serveCompiled, threadCpu, threadCpuText } from './lib/gateway.js';
import { login, type Node } from './lib/cluster.js';
import { pool } from './lib/server.js';
import { Crowd } from './lib/crowd.js';
import { loadText, pct } from './lib/stats.js';
import { sleep } from './lib/wait.js';

const N = Number(process.env.BENCH_HELD_N ?? 10_000);
const ANCHOR = Math.min(N, 1000);
const APPROVE = Math.min(N, Number(process.env.BENCH_HELD_APPROVE ?? 2000));
const SHARED = Number(process.env.BENCH_HELD_SHARED ?? 100);
const DEVICES = APPROVE + (N > APPROVE ? SHARED : 0);
const deviceOf = (i: number) => (i < APPROVE ? `load${i}` : `load${APPROVE + (i % SHARED)}`);
const IDLE_S = Number(process.env.BENCH_HELD_IDLE_S ?? 30);
/**
 * Seconds between the last connection and the idle window (default 5): with 250 or more, the window sees
 * the steady state (each wait's stderr line every 4 minutes, the notifications of the ramp all sent)
 * rather than the first reminders.
 */
const SETTLE_S = Number(process.env.BENCH_HELD_SETTLE_S ?? 5);
/** GATEHOUSE_WORKERS of the gateway (default 1: one process); CPU and RSS are summed over its processes. */
const WORKERS = process.env.BENCH_HELD_WORKERS ?? '1';
const ADMIN = { username: 'admin', id: null, channel: 'cli' as const };
const log = (s: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

const load0 = loadavg();
log(`${loadText()}; compiling the gateway`);
const compiled = compileGateway();
const device = await startSsh2Device();
const dir = mkdtempSync(join(tmpdir(), 'gh-bench-held-'));
const alice = makeKey(dir, 'alice');
const env: Record<string, string> = {
  GATEHOUSE_DATA_DIR: dir,
  GATEHOUSE_SECRET_KEY: 'bench-vault-key-0123456789abcdef',
  GATEHOUSE_ADMIN_PASSWORD: 'admin-pass-123',
  GATEHOUSE_SSH_PORT: String(await freePort()),
  GATEHOUSE_WEB_PORT: String(await freePort()),
  GATEHOUSE_RDP_PORT: '0',
  GATEHOUSE_HTTP_PROXY_PORT: '0',
  GATEHOUSE_WORKERS: WORKERS,
};
{
  const t0 = Date.now();
  const s = await openServices(loadConfig(env), makeLogger('silent'));
  await ensureAdmin(s);
  await s.admin.addUser(ADMIN, { username: 'bob', password: 'bob-S3cret-pass' });
  await s.admin.addUser(ADMIN, { username: 'alice', password: 'alice-S3cret-pass', manager: 'bob', sshKeys: [alice.public] });
  await s.admin.addGroup(ADMIN, 'user', 'ops', { managers: ['bob'], requireApproval: true });
  await s.admin.addMember(ADMIN, 'ops', 'alice');
  await s.admin.addGroup(ADMIN, 'device', 'linux', {});
  for (let i = 0; i < DEVICES; i++) {
    await s.admin.addDevice(ADMIN, { name: `load${i}`, host: '127.0.0.1', protocols: 'ssh', group: 'linux', port: device.port });
    await s.admin.addAccount(ADMIN, `load${i}`, device.account, device.secret);
  }
  await s.admin.grantAccess(ADMIN, 'ops', 'linux', 'ssh');
  // Devices connected before have their host key pinned: without this, each first session would pin it
  // (an admin write that reloads every process's policy), which measures onboarding, not a release.
  await kyselyOf(s.store).updateTable('devices').set({ host_key: device.hostKey!, host_key_pinned_at: Date.now() }).execute();
  await s.close();
  log(`seeded ${DEVICES} devices in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
const sshPort = Number(env.GATEHOUSE_SSH_PORT);
const gw = await serveCompiled(compiled, env, sshPort, launcherFlags());
await sleep(3000);
const rssIdle = procTreeStat(gw.pid).rssMB;
const crowd = new Crowd({ port: sshPort, privateKey: alice.private, user: 'alice', command: 'echo through' });

/** Connects clients [from, to), then reads RSS and the CPU the gateway uses while they only wait. */
async function hold(from: number, to: number, idleS: number, settleS = 5) {
  const t0 = Date.now();
  await pool(
    Array.from({ length: to - from }, (_, i) => from + i),
    50,
    (i) => crowd.connect(deviceOf(i), i),
  );
  const rampS = (Date.now() - t0) / 1000;
  await sleep(settleS * 1000);
  const a = procTreeStat(gw.pid);
  const ta = threadCpu(gw.pid);
  await sleep(idleS * 1000);
  const b = procTreeStat(gw.pid);
  const threads = threadCpuText(ta, threadCpu(gw.pid));
  const f = {
    waiting: crowd.waiting(),
    rampS,
    rssMB: b.rssMB,
    idleCpuPct: ((b.cpuMs - a.cpuMs) / (idleS * 1000)) * 100,
    threads,
    load: loadavg()[0],
  };
  log(
    `${f.waiting} waiting (ramp ${rampS.toFixed(0)} s): RSS ${f.rssMB.toFixed(0)} MB, CPU while waiting ${f.idleCpuPct.toFixed(1)} % of a core over ${idleS} s, ${settleS} s after the ramp (${threads}; ${loadText()})`,
  );
  return f;
}

const anchor = await hold(0, ANCHOR, 10);
const full = await hold(ANCHOR, N, IDLE_S, SETTLE_S);

// 2,000 decisions at once through the API (bob's console session), one request each: the first 2,000
// connections' requests, which have the lowest numbers (they were made first).
const bob = await login({ web: Number(env.GATEHOUSE_WEB_PORT) } as Node, 'bob', 'bob-S3cret-pass');
const ids = crowd.requestIds().slice(0, APPROVE);
const cpu0 = procTreeStat(gw.pid).cpuMs;
const t0 = performance.now();
const apiMs: number[] = [];
let refused = 0;
const approvals = pool(ids, 200, async (id) => {
  const a = performance.now();
  const r = await bob(`/approvals/${id}/approve`, {});
  apiMs.push(performance.now() - a);
  if (r.status !== 200) refused++;
});
const through = await crowd.through(ids, 60_000, t0);
await approvals;
const allThroughMs = performance.now() - t0;
const releaseCpuMs = procTreeStat(gw.pid).cpuMs - cpu0;
const rssAfter = procTreeStat(gw.pid).rssMB;
log(
  `${through.ok.length}/${ids.length} approved sessions through after ${allThroughMs.toFixed(0)} ms (p50 ${pct(through.ok, 0.5).toFixed(0)} ms, p99 ${pct(through.ok, 0.99).toFixed(0)} ms); API answers p50 ${pct(apiMs, 0.5).toFixed(0)} ms, p99 ${pct(apiMs, 0.99).toFixed(0)} ms; ${refused} refused; gateway CPU ${releaseCpuMs} ms; RSS ${rssAfter.toFixed(0)} MB`,
);

const result = {
  at: new Date().toISOString(),
  loadAverageAtStart: load0,
  loadAverageAtEnd: loadavg(),
  rssIdleMB: rssIdle,
  anchor,
  full,
  release: {
    approved: ids.length,
    refused,
    through: through.ok.length,
    failed: through.failed,
    allThroughMs,
    apiP50: pct(apiMs, 0.5),
    apiP99: pct(apiMs, 0.99),
    gatewayCpuMs: releaseCpuMs,
    rssAfterMB: rssAfter,
  },
};
mkdirSync(resolve('.bench-out'), { recursive: true });
writeFileSync(resolve('.bench-out/held.json'), JSON.stringify(result, null, 2));
const mb = (x: number) => `${x.toFixed(0)} MB`;
console.log(
  `\nHeld connections, GATEHOUSE_WORKERS=${WORKERS} (load average ${load0.map((x) => x.toFixed(1)).join(' ')} at start, ${loadavg()[0].toFixed(1)} at end)`,
);
console.log(`  gateway idle: ${mb(rssIdle)}`);
console.log(`  anchor, ${anchor.waiting} waiting: ${mb(anchor.rssMB)}, ${anchor.idleCpuPct.toFixed(1)} % of a core`);
console.log(
  `  ${full.waiting} waiting: ${mb(full.rssMB)} (target < 1 GB), ${full.idleCpuPct.toFixed(1)} % of a core over ${IDLE_S} s (target < 5 %)`,
);
console.log(
  `  ${ids.length} approved at once through the API: all through in ${(allThroughMs / 1000).toFixed(2)} s (target < 5 s), ${through.failed} failed, ${refused} refused`,
);
crowd.end();
await gw.stop();
await device.stop();
compiled.remove();
rmSync(dir, { recursive: true, force: true });
process.exit(0);

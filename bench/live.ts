// Live interactive sessions (issue 24, item 2): BENCH_LIVE_N (500) concurrent SSH sessions with a PTY,
// each typing a key every 200 ms and now and then asking for a 64 KiB burst of output, in three phases of
// BENCH_LIVE_SECONDS (30) each, back to back in one run:
//   direct    - ssh2 clients straight to a real sshd (the anchor for latency);
//   gateway   - the same through the gateway (compiled, one process), every session recorded (asciicast);
//   proxyjump - the same through a stock sshd as a jump host (direct-tcpip, as `ssh -J` does).
// Figures: keystroke-to-echo latency added over direct (target p99 <= 5 ms), gateway RSS (target
// <= 1.5 GB), gateway CPU per session, and the jump host's memory (PSS of its processes) for comparison.
// Run: npm run bench -- live      (figures also in .bench-out/live.json)
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ssh2 from 'ssh2';
import { loadConfig } from '../src/config/env.js';
import { makeLogger } from '../src/log.js';
import { ensureAdmin, openServices } from '../src/services.js';
import { makeKey, startSshd, type Sshd } from './lib/ssh.js';
import { freePort } from './lib/net.js';
import { compileGateway, launcherFlags, procStat, serveCompiled } from './lib/gateway.js';
import { pool } from './lib/server.js';
import { openTypist, type, type Typist } from './lib/typists.js';
import { loadText, pct } from './lib/stats.js';
import { sleep } from './lib/wait.js';

const N = Number(process.env.BENCH_LIVE_N ?? 500);
const SECONDS = Number(process.env.BENCH_LIVE_SECONDS ?? 30);
const ADMIN = { username: 'admin', id: null, channel: 'cli' as const };
const log = (s: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

/** Proportional set size (kB) of a process: its share of pages it shares with others (sshd's children share most). */
function pssKb(pid: number): number {
  try {
    return Number(/Pss:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The PIDs under `root` (itself included), from /proc's parent links. */
function tree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [p, pp] of parent) if (pp === out[i]) out.push(p);
  return out;
}

const sshdPid = (d: Sshd) => Number(readFileSync(join(d.dir, 'sshd.pid'), 'utf8'));

async function phase(name: string, open: (i: number) => Promise<Typist>, measure: () => { memMB: number; cpuMs: number }) {
  const t0 = Date.now();
  const typists = await pool(
    Array.from({ length: N }, (_, i) => i),
    25,
    (i) => open(i),
  );
  log(`${name}: ${typists.length} sessions open after ${((Date.now() - t0) / 1000).toFixed(0)} s (${loadText()})`);
  await sleep(2000);
  const a = measure();
  const lat = await type(typists, SECONDS);
  const b = measure();
  const f = {
    sessions: typists.length,
    keys: lat.length,
    p50: pct(lat, 0.5),
    p99: pct(lat, 0.99),
    memMB: b.memMB,
    cpuPctPerSession: ((b.cpuMs - a.cpuMs) / (SECONDS * 1000) / typists.length) * 100,
    load: loadavg()[0],
  };
  log(
    `${name}: echo p50 ${f.p50.toFixed(2)} ms, p99 ${f.p99.toFixed(2)} ms over ${f.keys} keys; memory ${f.memMB.toFixed(0)} MB (${loadText()})`,
  );
  for (const t of typists) t.client.end();
  await sleep(2000);
  return f;
}

const load0 = loadavg();
log(`${loadText()}; compiling the gateway`);
const compiled = compileGateway();
const target = await startSshd();
const bastion = await startSshd({ accountKey: target.accountKey });
const dir = mkdtempSync(join(tmpdir(), 'gh-bench-live-'));
const alice = makeKey(dir, 'alice');
const env: Record<string, string> = {
  GATEHOUSE_DATA_DIR: dir,
  GATEHOUSE_SECRET_KEY: 'bench-vault-key-0123456789abcdef',
  GATEHOUSE_ADMIN_PASSWORD: 'admin-pass-123',
  GATEHOUSE_SSH_PORT: String(await freePort()),
  GATEHOUSE_WEB_PORT: String(await freePort()),
  GATEHOUSE_RDP_PORT: '0',
  GATEHOUSE_HTTP_PROXY_PORT: '0',
};
{
  const s = await openServices(loadConfig(env), makeLogger('silent'));
  await ensureAdmin(s);
  await s.admin.addUser(ADMIN, { username: 'alice', password: 'alice-S3cret-pass', sshKeys: [alice.public] });
  await s.admin.addGroup(ADMIN, 'user', 'ops', {});
  await s.admin.addMember(ADMIN, 'ops', 'alice');
  await s.admin.addGroup(ADMIN, 'device', 'linux', {});
  await s.admin.addDevice(ADMIN, { name: 'web01', host: '127.0.0.1', protocols: 'ssh', group: 'linux', port: target.port });
  await s.admin.addAccount(ADMIN, 'web01', target.account, { privateKey: target.accountKey.private });
  await s.admin.grantAccess(ADMIN, 'ops', 'linux', 'ssh');
  await s.close();
}
const gwPort = Number(env.GATEHOUSE_SSH_PORT);
const gw = await serveCompiled(compiled, env, gwPort, launcherFlags());
const rssIdle = procStat(gw.pid).rssMB;
const key = target.accountKey.private;
const source = (i: number) => `127.0.0.${1 + (i % 8)}`;
const sshdMem = (d: Sshd) => () => ({ memMB: tree(sshdPid(d)).reduce((a, p) => a + pssKb(p), 0) / 1024, cpuMs: 0 });

const direct = await phase(
  'direct',
  (i) => openTypist({ host: '127.0.0.1', port: target.port, localAddress: source(i), username: target.account, privateKey: key }),
  sshdMem(target),
);
const gateway = await phase(
  'gateway',
  (i) => openTypist({ host: '127.0.0.1', port: gwPort, localAddress: source(i), username: 'alice@web01', privateKey: alice.private }),
  () => {
    const p = procStat(gw.pid);
    return { memMB: p.rssMB, cpuMs: p.cpuMs };
  },
);
const hops: ssh2.Client[] = [];
const proxyjump = await phase(
  'proxyjump',
  async (i) => {
    const hop = new ssh2.Client();
    hops.push(hop);
    await new Promise<void>((ok, fail) => {
      hop.once('ready', ok).once('error', fail);
      hop.connect({
        host: '127.0.0.1',
        port: bastion.port,
        localAddress: source(i),
        username: bastion.account,
        privateKey: key,
        readyTimeout: 120_000,
      });
    });
    const sock = await new Promise<ssh2.ClientChannel>((ok, fail) =>
      hop.forwardOut('127.0.0.1', 0, '127.0.0.1', target.port, (err, ch) => (err ? fail(err) : ok(ch))),
    );
    return openTypist({ sock, username: target.account, privateKey: key });
  },
  sshdMem(bastion),
);
for (const h of hops) h.end();
const recordings = readdirSync(dir, { recursive: true }).filter((f) => String(f).includes('.cast')).length;

const result = {
  at: new Date().toISOString(),
  loadAverageAtStart: load0,
  loadAverageAtEnd: loadavg(),
  n: N,
  seconds: SECONDS,
  rssIdle,
  direct,
  gateway,
  proxyjump,
  recordings,
};
mkdirSync(resolve('.bench-out'), { recursive: true });
writeFileSync(resolve('.bench-out/live.json'), JSON.stringify(result, null, 2));
const ms = (x: number) => `${x.toFixed(2)} ms`;
console.log(
  `\n${N} live PTY sessions, a key every 200 ms, ${SECONDS} s per phase (load average ${load0.map((x) => x.toFixed(1)).join(' ')} at start, ${loadavg()[0].toFixed(1)} at end)`,
);
console.log(`  echo latency      p50        p99       (load at phase end)`);
for (const [n, f] of [
  ['direct', direct],
  ['gateway', gateway],
  ['proxyjump', proxyjump],
] as const)
  console.log(`  ${n.padEnd(16)}${ms(f.p50).padStart(9)}  ${ms(f.p99).padStart(9)}   (${f.load.toFixed(1)})`);
console.log(`  gateway added: p50 ${ms(gateway.p50 - direct.p50)}, p99 ${ms(gateway.p99 - direct.p99)} (target p99 <= 5 ms)`);
console.log(
  `  gateway RSS ${gateway.memMB.toFixed(0)} MB with ${N} sessions (idle ${rssIdle.toFixed(0)} MB; target <= 1.5 GB); ${recordings} recordings`,
);
console.log(`  gateway CPU per session: ${gateway.cpuPctPerSession.toFixed(3)} % of a core`);
console.log(
  `  jump host (stock sshd), ${N} sessions: ${proxyjump.memMB.toFixed(0)} MB PSS; the target sshd with ${N} direct sessions: ${direct.memMB.toFixed(0)} MB PSS`,
);
await gw.stop();
await target.stop();
await bastion.stop();
compiled.remove();
rmSync(dir, { recursive: true, force: true });
process.exit(0);

// Database gateway benchmark (issue 23). Run: npm run bench -- db
//  pgbench select-only (-S), 10 clients, 30 s, side by side against the device directly, through
//  pgbouncer (session mode, Debian's package) and through the gateway (TLS on every client leg, the
//  statement audit on); then with -C (a new connection per transaction), connection set-up against
//  pgbouncer. Targets: gateway >= 1.0x pgbouncer TPS and >= 0.7x direct.
//  Like for like: every pass runs all targets with the same client sslmode (require, then disable), and
//  both middlemen reach the device over TLS (pgbouncer server_tls_sslmode=prefer, the gateway's default).
//  BENCH_DB_SECONDS (default 30) and BENCH_DB_CONNECT_SECONDS (default 15) shorten it; BENCH_DB_ONLY
//  (e.g. gateway) runs only the named targets; BENCH_DB_MODES (default require,disable) picks the passes;
//  BENCH_DB_WORKERS=N runs the gateway as `gatehouse serve` with N workers instead of in this process.
//  Each middleman's CPU time per transaction (user + system, from /proc) is printed beside its figure.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasBinary } from './lib/peers.js';
import { freePort, waitForPort } from './lib/net.js';
import { procStat } from './lib/gateway.js';
import { ALICE_PW, APP_RW_PW, serveGateway, startDevice, startGateway } from './lib/pgdb.js';

const SECONDS = Number(process.env.BENCH_DB_SECONDS ?? 30);
const CONNECT_SECONDS = Number(process.env.BENCH_DB_CONNECT_SECONDS ?? 15);
const ONLY = (process.env.BENCH_DB_ONLY ?? '').split(',').filter(Boolean);
const MODES = (process.env.BENCH_DB_MODES ?? 'require,disable').split(',').filter(Boolean);
const WORKERS = Number(process.env.BENCH_DB_WORKERS ?? 0);

interface Target {
  name: string;
  conn: string;
  password: string;
  /** CPU ms used so far by the middleman's processes (none for direct). */
  cpuMs?: () => number;
}

interface Middlemen {
  bouncer: () => number;
  gateway: () => number;
}

const cpuOf = (pids: number[]): number =>
  pids.reduce((sum, pid) => {
    try {
      return sum + procStat(pid).cpuMs;
    } catch {
      return NaN;
    }
  }, 0);

/**
 * pgbench with the middleman's CPU time per transaction. Steady runs count from pgbench's third progress
 * report on (-P 1), so the ten logins (the gateway's argon2 check) stay out of the per-transaction figure;
 * -C runs count the whole run, since there the login is the point.
 */
async function measured(t: Target, extra: string[], seconds: number): Promise<{ tps: number; load: number; usPerTx: string }> {
  const cpu = t.cpuMs;
  if (!cpu) return { ...(await pgbench(t, extra, seconds)), usPerTx: '' };
  const whole = extra.includes('-C');
  const before = cpu();
  let reports = 0;
  let from = NaN;
  let to = NaN;
  let tx = 0;
  const r = await pgbench(t, whole ? extra : [...extra, '-P', '1'], seconds, (tps) => {
    if (++reports === 2) from = cpu();
    else if (reports > 2) {
      to = cpu();
      tx += tps;
    }
  });
  const us = whole ? ((cpu() - before) * 1000) / r.tx : ((to - from) * 1000) / tx;
  return { ...r, usPerTx: Number.isFinite(us) ? `${us.toFixed(0).padStart(5)} us CPU/tx` : '' };
}

/** pgbench as a child process; asynchronous, since the gateway runs in this process's event loop. */
function pgbench(
  t: Target,
  extra: string[],
  seconds: number,
  onProgress?: (tps: number) => void,
): Promise<{ tps: number; load: number; tx: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn('pgbench', ['-S', '-n', '-c', '10', '-j', '2', '-T', String(seconds), ...extra, t.conn], {
      env: { ...process.env, PGPASSWORD: t.password },
    });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => {
      const text = b.toString();
      out += text;
      for (const m of text.matchAll(/progress: [\d.]+ s, ([\d.]+) tps/g)) onProgress?.(Number(m[1]));
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), (seconds + 120) * 1000);
    p.on('close', () => {
      clearTimeout(timer);
      const m = /tps = ([\d.]+)/.exec(out);
      const tx = /number of transactions actually processed: (\d+)/.exec(out);
      if (!m) return reject(new Error(`pgbench against ${t.name} failed: ${out.slice(-2000)}`));
      resolve({ tps: Number(m[1]), load: loadavg()[0], tx: tx ? Number(tx[1]) : NaN });
    });
  });
}

function startPgbouncer(devPort: number, port: number): { proc: ChildProcess; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gh-pgbouncer-'));
  chmodSync(dir, 0o755);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'].concat([
      '-subj',
      '/CN=pgbouncer',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]),
    { stdio: 'ignore' },
  );
  writeFileSync(join(dir, 'users.txt'), `"app_rw" "${APP_RW_PW}"\n`);
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `app = host=127.0.0.1 port=${devPort} dbname=app`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      `unix_socket_dir =`,
      'auth_type = scram-sha-256',
      `auth_file = ${join(dir, 'users.txt')}`,
      'pool_mode = session',
      'max_client_conn = 200',
      'default_pool_size = 20',
      // allow: TLS for clients asking for it (sslmode=require), plain for sslmode=disable.
      'client_tls_sslmode = allow',
      `client_tls_cert_file = ${join(dir, 'cert.pem')}`,
      `client_tls_key_file = ${join(dir, 'key.pem')}`,
      'server_tls_sslmode = prefer',
      'logfile =',
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      '',
    ].join('\n'),
  );
  const root = process.getuid?.() === 0;
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    for (const f of ['', 'key.pem', 'cert.pem', 'users.txt', 'pgbouncer.ini']) chownSync(join(dir, f), uid, gid);
  }
  // pgbouncer refuses to run as root.
  const cmd = root
    ? ['runuser', '-u', 'postgres', '--', 'pgbouncer', join(dir, 'pgbouncer.ini')]
    : ['pgbouncer', join(dir, 'pgbouncer.ini')];
  const proc = spawn(cmd[0], cmd.slice(1), { stdio: 'ignore' });
  return { proc, dir };
}

function ratio(m: Map<string, number>, a: string, b: string): string {
  return m.has(a) && m.has(b) ? `${a} / ${b} ${(m.get(a)! / m.get(b)!).toFixed(2)}x   ` : '';
}

/** One pass: every target with the same client sslmode, steady state then -C. */
async function pass(sslmode: string, devPort: number, bouncerPort: number, gwPort: number, cpu: Middlemen): Promise<void> {
  const all: Target[] = [
    { name: 'direct', conn: `host=127.0.0.1 port=${devPort} user=app_rw dbname=app sslmode=${sslmode}`, password: APP_RW_PW },
    {
      name: 'pgbouncer',
      conn: `host=127.0.0.1 port=${bouncerPort} user=app_rw dbname=app sslmode=${sslmode}`,
      password: APP_RW_PW,
      cpuMs: cpu.bouncer,
    },
    {
      name: 'gateway',
      conn: `host=127.0.0.1 port=${gwPort} user=alice@pgdb01 dbname=app sslmode=${sslmode}`,
      password: ALICE_PW,
      cpuMs: cpu.gateway,
    },
  ];
  const targets = all.filter((t) => !ONLY.length || ONLY.includes(t.name));
  const leg = sslmode === 'disable' ? 'plain client leg' : 'TLS client leg';
  console.log(
    `pgbench -S, 10 clients, ${SECONDS} s, sslmode=${sslmode} (${leg} everywhere; device leg TLS; gateway audits every statement)`,
  );
  const steady = new Map<string, number>();
  for (const t of targets) {
    const r = await measured(t, [], SECONDS);
    steady.set(t.name, r.tps);
    console.log(`  ${t.name.padEnd(10)} ${r.tps.toFixed(0).padStart(8)} tps   load ${r.load.toFixed(2)}   ${r.usPerTx}`);
  }
  console.log(`  ${ratio(steady, 'gateway', 'pgbouncer')}${ratio(steady, 'gateway', 'direct')}`);
  if (CONNECT_SECONDS <= 0) return;
  console.log(`pgbench -S -C (a new connection per transaction), 10 clients, ${CONNECT_SECONDS} s, sslmode=${sslmode}`);
  console.log('  (pgbouncer hands each client a pooled, already logged-in server connection; the gateway, like direct,');
  console.log('   starts a new device session per client: TLS + SCRAM to the device and a backend fork each time)');
  const connect = new Map<string, number>();
  for (const t of targets) {
    const r = await measured(t, ['-C'], CONNECT_SECONDS);
    connect.set(t.name, r.tps);
    console.log(`  ${t.name.padEnd(10)} ${r.tps.toFixed(0).padStart(8)} connections/s   load ${r.load.toFixed(2)}   ${r.usPerTx}`);
  }
  console.log(`  ${ratio(connect, 'gateway', 'pgbouncer')}`);
}

async function main(): Promise<void> {
  console.log(
    `load at start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ${cpus().length} cores`,
  );
  for (const bin of ['initdb', 'pgbench', 'pgbouncer'])
    if (!hasBinary(bin)) throw new Error(`${bin} is not installed (postgresql-contrib, pgbouncer)`);
  const dev = await startDevice();
  // TLS not required, so the plain pass can run; clients asking for TLS still get it.
  const tlsEnv = { GATEHOUSE_DB_TLS_REQUIRED: 'false' };
  const gw = await startGateway(dev, { approval: false, env: tlsEnv });
  const served = WORKERS > 0 ? await serveGateway(gw, WORKERS, tlsEnv) : null;
  if (served) console.log(`gateway: gatehouse serve, GATEHOUSE_WORKERS=${WORKERS}`);
  else console.log("gateway: in this process (its CPU includes this bench's own, small)");
  const bouncerPort = await freePort();
  const bouncer = startPgbouncer(dev.port, bouncerPort);
  try {
    await waitForPort(bouncerPort);
    const bouncerPid = () => Number(readFileSync(join(bouncer.dir, 'pgbouncer.pid'), 'utf8'));
    const cpu: Middlemen = {
      bouncer: () => {
        try {
          return cpuOf([bouncerPid()]);
        } catch {
          return NaN;
        }
      },
      gateway: () => (served ? cpuOf(served.pids()) : (({ user, system }) => (user + system) / 1000)(process.cpuUsage())),
    };
    execFileSync('pgbench', ['-i', '-q', '-s', '10', `host=127.0.0.1 port=${dev.port} user=app_rw dbname=app`], {
      env: { ...process.env, PGPASSWORD: APP_RW_PW },
      stdio: 'ignore',
    });
    for (const mode of MODES) await pass(mode, dev.port, bouncerPort, served?.port ?? gw.port, cpu);
  } finally {
    bouncer.proc.kill('SIGTERM');
    rmSync(bouncer.dir, { recursive: true, force: true });
    await (served ? served.stop() : gw.stop());
    dev.stop();
  }
}

await main();

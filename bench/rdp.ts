// RDP gateway benchmarks (issue 7). Run: npm run bench -- rdp
//  1. Connection setup to xrdp's login screen: xfreerdp under Xvfb direct to xrdp, and through the
//     gateway with a fresh ticket each time (ticket check, grant re-check, session row included).
//  2. Bulk relay throughput: 1 GiB each way through the gateway's relay against the same transfer over a
//     direct TCP path. The client and the device run in a separate process
//     (the "peer"), so the gateway process does only the relaying, as in production. Reference relays
//     run in the same rounds when installed: nginx's stream module (C, copying through user space as the
//     gateway does; libnginx-mod-stream) and HAProxy with splice (the kernel moves the bytes; haproxy).
//     Their ratio to direct is what other relays get on this machine at that moment; the target is the
//     gateway >= 1.0x nginx stream. Each relay process's CPU and page faults per GiB are printed too.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connect, createServer, type Socket } from 'node:net';
import { issueTicket } from '../src/protocols/rdp/index.js';
import { clientConnectionRequest } from '../src/protocols/rdp/x224.js';
import { addRdpDevice, startGateway } from './lib/rdp.js';
import { freePort, waitForPort } from './lib/net.js';
import { hasBinary } from './lib/peers.js';
import { HAVE_XFREERDP, HAVE_XRDP, runXfreerdp, startXrdp } from './lib/xrdp.js';
import { CAN_COUNT_SYSCALLS, countSyscalls, describeSyscalls, procUse, useSince, type ProcUse } from './lib/rdp-meter.js';

const GIB = 1 << 30;
const BYTES = Number(process.env.BENCH_RDP_BYTES ?? GIB);
const RUNS = Number(process.env.BENCH_RDP_RUNS ?? 7);
const SETUP_RUNS = Number(process.env.BENCH_RDP_SETUP_RUNS ?? 5);
/** BENCH_RDP_PATHS=gateway,nginx: only these relays (direct always runs: ratios need it). */
const ONLY = process.env.BENCH_RDP_PATHS?.split(',').map((p) => p.trim());
/** BENCH_RDP_DIRS=up or down: one direction only. */
const DIRS = (['up', 'down'] as const).filter((d) => !process.env.BENCH_RDP_DIRS || process.env.BENCH_RDP_DIRS.split(',').includes(d));
const CC = Buffer.from('030000130ed000001234000200080001000000', 'hex');
const CHUNK = Buffer.alloc(64 * 1024, 0x5a);

// ---- the peer process: a device that answers the Connection Confirm, and a client ----
async function peer(): Promise<void> {
  const server = createServer((sock) => {
    sock.setNoDelay(true);
    let head = Buffer.alloc(0);
    let dir = 'up';
    let got = 0;
    const onData = (d: Buffer) => {
      if (got < 0) return;
      head = Buffer.concat([head, d]);
      if (head.length < 4 || head.length < head.readUInt16BE(2)) return;
      const req = head.subarray(0, head.readUInt16BE(2)).toString('latin1');
      dir = req.includes('down') || req.includes('mstshash=down') ? 'down' : 'up';
      got = -1;
      sock.removeListener('data', onData);
      sock.write(CC);
      if (dir === 'down') pump(sock, BYTES);
      else sock.resume();
    };
    sock.on('data', onData);
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.stdout.write(JSON.stringify({ port: (server.address() as { port: number }).port }) + '\n');
  for await (const line of createInterface({ input: process.stdin })) {
    const { port, ticket, dir } = JSON.parse(line) as { port: number; ticket: string | null; dir: 'up' | 'down' };
    const ms = await transfer(port, ticket, dir);
    process.stdout.write(JSON.stringify({ ms }) + '\n');
  }
  server.close();
}

function pump(sock: Socket, total: number, done?: () => void) {
  let sent = 0;
  const write = () => {
    while (sent < total) {
      const n = Math.min(CHUNK.length, total - sent);
      sent += n;
      if (!sock.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void sock.once('drain', write);
    }
    done?.();
  };
  write();
}

/** Connects (through the gateway with a ticket, or direct with a cookie), then moves BYTES one way. */
function transfer(port: number, ticket: string | null, dir: 'up' | 'down'): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = connect({ port, host: '127.0.0.1', noDelay: true });
    // The direction rides in the cookie (direct) — through the gateway the device sees the account's cookie, named after the direction.
    sock.write(
      ticket
        ? clientConnectionRequest({ routingToken: ticket, requestedProtocols: 1 })
        : clientConnectionRequest({ cookie: dir, requestedProtocols: 1 }),
    );
    let seen = 0;
    let t0 = 0;
    let started = false;
    sock.on('data', (d: Buffer) => {
      seen += d.length;
      if (!started && seen >= CC.length) {
        started = true;
        t0 = performance.now();
        seen -= CC.length;
        if (dir === 'up') pump(sock, BYTES, () => sock.end());
      }
      if (started && dir === 'down' && seen >= BYTES) {
        sock.destroy();
        resolve(performance.now() - t0);
      }
    });
    sock.on('close', () => {
      if (dir === 'up') resolve(performance.now() - t0);
    });
    sock.on('error', reject);
  });
}

const NGINX_STREAM = '/usr/lib/nginx/modules/ngx_stream_module.so';

interface Reference {
  name: string;
  port: number;
  pid: number;
  stop(): void;
}

/**
 * The reference relays to `to` that are installed, each on CPU 1 when `pin` (as the gateway):
 *  - nginx's stream module (one worker, 64 KiB buffers): read() and write() through user space, as the
 *    gateway does, in C;
 *  - HAProxy with splice forced both ways: the kernel moves the bytes from socket to socket (splice(2),
 *    which Node cannot call), the most a relay can skip.
 */
async function startReferences(to: number, pin: boolean): Promise<{ refs: Reference[]; skipped: string[] }> {
  const refs: Reference[] = [];
  const skipped: string[] = [];
  const start = async (
    name: string,
    file: string,
    conf: (port: number, dir: string) => string,
    argv: (cfg: string, dir: string) => string[],
  ) => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-relay-'));
    const port = await freePort();
    writeFileSync(join(dir, file), conf(port, dir));
    const [cmd, ...args] = argv(join(dir, file), dir);
    const proc: ChildProcess = spawn(pin ? 'taskset' : cmd, [...(pin ? ['-c', '1', cmd] : []), ...args], { stdio: 'ignore' });
    await waitForPort(port, 5000).catch(() => {
      throw new Error(`${name} did not start (exit code ${proc.exitCode})`);
    });
    refs.push({ name, port, pid: proc.pid!, stop: () => (proc.kill('SIGTERM'), rmSync(dir, { recursive: true, force: true })) });
  };
  const wanted = (name: string) => !ONLY || ONLY.some((o) => name.startsWith(o));
  if (existsSync(NGINX_STREAM) && wanted('nginx stream'))
    await start(
      'nginx stream',
      'nginx.conf',
      (
        port,
        dir,
      ) => `load_module ${NGINX_STREAM}; daemon off; master_process off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 64; }
stream { server { listen 127.0.0.1:${port}; proxy_pass 127.0.0.1:${to}; proxy_buffer_size 64k; } }`,
      (cfg, dir) => ['nginx', '-c', cfg, '-p', dir, '-e', join(dir, 'error.log')],
    );
  else if (wanted('nginx stream')) skipped.push('nginx stream (apt-get install libnginx-mod-stream)');
  if (hasBinary('haproxy') && wanted('haproxy splice'))
    await start(
      'haproxy splice',
      'haproxy.cfg',
      (port) =>
        `global\n  maxconn 64\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n  option splice-request\n  option splice-response\nlisten relay\n  bind 127.0.0.1:${port}\n  server device 127.0.0.1:${to}\n`,
      (cfg) => ['haproxy', '-f', cfg, '-db'],
    );
  else if (wanted('haproxy splice')) skipped.push('haproxy splice (apt-get install haproxy)');
  return { refs, skipped };
}

// ---- the benchmark ----
async function main(): Promise<void> {
  const g = await startGateway({ opsApproval: false });
  // BENCH_RDP_PIN=1: the gateway (this process) on CPU 1 and the peer on CPU 0 (taskset), as if each had
  // a machine of its own; by default the scheduler places them, and they compete for both cores.
  const pin = !!process.env.BENCH_RDP_PIN;
  if (pin) execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const child = spawn(
    pin ? 'taskset' : process.execPath,
    [...(pin ? ['-c', '0', process.execPath] : []), '--import', 'tsx', 'bench/rdp.ts', 'peer'],
    { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, BENCH_RDP_BYTES: String(BYTES) } },
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => JSON.parse(String((await lines.next()).value)) as Record<string, number>;
  const { port: devicePort } = await next();
  // Two devices on the same peer, whose accounts name the direction (the peer reads it from the cookie).
  for (const dir of ['up', 'down'] as const) {
    await g.s.admin.addDevice(
      { username: 'admin', id: null, channel: 'cli' },
      { name: `bench-${dir}`, host: '127.0.0.1', protocols: 'rdp', group: 'windows', port: devicePort },
    );
    await g.s.admin.addAccount({ username: 'admin', id: null, channel: 'cli' }, `bench-${dir}`, dir, { password: 'unused-secret' });
  }
  const { refs, skipped } = await startReferences(devicePort, pin);
  /** 'direct', 'gateway', or a reference relay's name. */
  type Path = string;
  const scale = GIB / BYTES;
  /** Per direction and path, what the relay process spent per GiB in each round. */
  const use: Record<string, Record<Path, ProcUse[]>> = { up: {}, down: {} };
  const calls: Record<string, Record<Path, Record<string, number>[]>> = { up: {}, down: {} };
  const run = async (dir: 'up' | 'down', path: Path) => {
    const through = path === 'gateway';
    let ticket: string | null = null;
    if (through) {
      const t = await issueTicket(g.s, { username: 'alice', device: `bench-${dir}`, channel: 'cli' });
      if (t.outcome !== 'allowed') throw new Error('no ticket');
      ticket = t.ticket;
    }
    const ref = refs.find((r) => r.name === path);
    const pid = through ? process.pid : ref?.pid;
    const counter = pid && CAN_COUNT_SYSCALLS ? countSyscalls(pid) : null;
    if (counter) await new Promise((r) => setTimeout(r, 500)); // perf attaches
    const before = pid ? procUse(pid) : null;
    child.stdin!.write(JSON.stringify({ port: through ? g.port : (ref?.port ?? devicePort), ticket, dir }) + '\n');
    const ms = (await next()).ms;
    if (pid && before) {
      const u = useSince(pid, before);
      (use[dir][path] ??= []).push({ cpuMs: u.cpuMs * scale, sysMs: u.sysMs * scale, minorFaults: u.minorFaults * scale });
    }
    if (counter) {
      const c = await counter.stop();
      (calls[dir][path] ??= []).push(Object.fromEntries(Object.entries(c).map(([k, n]) => [k, n * scale])));
    }
    return ms;
  };
  const mbps = (ms: number) => BYTES / 1e6 / (ms / 1000);
  console.log(
    `RDP relay throughput, ${(BYTES / GIB).toFixed(2)} GiB per run (peer process: client + device; gateway: this process${pin ? '; pinned: gateway CPU 1, peer CPU 0' : ''}); load at start ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const paths: Path[] = ['direct', 'gateway', ...refs.map((r) => r.name)].filter(
    (p) => p === 'direct' || !ONLY || ONLY.some((o) => p.startsWith(o)),
  );
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const dir of DIRS) {
    // Rounds run the paths back to back and ratios are taken within a round: this machine's throughput
    // drifts by ±30 % between runs, far more than within a round. The order rotates from round to round,
    // so a drift during a round favours no path.
    const mb: Record<Path, number[]> = Object.fromEntries(paths.map((p) => [p, []]));
    for (let i = 0; i < RUNS; i++)
      for (let k = 0; k < paths.length; k++) {
        const p = paths[(i + k) % paths.length];
        mb[p].push(mbps(await run(dir, p)));
      }
    const ratio = (p: Path, q: Path) => {
      const rs = mb[p].map((x, i) => x / mb[q][i]);
      return `${med(rs).toFixed(2)}x (rounds ${rs.map((r) => r.toFixed(2)).join(' ')})`;
    };
    console.log(
      `  ${dir === 'up' ? 'client->device' : 'device->client'} (median of ${RUNS} rounds, load now ${loadavg()[0].toFixed(1)}): direct ${med(mb.direct).toFixed(0)} MB/s`,
    );
    for (const p of paths.filter((q) => q !== 'direct')) {
      const u = use[dir][p] ?? [];
      const vsRefs =
        p === 'gateway'
          ? refs
              .filter((r) => paths.includes(r.name))
              .map((r) => `; = ${ratio('gateway', r.name)} ${r.name}`)
              .join('')
          : '';
      console.log(`    ${p} ${med(mb[p]).toFixed(0)} MB/s = ${ratio(p, 'direct')} direct${vsRefs}`);
      console.log(
        `      its process per GiB: CPU ${med(u.map((x) => x.cpuMs)).toFixed(0)} ms (${med(u.map((x) => x.sysMs)).toFixed(0)} in the kernel), ${med(u.map((x) => x.minorFaults)).toFixed(0)} minor page faults (medians)`,
      );
      const c = calls[dir][p];
      if (c?.length) {
        const names = Object.keys(c[0]);
        const m = Object.fromEntries(names.map((n) => [n, med(c.map((x) => x[n] ?? 0))]));
        console.log(`      system calls per GiB: ${describeSyscalls(m, GIB)}`);
      }
    }
  }
  if (skipped.length) console.log(`  reference relays skipped: ${skipped.join(', ')}`);
  for (const r of refs) r.stop();
  child.stdin!.end();

  if (SETUP_RUNS > 0 && HAVE_XRDP && HAVE_XFREERDP) {
    const xrdp = await startXrdp();
    await addRdpDevice(g.s, 'xrdp', xrdp.port);
    const d: number[] = [];
    const v: number[] = [];
    for (let i = 0; i < SETUP_RUNS; i++) {
      const a = await runXfreerdp({ port: xrdp.port, xrdp });
      const t = await issueTicket(g.s, { username: 'alice', device: 'xrdp', channel: 'cli' });
      const b = await runXfreerdp({ port: g.port, ticket: t.outcome === 'allowed' ? t.ticket : '', xrdp });
      if (a.loginMs === null || b.loginMs === null) throw new Error(`no login screen: ${a.output}${b.output}`);
      d.push(a.loginMs);
      v.push(b.loginMs);
    }
    await xrdp.stop();
    console.log(
      `Setup to xrdp's login screen (xvfb-run + xfreerdp start included, median of ${SETUP_RUNS}): direct ${med(d)} ms, through the gateway ${med(v)} ms (${med(v) - med(d) >= 0 ? '+' : ''}${med(v) - med(d)} ms)`,
    );
    console.log(`  runs direct: ${d.join(', ')} ms; through gateway: ${v.join(', ')} ms`);
  } else if (SETUP_RUNS > 0) console.log('Setup to login screen: skipped (install xrdp freerdp2-x11 xvfb imagemagick)');
  await g.stop();
}

if (process.argv[2] === 'peer') await peer();
else await main();

// HTTP proxy benchmark (issue 6), with wrk from Debian: requests per second and p99 latency for 1 KiB and
// 64 KiB responses at 50 connections, side by side in one run:
//   direct   - wrk -> the upstream (nginx serving static files, one worker)
//   nginx    - wrk -> nginx as a plain reverse proxy (one worker, upstream keep-alive) -> the upstream
//   gateway  - wrk -> Gatehouse's HTTP proxy (one process, a valid grant, cookie checked) -> the upstream
//   bare     - wrk -> a bare undici Pool.stream proxy that only looks for the cookie (the floor for Node's HTTP clients)
//   relay    - wrk -> a plain TCP relay in Node, no HTTP parsing (the floor for any Node proxy on this machine)
//   gateway x2 - the same with two worker processes (node:cluster, the kernel spreads connections)
//   gateway, no credential - the one-process gateway to a device whose credential is not injected
//              (auth none): no answer scanning; `gateway` injects one, so every answer is scanned
// Target: gateway >= 0.45x nginx's req/s; p99 under 3 ms added over direct.
// Run: node --import tsx bench/http.ts   (BENCH_SECONDS=5 per run, BENCH_ROUNDS=3; figures are medians over
// the rounds, every target run once per round, back to back). The gateway runs compiled (dist/, built first).
import { execFile, execFileSync, fork, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import cluster from 'node:cluster';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { ADMIN, consoleLogin, api, proxyCookie, startGw, startNginx } from './lib/http.js';
import { freePort } from './lib/net.js';
import { RUNTIME_FLAGS } from '../src/runtime.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNS = 50;
/**
 * Node flags for the gateway workers and the bare proxy: the launcher's (bin/gatehouse.js, npm start), so
 * the gateway runs as in production and the bare proxy on the same runtime; BENCH_DEFAULT_RUNTIME=1 runs
 * both without them (the A/B for src/runtime.ts), BENCH_NODE_FLAGS adds more.
 */
const NODE_FLAGS = [
  ...(process.env.BENCH_DEFAULT_RUNTIME ? [] : RUNTIME_FLAGS),
  ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
];

interface Figure {
  rps: number;
  p99: number;
}

/** Each connection waits this long between requests in the paced runs: about 50 / 20 ms = 2,500 req/s at most. */
const PACE_MS = Number(process.env.BENCH_PACE_MS ?? 20);
const paceScript = join(mkdtempSync(join(tmpdir(), 'gh-wrk-')), 'pace.lua');
writeFileSync(paceScript, `function delay() return ${PACE_MS} end\n`);

/**
 * wrk as a child process. Saturated (as fast as possible: throughput, and latency under full load), or
 * paced (each connection pauses between requests, so the proxy is not the bottleneck: the latency it adds).
 */
async function wrk(url: string, headers: string[], paced = false): Promise<Figure> {
  const args = [
    '-t2',
    `-c${CONNS}`,
    `-d${SECONDS}s`,
    '--latency',
    ...(paced ? ['-s', paceScript] : []),
    ...headers.flatMap((h) => ['-H', h]),
    url,
  ];
  const { stdout: out } = await promisify(execFile)('wrk', args, { encoding: 'utf8' });
  if (process.env.BENCH_WRK_OUT) console.log(`wrk ${args.join(' ')}\n${out}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const m = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99 = m ? Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1) : NaN;
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} error responses on ${url}:\n${out}`);
  // No answer at all, or connections that failed or timed out: a broken run, not a slow one.
  const errors = /Socket errors: connect (\d+), read \d+, write \d+, timeout (\d+)/.exec(out);
  if (!(rps > 0) || (errors && (Number(errors[1]) > 0 || Number(errors[2]) > 0)))
    throw new Error(`wrk got no answers or saw failed connections on ${url}:\n${out}`);
  return { rps, p99 };
}

/** Two seconds of load on each size, results discarded. */
async function warm(...targets: [string, string[]][]): Promise<void> {
  for (const [base, headers] of targets)
    for (const size of ['1k', '64k'])
      await promisify(execFile)('wrk', ['-t2', `-c${CONNS}`, '-d2s', ...headers.flatMap((h) => ['-H', h]), `${base}/${size}.bin`]);
}

/** A process's peak resident memory so far, in MiB (VmHWM). */
function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** User + system CPU of a process so far, in ms (from /proc: clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** BENCH_SIZES for BENCH_ONLY_GATEWAY=1, checked before anything starts. */
function sizeSpecs(): string[] {
  const specs = (process.env.BENCH_SIZES ?? '1k,64k').split(',');
  for (const spec of specs)
    if (!/^(1k|64k)(:paced|:saturated)?$|^idle:\d+(\.\d+)?$/.test(spec))
      throw new Error(`BENCH_SIZES: "${spec}" is not 1k or 64k (optionally :paced or :saturated), or idle:<seconds>`);
  return specs;
}

async function main() {
  const specs = process.env.BENCH_ONLY_GATEWAY ? sizeSpecs() : [];
  if (spawnSync('sh', ['-c', 'command -v wrk']).status !== 0) throw new Error('wrk is not installed: apt-get install wrk');
  // The gateway processes run the compiled code (dist/), as `npm start` does.
  console.log('building dist/ (tsc -p tsconfig.build.json): the gateway runs compiled, as in production');
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  const upstream = await startNginx();
  const reverse = await startNginx({ proxyTo: upstream.port });
  // The device's console is the same static upstream; alice needs bob's approval, which bob gives.
  const gw = await startGw({ approval: true, nodePort: upstream.port });
  // `plain`: the same upstream with no injected credential, so its answers are not scanned.
  await gw.s.admin.addDevice(ADMIN, {
    name: 'plain',
    host: '127.0.0.1',
    protocols: 'http',
    group: 'web',
    ports: { http: upstream.port },
    options: { http: { auth: 'none' } },
  });
  await gw.s.admin.addAccount(ADMIN, 'plain', 'viewer', { password: 'plain-bench-pw' });
  const bob = await consoleLogin(gw, 'bob');
  for (const device of ['app', 'plain']) {
    const r = await gw.s.approvals.request({ username: 'alice', device, protocol: 'http', channel: 'web', reason: 'bench' });
    if (r.outcome !== 'waiting') throw new Error('expected a waiting request');
    await api(gw, bob, 'POST', `/approvals/${r.request.id}/approve`, { comment: 'bench' });
  }
  const cookie = await proxyCookie(gw, 'alice', 'app');
  const plainCookie = await proxyCookie(gw, 'alice', 'plain');
  const load0 = loadavg()[0];

  const dir = gw.dir;
  // Figures come from gateway processes of their own (as in production), not from this driver process:
  // stop the set-up gateway, keeping its data dir (same database and vault key, so the cookie and the
  // grant stay valid), then start one worker, then two, on one port (node:cluster; the kernel spreads
  // connections between the workers).
  await gw.g.stop();
  // Must be set before setupPrimary() to take effect: each worker accepts its own connections.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({
    exec: 'bench/http-worker.mjs',
    execArgv: [
      ...NODE_FLAGS,
      ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=/tmp/gh-http-prof', '--cpu-prof-interval=100'] : []),
    ],
    silent: false,
  });
  const workers = async (n: number) => {
    const port = await freePort();
    const env = {
      GATEHOUSE_DATA_DIR: dir,
      GATEHOUSE_SECRET_KEY: 'test-vault-key-0123456789abcdef',
      GATEHOUSE_HTTP_PROXY_PORT: String(port),
      GATEHOUSE_WEB_PORT: '0',
      GATEHOUSE_SSH_PORT: '0',
      GATEHOUSE_RDP_PORT: '0',
      GATEHOUSE_LOG_LEVEL: 'silent',
    };
    const ws: { once(e: string, f: (...a: unknown[]) => void): unknown; kill(): unknown; pid?: number; process?: { pid?: number } }[] = [];
    // One after the other: the first runs the migrations check alone.
    for (let i = 0; i < n; i++) {
      const w = process.env.BENCH_NO_CLUSTER
        ? fork('bench/http-worker.mjs', [], { env: { ...process.env, ...env }, execArgv: NODE_FLAGS })
        : cluster.fork(env);
      await new Promise((res) => w.once('message', res));
      ws.push(w);
    }
    return {
      port,
      pids: ws.map((w) => w.pid ?? w.process?.pid ?? 0),
      stop: () => Promise.all(ws.map((w) => new Promise((res) => (w.once('exit', res), w.kill())))),
    };
  };

  /** A reference proxy script (bench/http-*.mjs) to the upstream on a free port, once it says it is ready. */
  const reference = async (script: string, extraFlags: string[] = []) => {
    const port = await freePort();
    const proc = fork(script, [String(upstream.port), String(port)], { execArgv: [...NODE_FLAGS, ...extraFlags] });
    await new Promise((res) => proc.once('message', res));
    return { port, proc };
  };
  const { port: barePort, proc: bareProc } = await reference(
    'bench/http-bare.mjs',
    process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=/tmp/gh-http-prof/bare', '--cpu-prof-interval=100'] : [],
  );
  const { port: relayPort, proc: relayProc } = await reference('bench/http-relay.mjs');
  /** What both modes started and must stop (a failed run too): the reference proxies, both nginx, the data dir, the wrk script. */
  const stopShared = async () => {
    bareProc.kill();
    relayProc.kill();
    await reverse.stop();
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(paceScript, '..'), { recursive: true, force: true });
  };
  onFailure = stopShared;
  const one = await workers(1);
  const host = `app.localhost:${one.port}`;
  // Warm-up: the Node processes' first seconds of load run unoptimised code (the JIT has not seen it yet).
  await warm(
    [`http://127.0.0.1:${one.port}`, [`Host: ${host}`, `Cookie: ${cookie}`]],
    [`http://127.0.0.1:${barePort}`, [`Cookie: ${cookie}`]],
  );
  // BENCH_ONLY_GATEWAY=1: only the one-process gateway runs (for profiling: BENCH_PROFILE=1).
  if (process.env.BENCH_ONLY_GATEWAY) {
    // BENCH_SIZES=1k:paced,64k,1k:paced runs those loads in that order on the same processes (each
    // size saturated unless `:paced`, or BENCH_PACED=1 for all): a load's effect on the next shows.
    // `idle:N` waits N seconds with no load (in the full run, a process's paced run comes ~20 s after its
    // saturated one).
    for (const spec of specs) {
      const [size, mode] = spec.split(':');
      if (size === 'idle') {
        await new Promise((r) => setTimeout(r, Number(mode) * 1000));
        continue;
      }
      const paced = mode ? mode === 'paced' : !!process.env.BENCH_PACED;
      const n = await wrk(`http://127.0.0.1:${reverse.port}/${size}.bin`, [], paced);
      /** One wrk run, with the CPU the process `pid` spent per request, in µs. */
      const measured = async (pid: number, url: string, headers: string[]): Promise<[Figure, number]> => {
        const c0 = cpuMs(pid);
        const r = await wrk(url, headers, paced);
        return [r, ((cpuMs(pid) - c0) * 1000) / (r.rps * SECONDS)];
      };
      const [g, gCpu] = await measured(one.pids[0], `http://127.0.0.1:${one.port}/${size}.bin`, [`Host: ${host}`, `Cookie: ${cookie}`]);
      const [p, pCpu] = await measured(one.pids[0], `http://127.0.0.1:${one.port}/${size}.bin`, [
        `Host: plain.localhost:${one.port}`,
        `Cookie: ${plainCookie}`,
      ]);
      const [b, bCpu] = await measured(bareProc.pid!, `http://127.0.0.1:${barePort}/${size}.bin`, [`Cookie: ${cookie}`]);
      console.log(
        `${size}: nginx ${Math.round(n.rps)} req/s p99 ${n.p99} ms, gateway ${Math.round(g.rps)} req/s p99 ${g.p99} ms = ${(g.rps / n.rps).toFixed(2)}x nginx; no credential ${Math.round(p.rps)} req/s = ${(p.rps / n.rps).toFixed(2)}x nginx; bare ${Math.round(b.rps)} req/s p99 ${b.p99} ms (gateway ${(g.rps / b.rps).toFixed(2)}x bare); CPU per request: gateway ${gCpu.toFixed(0)} us, no credential ${pCpu.toFixed(0)} us, bare ${bCpu.toFixed(0)} us; load ${loadavg()[0].toFixed(1)}`,
      );
    }
    console.log(`peak RSS: gateway ${peakRssMb(one.pids[0])} MiB, bare ${peakRssMb(bareProc.pid!)} MiB`);
    bareProc.kill('SIGINT');
    await one.stop();
    await stopShared();
    await new Promise((r) => setTimeout(r, 1000));
    process.exit(0);
  }
  // Rounds: every target once per round, back to back, and the figures are medians over the rounds
  // (ratios taken within each round): this machine's throughput drifts by ±30 % between runs.
  const two = await workers(2);
  const host2 = `app.localhost:${two.port}`;
  await warm([`http://127.0.0.1:${two.port}`, [`Host: ${host2}`, `Cookie: ${cookie}`]]);
  const targets: Record<string, [string, string[]]> = {
    direct: [`http://127.0.0.1:${upstream.port}`, []],
    nginx: [`http://127.0.0.1:${reverse.port}`, []],
    relay: [`http://127.0.0.1:${relayPort}`, []],
    bare: [`http://127.0.0.1:${barePort}`, [`Cookie: ${cookie}`]],
    gateway: [`http://127.0.0.1:${one.port}`, [`Host: ${host}`, `Cookie: ${cookie}`]],
    gateway2: [`http://127.0.0.1:${two.port}`, [`Host: ${host2}`, `Cookie: ${cookie}`]],
    plain: [`http://127.0.0.1:${one.port}`, [`Host: plain.localhost:${one.port}`, `Cookie: ${plainCookie}`]],
  };
  /** CPU per request (µs) of the one-process gateway, per saturated run, for the scanned and unscanned device. */
  const cpu: Record<string, number[]> = {};
  // BENCH_ROUND_SIZES=64k: only that size in the rounds.
  const sizes = (process.env.BENCH_ROUND_SIZES ?? '1k,64k').split(',');
  const runs: Record<string, Figure[]> = {};
  const add = (k: string, f: Figure) => (runs[k] ??= []).push(f);
  for (let round = 1; round <= ROUNDS; round++) {
    process.stdout.write(`round ${round}/${ROUNDS}...\n`);
    for (const size of sizes) {
      for (const [name, [base, headers]] of Object.entries(targets)) {
        const c0 = cpuMs(one.pids[0]);
        const fr = await wrk(`${base}/${size}.bin`, headers);
        add(`${size} ${name}`, fr);
        if (name === 'gateway' || name === 'plain')
          (cpu[`${size} ${name}`] ??= []).push(((cpuMs(one.pids[0]) - c0) * 1000) / (fr.rps * SECONDS));
      }
      for (const name of ['direct', 'nginx', 'relay', 'bare', 'gateway', 'plain', 'gateway2'])
        add(`${size} paced ${name}`, await wrk(`${targets[name][0]}/${size}.bin`, targets[name][1], true));
    }
  }
  const rss = `peak RSS: gateway (one process) ${peakRssMb(one.pids[0])} MiB, each of two workers ${two.pids.map(peakRssMb).join(' / ')} MiB, bare proxy ${peakRssMb(bareProc.pid!)} MiB`;
  await one.stop();
  await two.stop();
  await stopShared();

  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const fig = (k: string): Figure => ({ rps: med(runs[k].map((x) => x.rps)), p99: med(runs[k].map((x) => x.p99)) });
  /** Median over rounds of a per-round ratio, with each round's value. */
  const ratio = (a: string, b: string, f: (x: Figure, y: Figure) => number) => {
    const per = runs[a].map((x, i) => f(x, runs[b][i]));
    return `${med(per).toFixed(2)} (rounds: ${per.map((r) => r.toFixed(2)).join(', ')})`;
  };
  const rps = (x: Figure, y: Figure) => x.rps / y.rps;
  const added = (x: Figure, y: Figure) => x.p99 - y.p99;
  const f = (x: Figure) => `${Math.round(x.rps).toString().padStart(7)} req/s  p99 ${x.p99.toFixed(2).padStart(6)} ms`;
  console.log(
    `\nHTTP proxy, ${CONNS} connections, wrk -t2, ${SECONDS} s per run, median of ${ROUNDS} rounds (machine: ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores; node ${NODE_FLAGS.join(' ') || 'without flags'})`,
  );
  console.log(rss);
  console.log(`load average (1 min): ${load0.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end`);
  for (const size of sizes) {
    const k = (name: string) => `${size} ${name}`;
    console.log(`\n${size === '1k' ? '1 KiB' : '64 KiB'} responses`);
    console.log(`  direct to upstream      ${f(fig(k('direct')))}`);
    console.log(`  nginx reverse proxy     ${f(fig(k('nginx')))}`);
    console.log(
      `  Node TCP relay          ${f(fig(k('relay')))}   = ${ratio(k('relay'), k('nginx'), rps)}x nginx (reference: bytes piped, no HTTP)`,
    );
    console.log(
      `  bare undici proxy       ${f(fig(k('bare')))}   = ${ratio(k('bare'), k('nginx'), rps)}x nginx (reference: no gate, no header work)`,
    );
    console.log(`  gateway, 1 process      ${f(fig(k('gateway')))}   = ${ratio(k('gateway'), k('nginx'), rps)}x nginx`);
    console.log(`  gateway, no credential  ${f(fig(k('plain')))}   = ${ratio(k('plain'), k('nginx'), rps)}x nginx (answers not scanned)`);
    console.log(
      `    injected credential (scanned) vs none: ${ratio(k('gateway'), k('plain'), rps)}x req/s; CPU per request ${med(cpu[k('gateway')]).toFixed(0)} us vs ${med(cpu[k('plain')]).toFixed(0)} us`,
    );
    console.log(`  gateway, 2 workers      ${f(fig(k('gateway2')))}   = ${ratio(k('gateway2'), k('gateway'), rps)}x one process`);
    console.log(`  paced (${CONNS} connections, ${PACE_MS} ms between requests on each): latency added by the proxy`);
    console.log(`    direct                ${f(fig(k('paced direct')))}`);
    console.log(
      `    nginx reverse proxy   ${f(fig(k('paced nginx')))}   p99 +${ratio(k('paced nginx'), k('paced direct'), added)} ms over direct`,
    );
    console.log(
      `    Node TCP relay        ${f(fig(k('paced relay')))}   p99 +${ratio(k('paced relay'), k('paced direct'), added)} ms over direct`,
    );
    console.log(
      `    bare undici proxy     ${f(fig(k('paced bare')))}   p99 +${ratio(k('paced bare'), k('paced direct'), added)} ms over direct`,
    );
    console.log(
      `    gateway, 1 process    ${f(fig(k('paced gateway')))}   p99 +${ratio(k('paced gateway'), k('paced direct'), added)} ms over direct`,
    );
    console.log(
      `    gateway over the Node TCP relay floor, same rounds: p99 +${ratio(k('paced gateway'), k('paced relay'), added)} ms (target <= +2 ms)`,
    );
    console.log(
      `    gateway, no credential ${f(fig(k('paced plain')))}  p99 +${ratio(k('paced plain'), k('paced direct'), added)} ms over direct`,
    );
    console.log(
      `    gateway, 2 workers    ${f(fig(k('paced gateway2')))}   p99 +${ratio(k('paced gateway2'), k('paced direct'), added)} ms over direct`,
    );
  }
}

/** Stops what the run started, once it has started it: a failed run leaves no nginx or temp dir behind. */
let onFailure: (() => Promise<void>) | null = null;

main().then(
  () => process.exit(0),
  async (err) => {
    console.error(err);
    await onFailure?.().catch(() => {});
    rmSync(join(paceScript, '..'), { recursive: true, force: true });
    process.exit(1);
  },
);

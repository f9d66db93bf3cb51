// HTTP proxy benchmark (issue 6), with wrk from Debian: requests per second and p99 latency for 1 KiB and
// 64 KiB responses at 50 connections, side by side in one run:
//   direct   - wrk -> the upstream (nginx serving static files, one worker)
//   nginx    - wrk -> nginx as a plain reverse proxy (one worker, upstream keep-alive) -> the upstream
//   gateway  - wrk -> Gatehouse's HTTP proxy (one process, a valid grant, cookie checked) -> the upstream
//   bare     - wrk -> a bare undici Pool.stream proxy that only looks for the cookie (the floor for Node)
//   gateway x2 - the same with two worker processes (node:cluster, the kernel spreads connections)
// Target: gateway >= 0.45x nginx's req/s; p99 under 3 ms added over direct.
// Run: node --import tsx bench/http.ts   (BENCH_SECONDS=10 by default)
import { execFile, execFileSync, fork, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import cluster from 'node:cluster';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consoleLogin, api, freePort, proxyCookie, startGw, startNginx } from '../test/http/helpers.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNS = 50;

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
  const args = ['-t2', `-c${CONNS}`, `-d${SECONDS}s`, '--latency', ...(paced ? ['-s', paceScript] : []), ...headers.flatMap((h) => ['-H', h]), url];
  const { stdout: out } = await promisify(execFile)('wrk', args, { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const m = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99 = m ? Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1) : NaN;
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} error responses on ${url}:\n${out}`);
  return { rps, p99 };
}

async function main() {
  if (spawnSync('sh', ['-c', 'command -v wrk']).status !== 0) throw new Error('wrk is not installed: apt-get install wrk');
  const upstream = await startNginx();
  const reverse = await startNginx({ proxyTo: upstream.port });
  // The device's console is the same static upstream; alice needs bob's approval, which bob gives.
  const gw = await startGw({ approval: true, nodePort: upstream.port });
  const r = await gw.s.approvals.request({ username: 'alice', device: 'app', protocol: 'http', channel: 'web', reason: 'bench' });
  if (r.outcome !== 'waiting') throw new Error('expected a waiting request');
  const bob = await consoleLogin(gw, 'bob');
  await api(gw, bob, 'POST', `/approvals/${r.request.id}/approve`, { comment: 'bench' });
  const cookie = await proxyCookie(gw, 'alice', 'app');

  const dir = gw.dir;
  // Figures come from gateway processes of their own (as in production), not from this driver process:
  // stop the set-up gateway, keeping its data dir (same database and vault key, so the cookie and the
  // grant stay valid), then start one worker, then two, on one port (node:cluster; the kernel spreads
  // connections between the workers).
  await gw.g.stop();
  cluster.setupPrimary({ exec: 'bench/http-worker.ts', execArgv: ['--import', 'tsx', ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean), ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=/tmp/gh-http-prof', '--cpu-prof-interval=100'] : [])], silent: false });
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const workers = async (n: number) => {
    const port = await freePort();
    const env = { GATEHOUSE_DATA_DIR: dir, GATEHOUSE_SECRET_KEY: 'test-vault-key-0123456789abcdef', GATEHOUSE_HTTP_PROXY_PORT: String(port), GATEHOUSE_WEB_PORT: '0', GATEHOUSE_SSH_PORT: '0', GATEHOUSE_RDP_PORT: '0', GATEHOUSE_LOG_LEVEL: 'silent' };
    const ws: { once(e: string, f: (...a: unknown[]) => void): unknown; kill(): unknown }[] = [];
    // One after the other: the first runs the migrations check alone.
    for (let i = 0; i < n; i++) {
      const w = process.env.BENCH_NO_CLUSTER ? fork('bench/http-worker.ts', [], { env: { ...process.env, ...env }, execArgv: ['--import', 'tsx'] }) : cluster.fork(env);
      await new Promise((res) => w.once('message', res));
      ws.push(w);
    }
    return { port, stop: () => Promise.all(ws.map((w) => new Promise((res) => (w.once('exit', res), w.kill())))) };
  };

  const rows: { size: string; direct: Figure; nginx: Figure; bare: Figure; gateway: Figure; gateway2?: Figure; paced?: { direct: Figure; nginx: Figure; gateway: Figure } }[] = [];
  const barePort = await freePort();
  const bareProc = fork('bench/http-bare.ts', [String(upstream.port), String(barePort)], { execArgv: ['--import', 'tsx', ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)] });
  await new Promise((res) => bareProc.once('message', res));
  const one = await workers(1);
  const host = `app.localhost:${one.port}`;
  // BENCH_ONLY_GATEWAY=1: only the one-process gateway runs (for profiling: BENCH_PROFILE=1).
  if (process.env.BENCH_ONLY_GATEWAY) {
    for (const size of (process.env.BENCH_SIZES ?? '1k,64k').split(',')) {
      // BENCH_PACED=1: the paced load (latency added) instead of the saturated one.
      const paced = !!process.env.BENCH_PACED;
      const n = await wrk(`http://127.0.0.1:${reverse.port}/${size}.bin`, [], paced);
      const g = await wrk(`http://127.0.0.1:${one.port}/${size}.bin`, [`Host: ${host}`, `Cookie: ${cookie}`], paced);
      console.log(`${size}: nginx ${Math.round(n.rps)} req/s p99 ${n.p99} ms, gateway ${Math.round(g.rps)} req/s p99 ${g.p99} ms = ${(g.rps / n.rps).toFixed(2)}x nginx`);
    }
    await one.stop();
    process.exit(0);
  }
  for (const size of ['1k', '64k']) {
    const path = `/${size}.bin`;
    const direct = await wrk(`http://127.0.0.1:${upstream.port}${path}`, []);
    const nginx = await wrk(`http://127.0.0.1:${reverse.port}${path}`, []);
    const bare = await wrk(`http://127.0.0.1:${barePort}${path}`, [`Cookie: ${cookie}`]);
    const gateway = await wrk(`http://127.0.0.1:${one.port}${path}`, [`Host: ${host}`, `Cookie: ${cookie}`]);
    const paced = {
      direct: await wrk(`http://127.0.0.1:${upstream.port}${path}`, [], true),
      nginx: await wrk(`http://127.0.0.1:${reverse.port}${path}`, [], true),
      gateway: await wrk(`http://127.0.0.1:${one.port}${path}`, [`Host: ${host}`, `Cookie: ${cookie}`], true),
    };
    rows.push({ size, direct, nginx, bare, gateway, paced });
  }
  bareProc.kill();
  await one.stop();
  const two = await workers(2);
  // The cookie is bound to the device host, not the port.
  for (const row of rows) row.gateway2 = await wrk(`http://127.0.0.1:${two.port}/${row.size}.bin`, [`Host: app.localhost:${two.port}`, `Cookie: ${cookie}`]);
  await two.stop();
  await reverse.stop();
  await upstream.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(join(paceScript, '..'), { recursive: true, force: true });

  const f = (x: Figure) => `${Math.round(x.rps).toString().padStart(7)} req/s  p99 ${x.p99.toFixed(2).padStart(6)} ms`;
  console.log(`\nHTTP proxy, ${CONNS} connections, ${SECONDS} s per run, wrk -t2 (machine: ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores)`);
  for (const row of rows) {
    console.log(`\n${row.size === '1k' ? '1 KiB' : '64 KiB'} responses`);
    console.log(`  direct to upstream      ${f(row.direct)}`);
    console.log(`  nginx reverse proxy     ${f(row.nginx)}`);
    console.log(`  bare undici proxy       ${f(row.bare)}   = ${(row.bare.rps / row.nginx.rps).toFixed(2)}x nginx (reference: no gate, no header work)`);
    console.log(`  gateway, 1 process      ${f(row.gateway)}   = ${(row.gateway.rps / row.nginx.rps).toFixed(2)}x nginx, p99 +${(row.gateway.p99 - row.direct.p99).toFixed(2)} ms over direct`);
    if (row.gateway2) console.log(`  gateway, 2 workers      ${f(row.gateway2)}   = ${(row.gateway2.rps / row.gateway.rps).toFixed(2)}x one process`);
    if (row.paced) {
      const p = row.paced;
      console.log(`  paced (${CONNS} connections, ${PACE_MS} ms between requests on each): latency added by the proxy`);
      console.log(`    direct                ${f(p.direct)}`);
      console.log(`    nginx reverse proxy   ${f(p.nginx)}   p99 +${(p.nginx.p99 - p.direct.p99).toFixed(2)} ms over direct`);
      console.log(`    gateway, 1 process    ${f(p.gateway)}   p99 +${(p.gateway.p99 - p.direct.p99).toFixed(2)} ms over direct`);
    }
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

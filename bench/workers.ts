// Every core (issue 24, item 3): `gatehouse serve` with GATEHOUSE_WORKERS=1 and =2, side by side in one run,
// on one SQLite database (WAL, several processes):
//   - API throughput: requests per second and p99 for GET /api/v1/session (a console session looked up in the
//     database, the user from the policy cache) and GET /healthz (the HTTP stack alone), 50 connections, wrk
//     from Debian (else a keep-alive client in this process);
//   - SSH spread: BENCH_SSH connections (default 40) waiting for approval on the 2-worker gateway, counted
//     per worker from /proc.
// The load generator shares the machine's cores with the gateway: the figures compare the two settings on
// the same machine, not against another server.
// Run: npm run bench -- workers   (BENCH_SECONDS=5 per run, BENCH_ROUNDS=3; medians over the rounds)
import { execFile, spawnSync } from 'node:child_process';
import http from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import { connectionsPerWorker, request, startGateway, type Gateway } from './lib/workers.js';
import { ADMIN, testServices } from './lib/services.js';
import { makeKey } from './lib/ssh.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUNTIME_FLAGS } from '../src/runtime.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SSH_CONNS = Number(process.env.BENCH_SSH ?? 40);
const CONNS = 50;
const PW = 'S3cret-pass-word';

interface Figure {
  rps: number;
  p99: number;
}

const hasWrk = spawnSync('sh', ['-c', 'command -v wrk']).status === 0;

async function wrk(url: string, headers: string[]): Promise<Figure> {
  const args = ['-t2', `-c${CONNS}`, `-d${SECONDS}s`, '--latency', ...headers.flatMap((h) => ['-H', h]), url];
  const { stdout: out } = await promisify(execFile)('wrk', args, { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const m = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99 = m ? Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1) : NaN;
  const bad = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (bad || !(rps > 0)) throw new Error(`wrk saw errors on ${url}:\n${out}`);
  return { rps, p99 };
}

/** Without wrk: CONNS keep-alive connections in this process, each sending its next request when the last answers. */
async function nodeLoad(url: string, headers: string[]): Promise<Figure> {
  const u = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNS });
  const hdrs = Object.fromEntries(headers.map((h) => [h.slice(0, h.indexOf(':')).trim(), h.slice(h.indexOf(':') + 1).trim()]));
  const lat: number[] = [];
  const end = Date.now() + SECONDS * 1000;
  const loop = async () => {
    while (Date.now() < end) {
      const t0 = performance.now();
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.get({ host: u.hostname, port: u.port, path: u.pathname, agent, headers: hdrs }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
      });
      if (status !== 200) throw new Error(`${url} answered ${status}`);
      lat.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CONNS }, loop));
  agent.destroy();
  lat.sort((a, b) => a - b);
  return { rps: lat.length / SECONDS, p99: lat[Math.floor(lat.length * 0.99)] };
}

const load = (url: string, headers: string[]) => (hasWrk ? wrk(url, headers) : nodeLoad(url, headers));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function consoleCookie(gw: Gateway): Promise<string> {
  const r = await request(new http.Agent(), gw.web, 'POST', '/api/v1/session', { username: 'admin', password: PW });
  if (r.status !== 200) throw new Error(`login: ${r.status} ${JSON.stringify(r.body)}`);
  return String(r.headers['set-cookie']).split(';')[0];
}

/** BENCH_SSH key-authenticated SSH connections that open a shell and wait for approval; closed by the caller. */
async function sshWaits(port: number, key: string, n: number): Promise<ssh2.Client[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ssh2.Client>((resolve, reject) => {
          const c = new ssh2.Client();
          c.on('error', reject);
          c.on('ready', () =>
            c.shell((err, ch) => {
              if (err) return reject(err);
              ch.on('data', (d: Buffer) => /#\d+/.test(String(d)) && resolve(c));
              ch.stderr.on('data', (d: Buffer) => /#\d+/.test(String(d)) && resolve(c));
            }),
          );
          c.connect({ host: '127.0.0.1', port, username: 'alice@web01', privateKey: key, readyTimeout: 60_000 });
        }),
    ),
  );
}

async function main() {
  console.log(
    `# machine: ${availableParallelism()} cores, load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(
        ' ',
      )} at the start; load generator: ${hasWrk ? 'wrk -t2' : 'node keep-alive client'}, ${CONNS} connections, ${SECONDS} s x ${ROUNDS} rounds`,
  );
  const t = await testServices('sqlite', { real: true });
  const keyDir = mkdtempSync(join(tmpdir(), 'gh-bench-workers-'));
  const alice = makeKey(keyDir, 'alice');
  const s = t.s;
  await s.admin.addUser(ADMIN, { username: 'admin', password: PW, admin: true });
  await s.admin.addUser(ADMIN, { username: 'bob', password: PW });
  await s.admin.addUser(ADMIN, { username: 'alice', password: PW, manager: 'bob', sshKeys: [alice.public] });
  await s.admin.addGroup(ADMIN, 'user', 'ops', { managers: ['bob'], requireApproval: true });
  await s.admin.addMember(ADMIN, 'ops', 'alice');
  await s.admin.addGroup(ADMIN, 'device', 'linux', {});
  await s.admin.addDevice(ADMIN, { name: 'web01', host: '127.0.0.1', protocols: 'ssh', group: 'linux', port: 22 });
  await s.admin.addAccount(ADMIN, 'web01', 'root', { password: 'unused-secret' });
  await s.admin.grantAccess(ADMIN, 'ops', 'linux', 'ssh');
  const env = { ...t.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${RUNTIME_FLAGS.join(' ')}`.trim() };
  const gws: Record<string, Gateway> = {};
  try {
    for (const n of [1, 2]) gws[n] = await startGateway({ ...env, GATEHOUSE_WORKERS: String(n), GATEHOUSE_NODE_ID: `bench-w${n}` });
    const cookies = { 1: await consoleCookie(gws[1]), 2: await consoleCookie(gws[2]) } as Record<string, string>;
    const runs: Record<string, Figure[]> = {};
    const targets = (n: string) =>
      [
        [
          `GET /api/v1/session, ${n} worker${n === '1' ? '' : 's'}`,
          `http://127.0.0.1:${gws[n].web}/api/v1/session`,
          [`cookie: ${cookies[n]}`],
        ],
        [`GET /healthz, ${n} worker${n === '1' ? '' : 's'}`, `http://127.0.0.1:${gws[n].web}/healthz`, []],
      ] as const;
    for (const n of ['1', '2']) for (const [, url, h] of targets(n)) await load(url, [...h]); // warm-up, discarded
    for (let r = 0; r < ROUNDS; r++)
      for (const n of ['1', '2']) for (const [name, url, h] of targets(n)) (runs[name] ??= []).push(await load(url, [...h]));
    console.log('\n| Target | req/s (median) | p99 ms (median) | vs 1 worker |\n|---|---:|---:|---:|');
    for (const [name, figs] of Object.entries(runs)) {
      const rps = median(figs.map((f) => f.rps));
      const base = median(runs[name.replace(/, 2 workers$/, ', 1 worker')].map((f) => f.rps));
      console.log(`| ${name} | ${Math.round(rps)} | ${median(figs.map((f) => f.p99)).toFixed(1)} | ${(rps / base).toFixed(2)}x |`);
    }
    // SSH: connections waiting for approval on the 2-worker gateway, counted per worker.
    const key = readFileSync(alice.path, 'utf8');
    const clients = await sshWaits(gws[2].ssh, key, SSH_CONNS);
    const spread = connectionsPerWorker(gws[2].workers(), gws[2].ssh);
    console.log(`\n# SSH: ${SSH_CONNS} waiting connections per worker pid: ${JSON.stringify(Object.fromEntries(spread))}`);
    for (const c of clients) c.end();
  } finally {
    for (const g of Object.values(gws)) await g.stop();
    rmSync(keyDir, { recursive: true, force: true });
    await t.cleanup();
  }
}

await main();

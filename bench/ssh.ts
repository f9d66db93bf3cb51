// SSH proxy benchmarks (issue: SSH and SFTP proxy), side by side in one run against a real sshd with
// the OpenSSH client's default ciphers:
//  1. a 1 GiB transfer each way: through the gateway, direct to sshd, and through OpenSSH ProxyJump via
//     a second sshd (the bastion users would otherwise pick). Targets: >= 1.3x ProxyJump, >= 0.75x direct.
//  2. connection set-up for `ssh … true` (median of 15). Target: no more than direct.
//  3. the gateway's RSS and CPU while 1,000 connections wait for approval. Target: < 300 MB, idle CPU.
// The gateway runs compiled (tsc into a temp dir) in its own process, as in production.
// Run: npm run bench -- ssh        (figures also in .bench-out/ssh.json)
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  existsSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ssh2 from 'ssh2';
import { loadConfig } from '../src/config/env.js';
import { makeLogger } from '../src/log.js';
import { ensureAdmin, openServices } from '../src/services.js';
import type { Actor } from '../src/core/admin/service.js';
import { freePort, waitForPort } from './lib/net.js';
import { QUIET_SSH, makeKey, startSshd } from './lib/ssh.js';

const GiB = 1024 ** 3;
const WAITERS = Number(process.env.BENCH_SSH_WAITERS ?? 1000);
const SETUP_RUNS = 15;
const ADMIN: Actor = { username: 'admin', id: null, channel: 'cli' };
const out = resolve('.bench-out');
mkdirSync(out, { recursive: true });

function sh(cmd: string, args: string[], opts: { stdin?: string } = {}): Promise<{ code: number | null; ms: number; stderr: string }> {
  return new Promise((done) => {
    const t0 = process.hrtime.bigint();
    const stdinFd = opts.stdin ? openSync(opts.stdin, 'r') : 'ignore';
    const p = spawn(cmd, args, { stdio: [stdinFd, 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr!.on('data', (d) => (stderr += d));
    p.on('close', (code) => {
      if (typeof stdinFd === 'number') closeSync(stdinFd);
      done({ code, ms: Number(process.hrtime.bigint() - t0) / 1e6, stderr });
    });
  });
}

function procStat(pid: number): { cpuMs: number; rssMB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tick = 100; // USER_HZ
  const cpuMs = ((Number(f[11]) + Number(f[12])) * 1000) / tick;
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))!;
  return { cpuMs, rssMB: Number(rss[1]) / 1024 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  // Other work on the machine skews every figure: it is recorded with them.
  const load0 = loadavg();
  // The gateway, compiled as in production (in a temp dir: compiled files in the tree would be linted).
  const build = mkdtempSync(join(tmpdir(), 'gh-bench-build-'));
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', join(build, 'dist')], {
      stdio: 'pipe',
    });
  } catch {
    // Type errors elsewhere in the tree still emit JavaScript.
  }
  if (!existsSync(join(build, 'dist', 'cli', 'main.js'))) throw new Error('could not compile the gateway');
  symlinkSync(resolve('templates'), join(build, 'templates'));
  symlinkSync(resolve('node_modules'), join(build, 'node_modules'));
  symlinkSync(resolve('package.json'), join(build, 'package.json'));

  const target = await startSshd();
  const bastion = await startSshd({ accountKey: target.accountKey });
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-ssh-'));
  const alice = makeKey(dir, 'alice');
  const env: Record<string, string> = {
    GATEHOUSE_DATA_DIR: dir,
    GATEHOUSE_SECRET_KEY: 'bench-vault-key-0123456789abcdef',
    GATEHOUSE_ADMIN_PASSWORD: 'admin-pass-123',
    GATEHOUSE_SSH_PORT: String(await freePort()),
    GATEHOUSE_WEB_PORT: String(await freePort()),
    GATEHOUSE_RDP_PORT: String(await freePort()),
    GATEHOUSE_HTTP_PROXY_PORT: String(await freePort()),
    GATEHOUSE_LOG_LEVEL: 'warn',
  };
  {
    const s = await openServices(loadConfig(env), makeLogger('silent'));
    await ensureAdmin(s);
    await s.admin.addUser(ADMIN, { username: 'bob', password: 'bob-S3cret-pass' });
    await s.admin.addUser(ADMIN, { username: 'alice', password: 'alice-S3cret-pass', manager: 'bob', sshKeys: [alice.public] });
    await s.admin.addGroup(ADMIN, 'user', 'ops', { managers: ['bob'] });
    await s.admin.addMember(ADMIN, 'ops', 'alice');
    await s.admin.addGroup(ADMIN, 'device', 'linux', {});
    await s.admin.addGroup(ADMIN, 'device', 'gated', { requireApproval: true });
    for (const [name, group] of [
      ['web01', 'linux'],
      ['web02', 'gated'],
    ]) {
      await s.admin.addDevice(ADMIN, { name, host: '127.0.0.1', protocols: 'ssh,sftp', group, port: target.port });
      await s.admin.addAccount(ADMIN, name, target.account, { privateKey: target.accountKey.private });
    }
    await s.admin.grantAccess(ADMIN, 'ops', 'linux', 'ssh,sftp');
    await s.admin.grantAccess(ADMIN, 'ops', 'gated', 'ssh,sftp');
    await s.close();
  }
  const gw: ChildProcess = spawn(
    process.execPath,
    ['-e', `import(${JSON.stringify(join(build, 'dist', 'cli', 'main.js'))}).then((m) => m.run(['node', 'gatehouse', 'serve']))`],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const gwPort = Number(env.GATEHOUSE_SSH_PORT);
  await waitForPort(gwPort, 30_000);
  const pid = gw.pid!;

  const common = QUIET_SSH;
  const paths: Record<string, (cmd: string) => string[]> = {
    direct: (cmd) => ['-p', String(target.port), '-i', target.accountKey.path, ...common, `${target.account}@127.0.0.1`, cmd],
    gateway: (cmd) => ['-p', String(gwPort), '-i', alice.path, ...common, 'alice@web01@127.0.0.1', cmd],
    proxyjump: (cmd) => [
      '-p',
      String(target.port),
      '-i',
      target.accountKey.path,
      ...common,
      '-o',
      `ProxyCommand=ssh -i ${target.accountKey.path} ${common.join(' ')} -W %h:%p -p ${bastion.port} ${bastion.account}@127.0.0.1`,
      `${target.account}@127.0.0.1`,
      cmd,
    ],
  };

  // Which cipher each hop negotiates (default ciphers everywhere).
  const cipherOf = async (args: string[]) => {
    const r = await sh('ssh', ['-v', ...args]);
    return /kex: server->client cipher: (\S+)/.exec(r.stderr)?.[1] ?? '?';
  };
  const ciphers = {
    direct: await cipherOf(paths.direct('true')),
    gateway: await cipherOf(paths.gateway('true')),
  };

  // 1. Throughput: a sparse 1 GiB file up (cat > /dev/null), and 1 GiB of zeros down.
  const big = join(dir, 'one-gib.bin');
  const fd = openSync(big, 'w');
  ftruncateSync(fd, GiB);
  closeSync(fd);
  // Paths take turns, round after round, so load from elsewhere on the machine falls on all of them alike.
  const names = ['direct', 'gateway', 'proxyjump'];
  const ups: Record<string, number[]> = { direct: [], gateway: [], proxyjump: [] };
  const downs: Record<string, number[]> = { direct: [], gateway: [], proxyjump: [] };
  let gatewayCpuMs = 0;
  for (let rep = 0; rep < 3; rep++) {
    for (const name of names) {
      const c0 = procStat(pid).cpuMs;
      const up = await sh('ssh', paths[name]('cat > /dev/null'), { stdin: big });
      const down = await sh('ssh', paths[name](`head -c ${GiB} /dev/zero`));
      if (name === 'gateway') gatewayCpuMs += procStat(pid).cpuMs - c0;
      if (up.code !== 0 || down.code !== 0) throw new Error(`${name}: transfer failed: ${up.stderr}${down.stderr}`);
      ups[name].push(GiB / 1e6 / (up.ms / 1000));
      downs[name].push(GiB / 1e6 / (down.ms / 1000));
    }
  }
  const throughput: Record<string, { upMBs: number; downMBs: number; gatewayCpuSPerGiB?: number }> = {};
  for (const name of names) throughput[name] = { upMBs: Math.max(...ups[name]), downMBs: Math.max(...downs[name]) };
  throughput.gateway.gatewayCpuSPerGiB = gatewayCpuMs / 1000 / 6;

  // 2. Set-up time of `ssh … true`, taking turns too.
  const setupRuns: Record<string, number[]> = { direct: [], gateway: [], proxyjump: [] };
  for (let i = 0; i < SETUP_RUNS; i++) for (const name of names) setupRuns[name].push((await sh('ssh', paths[name]('true'))).ms);
  const setup: Record<string, number> = {};
  for (const name of names) setup[name] = median(setupRuns[name]);

  // 3. 1,000 connections waiting for approval (web02 needs bob's approval), from ssh2 clients here.
  const before = procStat(pid);
  const clients: ssh2.Client[] = [];
  let waiting = 0;
  const connectOne = () =>
    new Promise<void>((done, fail) => {
      const c = new ssh2.Client();
      clients.push(c);
      c.on('error', fail);
      c.on('ready', () =>
        c.exec('echo released', (err, ch) => {
          if (err) return fail(err);
          ch.stderr.once('data', () => {
            waiting++;
            done();
          });
          ch.resume();
        }),
      );
      c.connect({
        host: '127.0.0.1',
        port: gwPort,
        username: 'alice@web02',
        privateKey: alice.private,
        readyTimeout: 60_000,
        keepaliveInterval: 0,
      });
    });
  const t0 = Date.now();
  for (let i = 0; i < WAITERS; i += 50) await Promise.all(Array.from({ length: Math.min(50, WAITERS - i) }, connectOne));
  const rampS = (Date.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 5000));
  const settled = procStat(pid);
  await new Promise((r) => setTimeout(r, 10_000));
  const idle = procStat(pid);
  const idleCpuPct = ((idle.cpuMs - settled.cpuMs) / 10_000) * 100;
  for (const c of clients) c.end();
  gw.kill('SIGTERM');
  await new Promise((r) => gw.once('exit', r));

  const result = {
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, loadAverageAtStart: load0, loadAverageAtEnd: loadavg() },
    ciphers,
    throughputMBs: throughput,
    samplesMBs: { up: ups, down: downs },
    setupSamplesMs: setupRuns,
    ratios: {
      upVsDirect: throughput.gateway.upMBs / throughput.direct.upMBs,
      downVsDirect: throughput.gateway.downMBs / throughput.direct.downMBs,
      upVsProxyJump: throughput.gateway.upMBs / throughput.proxyjump.upMBs,
      downVsProxyJump: throughput.gateway.downMBs / throughput.proxyjump.downMBs,
    },
    setupMs: setup,
    waiting: { connections: waiting, rampSeconds: rampS, rssBeforeMB: before.rssMB, rssWaitingMB: idle.rssMB, idleCpuPercent: idleCpuPct },
  };
  writeFileSync(join(out, 'ssh.json'), JSON.stringify(result, null, 2));
  const f = (n: number) => n.toFixed(0).padStart(6);
  const r2 = (n: number) => n.toFixed(2);
  console.log(
    `\nSSH proxy benchmark (${result.machine.cpus} CPUs, ${process.version}, load average ${load0[0].toFixed(1)} at start); client-side cipher: direct ${ciphers.direct}, via gateway ${ciphers.gateway}`,
  );
  console.log('\n1 GiB transfer, MB/s        up    down');
  for (const n of ['direct', 'gateway', 'proxyjump'])
    console.log(`  ${n.padEnd(24)}${f(throughput[n].upMBs)}  ${f(throughput[n].downMBs)}`);
  console.log(
    `  gateway / direct          ${r2(result.ratios.upVsDirect).padStart(6)}  ${r2(result.ratios.downVsDirect).padStart(6)}   (target >= 0.75)`,
  );
  console.log(
    `  gateway / ProxyJump       ${r2(result.ratios.upVsProxyJump).padStart(6)}  ${r2(result.ratios.downVsProxyJump).padStart(6)}   (target >= 1.3)`,
  );
  console.log(`  gateway CPU per GiB: ${throughput.gateway.gatewayCpuSPerGiB!.toFixed(2)} s`);
  console.log(
    `\nssh … true, median of ${SETUP_RUNS}: direct ${setup.direct.toFixed(0)} ms, gateway ${setup.gateway.toFixed(0)} ms, ProxyJump ${setup.proxyjump.toFixed(0)} ms (target: gateway <= direct)`,
  );
  console.log(
    `\n${waiting} connections waiting for approval (ramp ${rampS.toFixed(1)} s): gateway RSS ${before.rssMB.toFixed(0)} MB -> ${idle.rssMB.toFixed(0)} MB (target < 300), CPU while they wait ${idleCpuPct.toFixed(1)} % of one core`,
  );
  console.log(`\n(written to ${join(out, 'ssh.json')})`);

  await target.stop();
  await bastion.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(build, { recursive: true, force: true });
  process.exit(0);
}

void (main() as Promise<void>).catch((err) => {
  console.error(err);
  process.exit(1);
});

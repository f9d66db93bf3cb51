// The gateway compiled as in production (tsc into a temp dir: compiled files in the tree would be linted),
// run as `gatehouse serve` in its own process, with its RSS and CPU read from /proc.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { waitForPort } from './net.js';
import { RUNTIME_FLAGS } from '../../src/runtime.js';

export interface Compiled {
  main: string;
  remove(): void;
}

export function compileGateway(): Compiled {
  const build = mkdtempSync(join(tmpdir(), 'gh-bench-build-'));
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', join(build, 'dist')], {
      stdio: 'pipe',
    });
  } catch {
    // Type errors elsewhere in the tree still emit JavaScript.
  }
  const main = join(build, 'dist', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error('could not compile the gateway');
  for (const f of ['templates', 'node_modules', 'package.json']) symlinkSync(resolve(f), join(build, f));
  return { main, remove: () => rmSync(build, { recursive: true, force: true }) };
}

export interface GatewayProc {
  proc: ChildProcess;
  pid: number;
  stop(): Promise<void>;
}

/** `gatehouse serve` from the compiled tree with the launcher's node flags, one process unless `env` sets
 * GATEHOUSE_WORKERS; resolves once `port` listens. */
export async function serveCompiled(
  c: Compiled,
  env: Record<string, string>,
  port: number,
  nodeFlags: string[] = [],
): Promise<GatewayProc> {
  // An entry file, not `node -e`: node:cluster re-runs the entry script in each worker (GATEHOUSE_WORKERS > 1).
  const entry = join(dirname(dirname(c.main)), 'serve.mjs');
  writeFileSync(entry, `import(${JSON.stringify(c.main)}).then((m) => m.run(['node', 'gatehouse', 'serve']));\n`);
  const proc = spawn(process.execPath, [...nodeFlags, entry], {
    env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'warn', GATEHOUSE_WORKERS: '1', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(port, 60_000);
  return {
    proc,
    pid: proc.pid!,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode) return;
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}

/** The launcher's node flags (src/runtime.ts; BENCH_DEFAULT_RUNTIME=1: none), plus BENCH_GATEWAY_FLAGS (e.g. --cpu-prof). */
export const launcherFlags = (): string[] => [
  ...(process.env.BENCH_DEFAULT_RUNTIME ? [] : RUNTIME_FLAGS),
  ...(process.env.BENCH_GATEWAY_FLAGS ?? '').split(' ').filter(Boolean),
];

/** procStat summed over a process and its children (the primary and its workers). */
export function procTreeStat(pid: number): { cpuMs: number; rssMB: number; pids: number } {
  const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  let cpuMs = 0;
  let rssMB = 0;
  for (const p of [pid, ...kids]) {
    try {
      const s = procStat(p);
      cpuMs += s.cpuMs;
      rssMB += s.rssMB;
    } catch {
      // A worker that ended between the listing and the read.
    }
  }
  return { cpuMs, rssMB, pids: 1 + kids.length };
}

/** User + system CPU ms and RSS MB of a process (from /proc; clock ticks of 10 ms). */
export function procStat(pid: number): { cpuMs: number; rssMB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuMs = (Number(f[11]) + Number(f[12])) * 10;
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuMs, rssMB: rss ? Number(rss[1]) / 1024 : NaN };
}

/** CPU ms of a process's main thread and of its other threads together (V8's and libuv's; all named "node"). */
export function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = Number(tid) === pid ? 'main thread' : 'other threads';
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) * 10);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** Where a process's CPU went between two threadCpu() readings, largest first ("main 40 ms, V8 worker 12 ms"). */
export function threadCpuText(a: Map<string, number>, b: Map<string, number>): string {
  return [...b]
    .map(([name, ms]) => [name, ms - (a.get(name) ?? 0)] as const)
    .filter(([, ms]) => ms > 0)
    .sort((x, y) => y[1] - x[1])
    .map(([name, ms]) => `${name} ${ms} ms`)
    .join(', ');
}

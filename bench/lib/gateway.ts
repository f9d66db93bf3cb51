// The gateway compiled as in production (tsc into a temp dir: compiled files in the tree would be linted),
// run as `gatehouse serve` in its own process, with its RSS and CPU read from /proc.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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

/** `gatehouse serve` from the compiled tree with the launcher's node flags; resolves once `port` listens. */
export async function serveCompiled(
  c: Compiled,
  env: Record<string, string>,
  port: number,
  nodeFlags: string[] = [],
): Promise<GatewayProc> {
  const proc = spawn(
    process.execPath,
    [...nodeFlags, '-e', `import(${JSON.stringify(c.main)}).then((m) => m.run(['node', 'gatehouse', 'serve']))`],
    { env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
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

/** User + system CPU ms and RSS MB of a process (from /proc; clock ticks of 10 ms). */
export function procStat(pid: number): { cpuMs: number; rssMB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuMs = (Number(f[11]) + Number(f[12])) * 10;
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuMs, rssMB: rss ? Number(rss[1]) / 1024 : NaN };
}

// What a relay process spends per run of bench/rdp.ts: CPU and minor page faults from /proc/<pid>/stat
// (the gateway is the bench process itself; nginx and HAProxy are their own), and, with
// BENCH_RDP_SYSCALLS=1, its system calls counted by `perf stat` on the syscall tracepoints.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hasBinary } from './peers.js';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const HZ = 100;

export interface ProcUse {
  cpuMs: number;
  /** The part of cpuMs spent in the kernel (system time). */
  sysMs: number;
  minorFaults: number;
}

/** CPU (user + system, every thread) and minor page faults of `pid` so far. */
export function procUse(pid: number): ProcUse {
  // The command name may hold spaces and parentheses: the fields start after the last ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state(0) ppid pgrp session tty tpgid flags minflt(7) cminflt majflt cmajflt utime(11) stime(12).
  return { cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / HZ, sysMs: (Number(f[12]) * 1000) / HZ, minorFaults: Number(f[7]) };
}

export function useSince(pid: number, before: ProcUse): ProcUse {
  const now = procUse(pid);
  return { cpuMs: now.cpuMs - before.cpuMs, sysMs: now.sysMs - before.sysMs, minorFaults: now.minorFaults - before.minorFaults };
}

/** The system calls a relay's copying loop makes (and the memory ones that show fresh buffers). */
export const SYSCALLS = [
  'read',
  'recvfrom',
  'write',
  'writev',
  'sendto',
  'splice',
  'epoll_wait',
  'epoll_pwait',
  'epoll_ctl',
  'mmap',
  'munmap',
  'madvise',
  'brk',
];

export const CAN_COUNT_SYSCALLS = !!process.env.BENCH_RDP_SYSCALLS && hasBinary('perf');

/** Starts counting `pid`'s system calls (all threads); `stop()` resolves with the count per call. */
export function countSyscalls(pid: number): { stop(): Promise<Record<string, number>> } {
  const events = SYSCALLS.map((s) => `syscalls:sys_enter_${s}`).join(',');
  const perf = spawn('perf', ['stat', '-x', ',', '-e', events, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  perf.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((r) => perf.once('close', () => r()));
  return {
    async stop() {
      perf.kill('SIGINT');
      await exited;
      const counts: Record<string, number> = {};
      for (const line of err.split('\n')) {
        const [value, , event] = line.split(',');
        const name = event?.replace('syscalls:sys_enter_', '');
        if (name && SYSCALLS.includes(name)) counts[name] = Number(value) || 0;
      }
      return counts;
    },
  };
}

/** "read 16384 (65536 B each), writev 120, ..." per GiB: the calls made at least once. */
export function describeSyscalls(perGiB: Record<string, number>, bytesPerGiB: number): string {
  const reads = (perGiB.read ?? 0) + (perGiB.recvfrom ?? 0);
  const parts = Object.entries(perGiB)
    .filter(([, n]) => n >= 1)
    .map(([k, n]) => `${k} ${n.toFixed(0)}`);
  return `${parts.join(', ')}${reads ? `; ${(bytesPerGiB / reads / 1024).toFixed(0)} KiB per read` : ''}`;
}

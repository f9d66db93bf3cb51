// Ports on 127.0.0.1 for tests and benchmarks: one free port, and waiting until something listens.
import { connect, createServer, type AddressInfo } from 'node:net';
import type { ChildProcess } from 'node:child_process';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ port, host: '127.0.0.1' }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Waits until a `gatehouse serve` child prints its running line: with several workers a port listens as
 * soon as the first worker does, while the others still start (and a database outage then fails the start).
 */
export async function waitForRunning(proc: ChildProcess, log: string[], ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!log.join('').includes('Gatehouse is running')) {
    if (proc.exitCode !== null || proc.signalCode) throw new Error(`gatehouse serve exited: ${log.join('').slice(-2000)}`);
    if (Date.now() > until) throw new Error(`gatehouse serve did not start within ${ms} ms: ${log.join('').slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

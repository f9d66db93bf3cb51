// A real `gatehouse serve` with GATEHOUSE_WORKERS processes, and which worker holds a TCP connection (read from
// /proc: the worker's socket inodes against /proc/net/tcp). Shared by test/workers and bench/workers.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort, waitForRunning } from './net.js';

const ENTRY = fileURLToPath(new URL('./cli-entry.ts', import.meta.url));

export interface Gateway {
  proc: ChildProcess;
  web: number;
  ssh: number;
  http: number;
  log: string[];
  /** The worker processes' pids (children of the primary), now. */
  workers(): number[];
  stop(): Promise<void>;
}

/** Starts `gatehouse serve` from source with `env` (GATEHOUSE_WORKERS among it); resolves once every worker listens. */
export async function startGateway(env: Record<string, string>, timeoutMs = 120_000): Promise<Gateway> {
  const [web, ssh, httpPort] = [await freePort(), await freePort(), await freePort()];
  const log: string[] = [];
  const proc = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'serve'], {
    env: {
      ...process.env,
      GATEHOUSE_WEB_PORT: String(web),
      GATEHOUSE_SSH_PORT: String(ssh),
      GATEHOUSE_HTTP_PROXY_PORT: String(httpPort),
      GATEHOUSE_RDP_PORT: '0',
      GATEHOUSE_POSTGRES_PORT: '0',
      GATEHOUSE_MYSQL_PORT: '0',
      GATEHOUSE_LOG_LEVEL: 'warn',
      GATEHOUSE_SWEEP_MS: '300',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => log.push(String(d)));
  proc.stderr!.on('data', (d) => log.push(String(d)));
  await waitForRunning(proc, log, timeoutMs).catch((err: Error) => {
    proc.kill('SIGKILL');
    throw err;
  });
  await waitForPort(web, 10_000);
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await gone;
  };
  return { proc, web, ssh, http: httpPort, log, workers: () => childrenOf(proc.pid!), stop };
}

export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

interface TcpRow {
  localPort: number;
  remotePort: number;
  established: boolean;
  inode: string;
}

function tcpRows(): TcpRow[] {
  const rows: TcpRow[] = [];
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c.length < 10) continue;
      rows.push({
        localPort: parseInt(c[1].split(':')[1], 16),
        remotePort: parseInt(c[2].split(':')[1], 16),
        established: c[3] === '01',
        inode: c[9],
      });
    }
  }
  return rows;
}

/** Established connections accepted on `port`, per worker pid. */
export function connectionsPerWorker(pids: number[], port: number): Map<number, number> {
  const rows = tcpRows().filter((r) => r.established && r.localPort === port);
  const counts = new Map<number, number>();
  for (const pid of pids) {
    const inodes = socketInodes(pid);
    counts.set(pid, rows.filter((r) => inodes.has(r.inode)).length);
  }
  return counts;
}

/** Local ports of a client process's established connections to `port` (to find which worker holds them). */
export function localPortsTo(pid: number, port: number): number[] {
  const inodes = socketInodes(pid);
  return tcpRows()
    .filter((r) => r.established && r.remotePort === port && inodes.has(r.inode))
    .map((r) => r.localPort);
}

/** The worker holding the gateway's end of the connection our client opened from `clientPort` to `port`. */
export function workerOf(pids: number[], port: number, clientPort: number): number | undefined {
  const row = tcpRows().find((r) => r.established && r.localPort === port && r.remotePort === clientPort);
  if (!row) return undefined;
  return pids.find((pid) => socketInodes(pid).has(row.inode));
}

/** A keep-alive HTTP connection to `port` that is held by worker `pid` (new connections until one lands there). */
export async function connectionOn(pids: number[], port: number, pid: number, ms = 30_000): Promise<http.Agent> {
  const end = Date.now() + ms;
  for (let i = 0; Date.now() < end; i++) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const clientPort = await new Promise<number>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(req.socket!.localPort!));
      });
      req.on('error', reject);
    });
    if (workerOf(pids, port, clientPort) === pid) return agent;
    agent.destroy();
    // A worker that was just forked may not listen yet: give it a moment after a few misses.
    if (i >= 10) await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no connection landed on worker ${pid} in ${ms} ms`);
}

/** One JSON request over `agent`. */
export function request(
  agent: http.Agent,
  port: number,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: http.IncomingHttpHeaders }> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        agent,
        headers: { ...(data ? { 'content-type': 'application/json' } : {}), ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let parsed: Record<string, unknown> = {};
          try {
            parsed = JSON.parse(text) as Record<string, unknown>;
          } catch {
            parsed = { text };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

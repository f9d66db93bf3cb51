// Held waits under load, shared by the test (200 connections) and bench/reliability-held.ts (2,000):
// a real `gatehouse serve` process, `n` ssh2 client connections (exec mode, key login) waiting for
// approval spread over `devices` devices (connections to one device share one request), then every
// request approved at once. Measures how long until every connection ran its command, and the
// gateway's RSS (from /proc) idle, while holding the waits, and after.
import { kyselyOf } from '../../src/storage/store.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import ssh2 from 'ssh2';
import { testServices } from './services.js';
import { makeKey, startSshd } from './ssh.js';
import { pool, startServer, stopServer } from './server.js';

const ADMIN = { username: 'admin', id: null, channel: 'cli' as const };

export interface HeldFigures {
  connections: number;
  requests: number;
  waitingAfterMs: number;
  allThroughMs: number;
  /** The gateway process's CPU time (user + system) between the approvals and the last connection through. */
  gatewayCpuMs: number;
  failed: number;
  failures: string[];
  rssIdleMb: number;
  rssWaitingMb: number;
  rssAfterMb: number;
}

/** User + system CPU time of a process so far, in ms (from /proc; clock ticks of 10 ms). */
export const cpuMs = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};

export const rssMb = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
};

/**
 * `device`: 'sshd' is a real OpenSSH sshd (each session costs it a fork and a shell on the same 2 cores);
 * 'ssh2' is Gatehouse's built-in demo target (an ssh2 server answering `echo`) in a process of its own,
 * so the figure shows what the gateway itself can release.
 */
export async function heldWaits(
  n: number,
  devices: number,
  dialect: 'sqlite' | 'postgres' = 'sqlite',
  log: (s: string) => void = () => {},
  device: 'sshd' | 'ssh2' = 'sshd',
): Promise<HeldFigures> {
  const sshd: Device = device === 'sshd' ? await sshdDevice() : await startSsh2Device();
  const dir = mkdtempSync(join(tmpdir(), 'gh-rel-held-'));
  const key = makeKey(dir, 'alice');
  const t = await testServices(dialect, { real: true });
  let server;
  const clients: ssh2.Client[] = [];
  try {
    const s = t.s;
    await s.admin.addUser(ADMIN, { username: 'bob', password: 'bob-S3cret-pass' });
    await s.admin.addUser(ADMIN, { username: 'alice', password: 'alice-S3cret-pass', manager: 'bob', sshKeys: [key.public] });
    await s.admin.addGroup(ADMIN, 'user', 'ops', { managers: ['bob'], requireApproval: true });
    await s.admin.addMember(ADMIN, 'ops', 'alice');
    await s.admin.addGroup(ADMIN, 'device', 'linux', {});
    for (let i = 0; i < devices; i++) {
      await s.admin.addDevice(ADMIN, { name: `load${i}`, host: '127.0.0.1', protocols: 'ssh', group: 'linux', port: sshd.port });
      await s.admin.addAccount(ADMIN, `load${i}`, sshd.account, sshd.secret);
    }
    await s.admin.grantAccess(ADMIN, 'ops', 'linux', 'ssh');
    server = await startServer({
      dir: t.dir,
      env: {
        GATEHOUSE_SECRET_KEY: t.env.GATEHOUSE_SECRET_KEY,
        GATEHOUSE_EVENT_POLL_MS: '100',
        ...(t.env.DATABASE_URL ? { DATABASE_URL: t.env.DATABASE_URL } : {}),
      },
    });
    const pid = server.proc.pid!;
    const rssIdleMb = rssMb(pid);

    // Connect every client (a few dozen handshakes at a time); each resolves when its wait is shown.
    const through: Promise<boolean>[] = [];
    const failures: string[] = [];
    const t0 = Date.now();
    await pool(
      Array.from({ length: n }, (_, i) => i),
      50,
      (i) =>
        new Promise<void>((shown, fail) => {
          const c = new ssh2.Client();
          clients.push(c);
          let out = '';
          let waiting = false;
          let resolveThrough: (ok: boolean) => void = () => {};
          through.push(new Promise((r) => (resolveThrough = (ok) => (ok || failures.push(out.slice(-300)), r(ok)))));
          c.on('error', (e) => ((out += ` [client error: ${e.message}]`), waiting ? resolveThrough(false) : fail(e)));
          c.on('ready', () =>
            c.exec('echo through', (err, ch) => {
              if (err) return fail(err);
              const seen = () => {
                if (!waiting && /#\d+/.test(out)) {
                  waiting = true;
                  shown();
                }
                if (/through/.test(out)) resolveThrough(true);
              };
              ch.on('data', (d: Buffer) => ((out += d), seen()));
              ch.stderr.on('data', (d: Buffer) => ((out += d), seen()));
              ch.on('close', () => {
                if (!waiting) fail(new Error(`connection ${i} closed before waiting: ${out}`));
                resolveThrough(/through/.test(out));
              });
            }),
          );
          c.connect({
            host: '127.0.0.1',
            port: server!.ssh,
            username: `alice@load${i % devices}`,
            privateKey: key.private,
            readyTimeout: 120_000,
            keepaliveInterval: 0,
          });
        }),
    );
    const waitingAfterMs = Date.now() - t0;
    const rssWaitingMb = rssMb(pid);
    log(`${n} connections waiting after ${waitingAfterMs} ms; gateway RSS ${rssWaitingMb} MB (idle ${rssIdleMb} MB)`);

    const ids = (await kyselyOf(s.store).selectFrom('approval_requests').select('id').where('status', '=', 'waiting').execute()).map(
      (r) => r.id,
    );
    const t1 = Date.now();
    const cpu1 = cpuMs(pid);
    await Promise.all(ids.map((id) => s.approvals.approve(id, 'bob', { channel: 'cli' })));
    const results = await Promise.all(through);
    const allThroughMs = Date.now() - t1;
    const gatewayCpuMs = cpuMs(pid) - cpu1;
    const rssAfterMb = rssMb(pid);
    const failed = results.filter((x) => !x).length;
    log(
      `${ids.length} requests approved at once: ${n - failed}/${n} connections through after ${allThroughMs} ms (gateway CPU ${gatewayCpuMs} ms in that time); RSS after ${rssAfterMb} MB`,
    );
    return {
      connections: n,
      requests: ids.length,
      waitingAfterMs,
      allThroughMs,
      gatewayCpuMs,
      failed,
      failures,
      rssIdleMb,
      rssWaitingMb,
      rssAfterMb,
    };
  } finally {
    for (const c of clients) c.end();
    await stopServer(server);
    await sshd.stop();
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Device {
  port: number;
  account: string;
  secret: { privateKey: string } | { password: string };
  /** The device's SSH host key as Gatehouse pins it ("type base64"), when the benchmark knows it. */
  hostKey?: string;
  stop(): Promise<void>;
}

async function sshdDevice(): Promise<Device> {
  const d = await startSshd();
  return { port: d.port, account: d.account, secret: { privateKey: d.accountKey.private }, stop: () => d.stop() };
}

/** The demo target (src/protocols/ssh/demo-target.ts) in a child process: user `demo`, a password. */
export async function startSsh2Device(): Promise<Device> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-rel-ssh2dev-'));
  const hostKey = makeKey(dir, 'host');
  const password = 'device-pass-0123456789';
  const code = `import { startDemoTarget } from ${JSON.stringify(new URL('../../src/protocols/ssh/demo-target.ts', import.meta.url).href)};
const t = await startDemoTarget(Buffer.from(process.env.HOST_KEY), process.env.DEVICE_PASSWORD);
console.log(t.port);`;
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    env: { ...process.env, HOST_KEY: hostKey.private, DEVICE_PASSWORD: password },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.once('data', (d) => resolve(Number(String(d).trim())));
    proc.once('exit', (c) => reject(new Error(`demo target exited (${c})`)));
  });
  return {
    port,
    account: 'demo',
    secret: { password },
    hostKey: hostKey.public.split(' ').slice(0, 2).join(' '),
    async stop() {
      proc.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

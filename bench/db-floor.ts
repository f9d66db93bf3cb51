// The floor under the gateway's PostgreSQL figure (issue 23). Run: npm run bench -- db-floor
//  pgbench -S (10 clients, -j 2, plain client leg) through a bare Node relay that only copies bytes:
//  `plain` to the device without TLS, `tls` with TLS to the device (as the gateway and pgbouncer do).
//  No login check, no audit, no scanner: what one Node event loop costs per transaction for the sockets
//  alone. Prints tps and the relay's CPU per transaction (user + system). BENCH_FLOOR_SECONDS (default
//  15), BENCH_FLOOR_MODES (default plain,tls). The md5 account is used: the relay cannot do SCRAM's
//  channel binding, and the device offers it over TLS.
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import { loadavg } from 'node:os';
import tls from 'node:tls';
import pg from 'pg';
import { freePort } from './lib/net.js';
import { LEGACY_PW, startDevice, APP_RW_PW } from './lib/pgdb.js';

const SECONDS = Number(process.env.BENCH_FLOOR_SECONDS ?? 15);
const MODES = (process.env.BENCH_FLOOR_MODES ?? 'plain,tls').split(',').filter(Boolean);

function pgbench(port: number): Promise<{ tps: number; tx: number }> {
  return new Promise((resolve, reject) => {
    const conn = `host=127.0.0.1 port=${port} user=legacy dbname=app sslmode=disable`;
    const p = spawn('pgbench', ['-S', '-n', '-c', '10', '-j', '2', '-T', String(SECONDS), conn], {
      env: { ...process.env, PGPASSWORD: LEGACY_PW },
    });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (out += b.toString()));
    p.on('close', () => {
      const tps = /tps = ([\d.]+)/.exec(out);
      const tx = /processed: (\d+)/.exec(out);
      if (!tps || !tx) return reject(new Error(`pgbench failed: ${out.slice(-1000)}`));
      resolve({ tps: Number(tps[1]), tx: Number(tx[1]) });
    });
  });
}

function pipe(from: net.Socket, to: net.Socket): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
  from.on('close', () => to.destroy());
  from.on('error', () => to.destroy());
}

async function relay(devPort: number, mode: string): Promise<net.Server & { port: number }> {
  const port = await freePort();
  const server = net.createServer({ noDelay: true, pauseOnConnect: true }, (client) => {
    const up = net.connect({ host: '127.0.0.1', port: devPort, noDelay: true }, () => {
      const both = (device: net.Socket) => {
        pipe(client, device);
        pipe(device, client);
        client.resume();
      };
      if (mode === 'plain') return both(up);
      // SSLRequest; the device answers 'S', then TLS on the same socket.
      const ssl = Buffer.alloc(8);
      ssl.writeInt32BE(8, 0);
      ssl.writeInt32BE(80877103, 4);
      up.write(ssl);
      up.once('data', () => {
        const t = tls.connect({ socket: up, rejectUnauthorized: false }, () => both(t));
        t.on('error', () => client.destroy());
      });
    });
    up.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return Object.assign(server, { port });
}

console.log(
  `load at start ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const dev = await startDevice();
try {
  execFileSync('pgbench', ['-i', '-q', '-s', '10', `host=127.0.0.1 port=${dev.port} user=app_rw dbname=app`], {
    env: { ...process.env, PGPASSWORD: APP_RW_PW },
    stdio: 'ignore',
  });
  const url = new URL(dev.url);
  url.pathname = '/app';
  const c = new pg.Client({ connectionString: url.toString() });
  await c.connect();
  await c.query('grant select on all tables in schema public to legacy');
  await c.end();
  const direct = await pgbench(dev.port);
  console.log(`direct          ${direct.tps.toFixed(0).padStart(6)} tps`);
  for (const mode of MODES) {
    const server = await relay(dev.port, mode);
    const before = process.cpuUsage();
    const r = await pgbench(server.port);
    const u = process.cpuUsage(before);
    const per = (n: number) => (n / r.tx).toFixed(0);
    console.log(
      `relay, ${mode.padEnd(6)}  ${r.tps.toFixed(0).padStart(6)} tps  ${per(u.user + u.system)} us CPU/tx (user ${per(u.user)}, system ${per(u.system)})`,
    );
    server.close();
  }
} finally {
  dev.stop();
}
process.exit(0);

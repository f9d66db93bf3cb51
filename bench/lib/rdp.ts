// RDP test plumbing: a real Gatehouse (start(env), all ports 0) seeded with an RDP device, a small
// RDP server that answers the Connection Confirm and then echoes, and a raw client.
import { kyselyOf } from '../../src/storage/store.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, type Running } from '../../src/main.js';
import type { Services } from '../../src/services.js';
import { ADMIN, seedOrg } from './services.js';
import { freshPgDatabase } from './db.js';
import { waitFor } from './wait.js';

export interface Gw {
  running: Running;
  s: Services;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

export async function startGateway(
  o: { dialect?: 'sqlite' | 'postgres'; opsApproval?: boolean; env?: Record<string, string> } = {},
): Promise<Gw> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-rdp-'));
  const pg = o.dialect === 'postgres' ? await freshPgDatabase() : null;
  const running = await start({
    GATEHOUSE_DATA_DIR: dir,
    GATEHOUSE_WEB_PORT: '0',
    GATEHOUSE_SSH_PORT: '0',
    GATEHOUSE_RDP_PORT: '0',
    GATEHOUSE_POSTGRES_PORT: '0',
    GATEHOUSE_MYSQL_PORT: '0',
    GATEHOUSE_EVENT_POLL_MS: '50',
    GATEHOUSE_LOG_LEVEL: 'silent',
    GATEHOUSE_ADMIN_PASSWORD: 'S3cret-pass',
    GATEHOUSE_SECRET_KEY: 'test-vault-key-0123456789abcdef',
    ...(pg ? { DATABASE_URL: pg.url } : {}),
    ...o.env,
  });
  await seedOrg(running.services, { opsApproval: o.opsApproval });
  await running.services.admin.addGroup(ADMIN, 'device', 'windows', { managers: ['carol'] });
  await running.services.admin.grantAccess(ADMIN, 'ops', 'windows', 'rdp');
  if (!running.rdpPort) throw new Error('the RDP gateway did not start');
  return {
    running,
    s: running.services,
    port: running.rdpPort,
    dir,
    async stop() {
      await running.stop().catch(() => {});
      await pg?.drop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Adds an RDP device in group `windows` pointing at host:port, with account `Administrator`. */
export async function addRdpDevice(s: Services, name: string, port: number, host = '127.0.0.1'): Promise<void> {
  await s.admin.addDevice(ADMIN, { name, host, protocols: 'rdp', group: 'windows', port });
  await s.admin.addAccount(ADMIN, name, 'Administrator', { password: 'device-secret-not-used' });
}

/** X.224 Connection Confirm with RDP_NEG_RSP choosing TLS. */
export const CONNECTION_CONFIRM = Buffer.from('030000130ed000001234000200080001000000', 'hex');

export interface FakeRdp {
  port: number;
  /** Every Connection Request received, as bytes, in order. */
  requests: Buffer[];
  /** Bytes received after each request (the relay), per connection. */
  after: Buffer[][];
  sockets: Set<Socket>;
  close(): Promise<void>;
}

/** Answers one TPKT with the Connection Confirm, then echoes everything (or only counts, with sink). */
export async function fakeRdpServer(o: { sink?: boolean } = {}): Promise<FakeRdp> {
  const f: FakeRdp = { port: 0, requests: [], after: [], sockets: new Set(), close: async () => {} };
  const server: Server = createServer((sock) => {
    f.sockets.add(sock);
    sock.on('close', () => f.sockets.delete(sock));
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    let got = false;
    const rest: Buffer[] = [];
    f.after.push(rest);
    sock.on('data', (d: Buffer) => {
      if (got) {
        if (o.sink) return;
        rest.push(d);
        sock.write(d);
        return;
      }
      buf = Buffer.concat([buf, d]);
      if (buf.length < 4) return;
      const len = buf.readUInt16BE(2);
      if (buf.length < len) return;
      got = true;
      f.requests.push(buf.subarray(0, len));
      sock.write(CONNECTION_CONFIRM);
      const extra = buf.subarray(len);
      if (extra.length && !o.sink) {
        rest.push(extra);
        sock.write(extra);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  f.port = (server.address() as { port: number }).port;
  f.close = () =>
    new Promise<void>((r) => {
      for (const s of f.sockets) s.destroy();
      server.close(() => r());
    });
  return f;
}

export interface RawClient {
  sock: Socket;
  /** Everything received so far. */
  received(): Buffer;
  /** Resolves when at least n bytes arrived (rejects on close before). */
  waitFor(n: number, ms?: number): Promise<Buffer>;
  /** Resolves with the ms until the gateway closed the connection. */
  closed: Promise<number>;
}

export async function rawClient(port: number): Promise<RawClient> {
  const sock = connect({ host: '127.0.0.1', port });
  await new Promise<void>((r, j) => {
    sock.once('connect', r);
    sock.once('error', j);
  });
  sock.on('error', () => {});
  const t0 = Date.now();
  const chunks: Buffer[] = [];
  let total = 0;
  sock.on('data', (d: Buffer) => {
    chunks.push(d);
    total += d.length;
  });
  const closed = new Promise<number>((r) => sock.once('close', () => r(Date.now() - t0)));
  return {
    sock,
    received: () => Buffer.concat(chunks),
    closed,
    waitFor(n, ms = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (total >= n) {
            done();
            resolve(Buffer.concat(chunks));
          }
        };
        const onClose = () => {
          done();
          reject(new Error(`closed after ${total} of ${n} bytes`));
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timeout: ${total} of ${n} bytes`));
        }, ms);
        const done = () => {
          clearTimeout(timer);
          sock.removeListener('data', check);
          sock.removeListener('close', onClose);
        };
        sock.on('data', check);
        sock.once('close', onClose);
        check();
      });
    },
  };
}

export async function auditRows(s: Services, action: string) {
  const rows = await kyselyOf(s.store).selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute();
  return rows.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }));
}

export async function waitUntil(fn: () => Promise<boolean> | boolean, ms = 5000, what = 'condition'): Promise<void> {
  await waitFor(what, fn, ms);
}

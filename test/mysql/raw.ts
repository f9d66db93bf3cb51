// A minimal MySQL client for what the stock `mysql` cannot do: binary prepared statements, and
// hostile bytes. It logs in with the gateway's own upstream code (caching_sha2_password over TLS).
import { connect, type Socket } from 'node:net';
import { lenencBytes, OFFERED, CLIENT } from '../../src/protocols/mysql/packets.js';
import { openUpstream } from '../../src/protocols/mysql/upstream.js';
import { Wire } from '../../src/protocols/mysql/wire.js';
import { USER_PASSWORD } from './helpers.js';

export async function rawLogin(port: number, user: string, o: { password?: string; db?: string; timeoutMs?: number } = {}): Promise<Wire> {
  const up = await openUpstream({
    host: '127.0.0.1',
    port,
    user,
    password: o.password ?? USER_PASSWORD,
    database: o.db ?? null,
    caps: OFFERED & ~CLIENT.SSL,
    maxPacket: 1 << 24,
    charset: 45,
    tls: 'require',
    timeoutMs: o.timeoutMs ?? 30_000,
  });
  return new Wire(up.sock, 1 << 24);
}

/** Sends a command (sequence 0) and reads answer packets until `done` says the answer is complete. */
export async function command(w: Wire, payload: Buffer, packets: number): Promise<Buffer[]> {
  w.seq = 0;
  w.write(payload);
  const out: Buffer[] = [];
  for (let i = 0; i < packets; i++) {
    const p = (await w.read(10_000)).payload;
    out.push(p);
    if (p[0] === 0xff) break;
  }
  return out;
}

/** PREPARE then EXECUTE with an integer and a string parameter; the execute's answer packets. */
export async function prepareAndExecute(w: Wire, sql: string, n: number, s: string): Promise<Buffer[]> {
  // PREPARE_OK, 2 parameter definitions, 2 column definitions (no EOFs: DEPRECATE_EOF).
  const prep = await command(w, Buffer.concat([Buffer.from([0x16]), Buffer.from(sql)]), 5);
  if (prep[0]![0] !== 0x00) throw new Error(`prepare failed: ${prep[0]!.subarray(9).toString()}`);
  const id = prep[0]!.readUInt32LE(1);
  const head = Buffer.alloc(10);
  head[0] = 0x17;
  head.writeUInt32LE(id, 1);
  head.writeUInt32LE(1, 6);
  const n4 = Buffer.alloc(4);
  n4.writeInt32LE(n);
  const exec = Buffer.concat([head, Buffer.from([0x00, 1, 0x03, 0x00, 0xfe, 0x00]), n4, lenencBytes(Buffer.from(s))]);
  // Column count, 2 definitions, one row, the closing OK.
  return command(w, exec, 5);
}

/** A plain TCP connection that reads whatever the gateway says and reports when it closes. */
export function rawSocket(port: number): Promise<{ sock: Socket; received: () => Buffer; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.on('data', (b) => chunks.push(b));
    sock.on('error', () => {});
    sock.once('connect', () => resolve({ sock, received: () => Buffer.concat(chunks), closed }));
    sock.once('error', reject);
  });
}

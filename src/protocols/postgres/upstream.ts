// The gateway's own login to the device's PostgreSQL: TLS when the device offers it (or required, or a
// pinned certificate), then the account's vaulted password by whichever method the server asks
// (SCRAM-SHA-256, md5, cleartext only over TLS). Returns the server's parameters and keys once it is ready.
import { createHash } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { FrameIO, type Sock } from './io.js';
import { md5Password, ScramClient } from './scram.js';
import { cstring, errorMessageOf, passwordMessage, saslInitial, saslResponse, sslRequest, startupMessage } from './wire.js';

/** prefer: TLS when offered; require: refuse without; off: never; sha256:<hex>: TLS with that certificate only. */
export type UpstreamTls = 'prefer' | 'require' | 'off' | `sha256:${string}`;

export interface UpstreamTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  /** What the client asked for (database, application_name...), without its user. */
  params: Map<string, string>;
  tls: UpstreamTls;
}

export interface UpstreamReady {
  sock: Sock;
  /** ParameterStatus messages as sent, to relay to the client. */
  parameterStatus: Buffer[];
  pid: number;
  secret: number;
  /** Bytes after ReadyForQuery (none in practice). */
  rest: Buffer;
}

/** A failure the user may read: it never carries the vaulted password. */
export class UpstreamError extends Error {}

const CONNECT_MS = 10_000;
const HANDSHAKE_MS = 20_000;

export async function connectUpstream(t: UpstreamTarget): Promise<UpstreamReady> {
  const plain = await dial(t.host, t.port);
  let io = new FrameIO(plain);
  try {
    if (t.tls !== 'off') {
      plain.write(sslRequest());
      const answer = await io.next((r) => r.rest().subarray(0, 1).toString('latin1') || null, HANDSHAKE_MS, 'the TLS answer');
      if (answer === 'S') {
        io.detach();
        io = new FrameIO(await upgrade(plain, t));
      } else if (t.tls !== 'prefer') throw new UpstreamError(`the device does not offer TLS, and this device requires it`);
    }
    io.sock.write(startupMessage(new Map([...t.params, ['user', t.user]])));
    await authenticate(io, t);
    return await untilReady(io);
  } catch (err) {
    io.sock.destroy();
    throw err instanceof UpstreamError ? err : new UpstreamError(String((err as Error).message ?? err));
  }
}

function dial(host: string, port: number): Promise<Sock> {
  return new Promise((resolve, reject) => {
    const sock = tcpConnect({ host, port, noDelay: true });
    const timer = setTimeout(() => sock.destroy(new UpstreamError(`the device did not answer within ${CONNECT_MS / 1000} s`)), CONNECT_MS);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeListener('error', reject);
      resolve(sock);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(new UpstreamError(`the device is unreachable (${(err as NodeJS.ErrnoException).code ?? err.message})`));
    });
  });
}

function upgrade(sock: Sock, t: UpstreamTarget): Promise<TLSSocket> {
  const pin = t.tls.startsWith('sha256:') ? t.tls.slice(7).replace(/:/g, '').toLowerCase() : null;
  return new Promise((resolve, reject) => {
    // Device certificates are mostly self-signed: trust comes from the pin when there is one.
    const s = tlsConnect({ socket: sock, rejectUnauthorized: false, servername: /^[\d.:]+$/.test(t.host) ? undefined : t.host });
    s.once('secureConnect', () => {
      s.removeListener('error', reject);
      if (pin) {
        const der = s.getPeerCertificate().raw;
        const got = der ? createHash('sha256').update(der).digest('hex') : '';
        if (got !== pin) {
          s.destroy();
          return reject(new UpstreamError('the device presented a certificate other than the pinned one'));
        }
      }
      resolve(s);
    });
    s.once('error', (err) => reject(new UpstreamError(`TLS to the device failed: ${err.message}`)));
  });
}

async function authenticate(io: FrameIO, t: UpstreamTarget): Promise<void> {
  let scram: ScramClient | null = null;
  for (;;) {
    const m = await io.next((r) => r.message(), HANDSHAKE_MS, 'the device login');
    if (m.type === 'E') throw new UpstreamError(`the device refused the login as ${t.user}: ${errorMessageOf(m.body)}`);
    if (m.type !== 'R') throw new UpstreamError(`the device sent '${m.type}' during login`);
    const code = m.body.readInt32BE(0);
    if (code === 0) return;
    if (code === 3) {
      if (!(io.sock as TLSSocket).encrypted) throw new UpstreamError('the device asks for a cleartext password without TLS: refused');
      io.sock.write(passwordMessage(t.password));
    } else if (code === 5) io.sock.write(passwordMessage(md5Password(t.user, t.password, m.body.subarray(4, 8))));
    else if (code === 10) {
      const mechs = m.body.subarray(4).toString('utf8').split('\0');
      if (!mechs.includes('SCRAM-SHA-256')) throw new UpstreamError(`the device offers no supported SASL method (${mechs.join(' ')})`);
      scram = new ScramClient(t.password);
      io.sock.write(saslInitial('SCRAM-SHA-256', scram.first()));
    } else if (code === 11 && scram) io.sock.write(saslResponse(await scram.final(m.body.subarray(4).toString('utf8'))));
    else if (code === 12 && scram) scram.verify(m.body.subarray(4).toString('utf8'));
    else throw new UpstreamError(`the device asks for an unsupported login method (${code})`);
  }
}

async function untilReady(io: FrameIO): Promise<UpstreamReady> {
  const parameterStatus: Buffer[] = [];
  let pid = 0;
  let secret = 0;
  for (;;) {
    const m = await io.next((r) => r.message(64 * 1024), HANDSHAKE_MS, 'the device to be ready');
    if (m.type === 'E') throw new UpstreamError(`the device refused the session: ${errorMessageOf(m.body)}`);
    if (m.type === 'S') {
      cstring(m.body, cstring(m.body, 0).next);
      const head = Buffer.alloc(5);
      head.write('S', 0, 'latin1');
      head.writeInt32BE(m.body.length + 4, 1);
      parameterStatus.push(Buffer.concat([head, m.body]));
    } else if (m.type === 'K') {
      pid = m.body.readInt32BE(0);
      secret = m.body.readInt32BE(4);
    } else if (m.type === 'Z') {
      io.detach();
      return { sock: io.sock, parameterStatus, pid, secret, rest: io.frames.rest() };
    }
    // NoticeResponse and anything else during start-up: dropped.
  }
}

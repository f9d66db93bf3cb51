// The gateway as a MySQL client of the device: TLS when the device offers it (required, and the
// certificate checked, when a fingerprint is pinned), then the vaulted account's password through
// caching_sha2_password or mysql_native_password (or clear text, over TLS only).
import { connect, type Socket } from 'node:net';
import { buildResponse, buildSslRequest, parseAuthSwitch, parseGreeting, type Greeting } from './handshake.js';
import { CLIENT, FRAMING, parseErr } from './packets.js';
import { nativeScramble, nonceOf, rsaPassword, sha2Scramble } from './scramble.js';
import { Wire } from './wire.js';

export type UpstreamTls = 'prefer' | 'require' | 'off' | `sha256:${string}`;

export interface UpstreamTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string | null;
  /** The client's choices: capabilities (framing must match), max packet, character set. */
  caps: number;
  maxPacket: number;
  charset: number;
  /**
   * prefer: TLS when the device offers it; require: refuse a device without it; off: never (the
   * password then goes RSA-encrypted or scrambled); sha256:<fingerprint>: required, and that certificate only.
   */
  tls: UpstreamTls;
  timeoutMs: number;
}

export interface Upstream {
  sock: Socket;
  /** Bytes already read past the final OK (normally none). */
  rest: Buffer;
  greeting: Greeting;
  tls: boolean;
}

/** The device refused or broke the login; `message` is safe to show the user (never the password). */
export class UpstreamError extends Error {}

const MAX_LOGIN_PACKET = 64 * 1024;

export async function openUpstream(t: UpstreamTarget): Promise<Upstream> {
  const sock = await dial(t.host, t.port, t.timeoutMs);
  const w = new Wire(sock, MAX_LOGIN_PACKET);
  try {
    const first = await w.read(t.timeoutMs);
    if (first.payload[0] === 0xff) throw new UpstreamError(`the device refused the connection: ${parseErr(first.payload).message}`);
    const g = parseGreeting(first.payload);
    const missing = t.caps & FRAMING & ~g.caps;
    if (missing) throw new UpstreamError(`the device's server lacks capabilities the client chose (0x${missing.toString(16)})`);
    let caps = (t.caps & g.caps & ~(CLIENT.SSL | CLIENT.COMPRESS | CLIENT.LOCAL_FILES)) | CLIENT.PLUGIN_AUTH | CLIENT.SECURE_CONNECTION;
    caps &= g.caps | ~(CLIENT.PLUGIN_AUTH | CLIENT.CONNECT_ATTRS | CLIENT.PLUGIN_AUTH_LENENC_DATA);
    if (t.database) caps |= CLIENT.CONNECT_WITH_DB;
    let tls = false;
    const pin = t.tls.startsWith('sha256:') ? t.tls.slice(7) : null;
    if (!(g.caps & CLIENT.SSL) && t.tls !== 'prefer' && t.tls !== 'off')
      throw new UpstreamError('the device does not offer TLS, which its settings require');
    if (g.caps & CLIENT.SSL && t.tls !== 'off') {
      caps |= CLIENT.SSL;
      w.write(buildSslRequest(caps, t.maxPacket, t.charset));
      const s = await w.startClientTls({ rejectUnauthorized: false, servername: isIp(t.host) ? undefined : t.host }, t.timeoutMs);
      checkPin(pin, s.getPeerCertificate()?.fingerprint256);
      tls = true;
    }
    const pw = Buffer.from(t.password, 'utf8');
    const plugin = g.plugin === 'caching_sha2_password' || g.plugin === 'mysql_native_password' ? g.plugin : 'mysql_native_password';
    w.write(
      buildResponse({
        caps,
        maxPacket: t.maxPacket,
        charset: t.charset,
        username: t.user,
        authData: proof(plugin, pw, g.nonce, tls),
        database: t.database,
        plugin,
        attrs: { _client_name: 'gatehouse', program_name: 'gatehouse' },
      }),
    );
    await authenticate(w, plugin, pw, g.nonce, tls, t.timeoutMs);
    const { sock: s, rest } = w.release();
    return { sock: s, rest, greeting: g, tls };
  } catch (e) {
    w.destroy();
    if (e instanceof UpstreamError) throw e;
    throw new UpstreamError(`the device's login failed: ${(e as Error).message}`);
  }
}

function proof(plugin: string, pw: Buffer, nonce: Buffer, tls: boolean): Buffer {
  if (plugin === 'caching_sha2_password') return sha2Scramble(pw, nonce);
  if (plugin === 'mysql_native_password') return nativeScramble(pw, nonce);
  if (plugin === 'mysql_clear_password' && tls) return Buffer.concat([pw, Buffer.from([0])]);
  throw new UpstreamError(`the device asks for the ${plugin.slice(0, 40)} login method, which the gateway does not speak`);
}

/** Reads until OK: auth switches and caching_sha2's fast or full authentication on the way. */
async function authenticate(w: Wire, plugin: string, pw: Buffer, nonce: Buffer, tls: boolean, ms: number): Promise<void> {
  for (let round = 0; round < 6; round++) {
    const p = (await w.read(ms)).payload;
    const kind = p[0];
    if (kind === 0x00) return;
    if (kind === 0xff) throw new UpstreamError(`the device refused the account's login: ${parseErr(p).message}`);
    if (kind === 0xfe) {
      const sw = parseAuthSwitch(p);
      plugin = sw.plugin;
      nonce = nonceOf(sw.data);
      w.write(proof(plugin, pw, nonce, tls));
      continue;
    }
    if (kind === 0x01 && plugin === 'caching_sha2_password') {
      if (p[1] === 0x03) continue; // fast auth succeeded; the OK follows
      if (p[1] === 0x04) {
        if (tls) w.write(Buffer.concat([pw, Buffer.from([0])]));
        else w.write(Buffer.from([0x02])); // ask for the server's RSA key
        continue;
      }
      // The public key, asked for above.
      w.write(rsaPassword(pw, nonce, p.subarray(1)));
      continue;
    }
    throw new UpstreamError(`unexpected packet 0x${(kind ?? 0).toString(16)} from the device during login`);
  }
  throw new UpstreamError('the device kept the login going too long');
}

function checkPin(pin: string | null, got: string | undefined): void {
  if (!pin) return;
  const norm = (v: string) => v.replace(/[^0-9a-f]/gi, '').toLowerCase();
  if (!got || norm(got) !== norm(pin)) throw new UpstreamError("the device's certificate does not match its pinned fingerprint");
}

function isIp(h: string): boolean {
  return /^[\d.]+$/.test(h) || h.includes(':');
}

function dial(host: string, port: number, ms: number): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const s = connect({ host, port });
    const t = setTimeout(() => {
      s.destroy();
      reject(new UpstreamError('the device did not answer in time'));
    }, ms);
    t.unref();
    s.once('connect', () => {
      clearTimeout(t);
      s.off('error', onErr);
      s.setNoDelay(true);
      resolve(s);
    });
    const onErr = (e: Error) => {
      clearTimeout(t);
      reject(new UpstreamError(`the device is unreachable (${(e as { code?: string }).code ?? 'error'})`));
    };
    s.once('error', onErr);
  });
}

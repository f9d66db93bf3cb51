// The connection phase's packets, both directions: the server greeting (HandshakeV10), the client's
// SSLRequest and HandshakeResponse41, and the auth-switch and auth-more-data packets.
import { CLIENT, Cursor, lenencBytes, lenencInt, ProtocolError } from './packets.js';

export interface Greeting {
  protocol: number;
  version: string;
  connectionId: number;
  caps: number;
  charset: number;
  nonce: Buffer;
  plugin: string;
}

export interface HandshakeResponse {
  caps: number;
  maxPacket: number;
  charset: number;
  username: string;
  authData: Buffer;
  database: string | null;
  plugin: string | null;
  /** True for the 32-byte SSLRequest (no user yet). */
  sslRequest: boolean;
}

const latin = (b: Buffer) => b.toString('latin1');

export function buildGreeting(g: Omit<Greeting, 'protocol'>): Buffer {
  const head = Buffer.alloc(1);
  head[0] = 10;
  const mid = Buffer.alloc(4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10);
  let o = 0;
  mid.writeUInt32LE(g.connectionId >>> 0, o);
  o += 4;
  g.nonce.copy(mid, o, 0, 8);
  o += 9; // 8 bytes and a filler NUL
  mid.writeUInt16LE(g.caps & 0xffff, o);
  o += 2;
  mid[o++] = g.charset;
  mid.writeUInt16LE(0x0002, o); // SERVER_STATUS_AUTOCOMMIT
  o += 2;
  mid.writeUInt16LE(g.caps >>> 16, o);
  o += 2;
  mid[o++] = 21;
  return Buffer.concat([
    head,
    Buffer.from(`${g.version}\0`, 'latin1'),
    mid,
    g.nonce.subarray(8, 20),
    Buffer.from([0]),
    Buffer.from(`${g.plugin}\0`, 'latin1'),
  ]);
}

export function parseGreeting(p: Buffer): Greeting {
  const c = new Cursor(p);
  const protocol = c.u8();
  if (protocol !== 10) throw new ProtocolError(`unsupported protocol version ${protocol}`);
  const version = latin(c.zstr()).slice(0, 100);
  const connectionId = c.uint(4);
  const part1 = c.bytes(8);
  c.u8();
  let caps = c.uint(2);
  let charset = 0x21;
  let plugin = 'mysql_native_password';
  let part2: Buffer = Buffer.alloc(0);
  if (c.left() > 0) {
    charset = c.u8();
    c.uint(2);
    caps |= c.uint(2) << 16;
    caps >>>= 0;
    const dataLen = c.u8();
    c.bytes(10);
    if (caps & CLIENT.SECURE_CONNECTION) part2 = c.bytes(Math.max(13, dataLen - 8));
    if (caps & CLIENT.PLUGIN_AUTH && c.left() > 0) plugin = latin(c.zstr());
  }
  const nonce = Buffer.concat([part1, part2]).subarray(0, 20);
  return { protocol, version, connectionId, caps, charset, nonce, plugin };
}

export function parseResponse(p: Buffer): HandshakeResponse {
  const c = new Cursor(p);
  if (p.length < 32) throw new ProtocolError('handshake response too short');
  const caps = c.uint(4);
  if (!(caps & CLIENT.PROTOCOL_41)) throw new ProtocolError('client too old: protocol 4.1 needed');
  const maxPacket = c.uint(4);
  const charset = c.u8();
  c.bytes(23);
  const base = { caps, maxPacket, charset, username: '', authData: Buffer.alloc(0), database: null, plugin: null };
  if (c.left() === 0) return { ...base, sslRequest: true };
  const username = c.zstr().toString('utf8');
  let authData: Buffer;
  if (caps & CLIENT.PLUGIN_AUTH_LENENC_DATA) authData = c.lenencBytes();
  else if (caps & CLIENT.SECURE_CONNECTION) authData = c.bytes(c.u8());
  else authData = c.zstr();
  const database = caps & CLIENT.CONNECT_WITH_DB && c.left() > 0 ? c.zstr().toString('utf8') : null;
  const plugin = caps & CLIENT.PLUGIN_AUTH && c.left() > 0 ? latin(c.zstr()) : null;
  // Connection attributes are not forwarded: the gateway names itself to the device instead.
  return { caps, maxPacket, charset, username, authData, database, plugin, sslRequest: false };
}

export function buildSslRequest(caps: number, maxPacket: number, charset: number): Buffer {
  const b = Buffer.alloc(32);
  b.writeUInt32LE(caps >>> 0, 0);
  b.writeUInt32LE(maxPacket >>> 0, 4);
  b[8] = charset;
  return b;
}

export interface ResponseFields {
  caps: number;
  maxPacket: number;
  charset: number;
  username: string;
  authData: Buffer;
  database: string | null;
  plugin: string;
  attrs: Record<string, string>;
}

export function buildResponse(r: ResponseFields): Buffer {
  const parts: Buffer[] = [buildSslRequest(r.caps, r.maxPacket, r.charset), Buffer.from(`${r.username}\0`, 'utf8')];
  parts.push(
    r.caps & CLIENT.PLUGIN_AUTH_LENENC_DATA ? lenencBytes(r.authData) : Buffer.concat([Buffer.from([r.authData.length]), r.authData]),
  );
  if (r.caps & CLIENT.CONNECT_WITH_DB) parts.push(Buffer.from(`${r.database ?? ''}\0`, 'utf8'));
  if (r.caps & CLIENT.PLUGIN_AUTH) parts.push(Buffer.from(`${r.plugin}\0`, 'latin1'));
  if (r.caps & CLIENT.CONNECT_ATTRS) {
    const kv = Buffer.concat(Object.entries(r.attrs).flatMap(([k, v]) => [lenencBytes(Buffer.from(k)), lenencBytes(Buffer.from(v))]));
    parts.push(lenencInt(kv.length), kv);
  }
  return Buffer.concat(parts);
}

/** AuthSwitchRequest: 0xFE, the plugin, its data. */
export function buildAuthSwitch(plugin: string, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0xfe]), Buffer.from(`${plugin}\0`, 'latin1'), data]);
}

export function parseAuthSwitch(p: Buffer): { plugin: string; data: Buffer } {
  const c = new Cursor(p, 1);
  const plugin = latin(c.zstr());
  return { plugin, data: c.rest() };
}

/** A password sent in clear (mysql_clear_password, caching_sha2 full auth over TLS): NUL-ended. */
export function clearPassword(p: Buffer): string {
  const end = p.indexOf(0);
  return (end < 0 ? p : p.subarray(0, end)).toString('utf8');
}

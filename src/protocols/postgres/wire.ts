// PostgreSQL wire protocol v3: framing with hard limits, and the few messages the gateway itself writes.
// https://www.postgresql.org/docs/15/protocol-message-formats.html

export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;
export const PROTOCOL_3 = 196608;

/** A startup packet longer than this is hostile (libpq's own limit is 10000). */
export const MAX_STARTUP = 10 * 1024;
export const MAX_STARTUP_PARAMS = 64;
/** Messages the gateway reads whole during the handshake (passwords, SASL): small. */
export const MAX_HANDSHAKE_MESSAGE = 16 * 1024;

export class ProtocolError extends Error {}

/** Accumulates bytes and hands out whole frames; never holds more than `max` + one chunk. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
  }

  /** Bytes received past the last frame taken (handed to the relay after the handshake). */
  rest(): Buffer {
    const r = this.buf;
    this.buf = Buffer.alloc(0);
    return r;
  }

  /** A startup-style frame (int32 length, body) or null when incomplete. */
  startup(max = MAX_STARTUP): Buffer | null {
    if (this.buf.length < 4) return null;
    const len = this.buf.readInt32BE(0);
    if (len < 8 || len > max) throw new ProtocolError(`invalid startup packet length ${len}`);
    if (this.buf.length < len) return null;
    const body = this.buf.subarray(4, len);
    this.buf = this.buf.subarray(len);
    return body;
  }

  /** A typed message (byte type, int32 length, body) or null when incomplete. */
  message(max = MAX_HANDSHAKE_MESSAGE): { type: string; body: Buffer } | null {
    if (this.buf.length < 5) return null;
    const len = this.buf.readInt32BE(1);
    if (len < 4 || len > max) throw new ProtocolError(`invalid message length ${len}`);
    if (this.buf.length < len + 1) return null;
    const type = String.fromCharCode(this.buf[0]);
    const body = this.buf.subarray(5, len + 1);
    this.buf = this.buf.subarray(len + 1);
    return { type, body };
  }
}

/** StartupMessage parameters (NUL-terminated key/value pairs after the protocol version). */
export function parseStartupParams(body: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let i = 4;
  while (i < body.length && body[i] !== 0) {
    const k = cstring(body, i);
    const v = cstring(body, k.next);
    if (out.size >= MAX_STARTUP_PARAMS) throw new ProtocolError('too many startup parameters');
    out.set(k.value, v.value);
    i = v.next;
  }
  if (i >= body.length) throw new ProtocolError('startup packet not terminated');
  return out;
}

export function cstring(b: Buffer, at: number): { value: string; next: number } {
  const end = b.indexOf(0, at);
  if (end < 0) throw new ProtocolError('string not terminated');
  return { value: b.toString('utf8', at, end), next: end + 1 };
}

export function msg(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const cstr = (s: string) => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n | 0);
  return b;
};

/** ErrorResponse ('E') or NoticeResponse ('N'): severity, SQLSTATE, message. */
function fields(type: 'E' | 'N', severity: string, code: string, message: string): Buffer {
  const clean = message.replace(/\0/g, '');
  return msg(
    type,
    Buffer.concat([
      Buffer.from('S'),
      cstr(severity),
      Buffer.from('V'),
      cstr(severity),
      Buffer.from('C'),
      cstr(code),
      Buffer.from('M'),
      cstr(clean),
      Buffer.from([0]),
    ]),
  );
}
export const errorResponse = (code: string, message: string, severity = 'FATAL') => fields('E', severity, code, message);
export const noticeResponse = (message: string) => fields('N', 'NOTICE', '00000', message);
export const authRequest = (code: number, extra: Buffer = Buffer.alloc(0)) => msg('R', Buffer.concat([int32(code), extra]));
export const parameterStatus = (k: string, v: string) => msg('S', Buffer.concat([cstr(k), cstr(v)]));
export const backendKeyData = (pid: number, secret: number) => msg('K', Buffer.concat([int32(pid), int32(secret)]));
export const readyForQuery = (status = 'I') => msg('Z', Buffer.from(status, 'latin1'));

/** Frontend messages the gateway sends upstream. */
export function startupMessage(params: Map<string, string>): Buffer {
  const parts: Buffer[] = [int32(PROTOCOL_3)];
  for (const [k, v] of params) parts.push(cstr(k), cstr(v));
  parts.push(Buffer.from([0]));
  const body = Buffer.concat(parts);
  return Buffer.concat([int32(body.length + 4), body]);
}
export const sslRequest = () => Buffer.concat([int32(8), int32(SSL_REQUEST)]);
export const cancelRequest = (pid: number, secret: number) => Buffer.concat([int32(16), int32(CANCEL_REQUEST), int32(pid), int32(secret)]);
export const passwordMessage = (pw: string) => msg('p', cstr(pw));
export const saslInitial = (mech: string, data: Buffer) => msg('p', Buffer.concat([cstr(mech), int32(data.length), data]));
export const saslResponse = (data: Buffer) => msg('p', data);

/** The 'M' field of an ErrorResponse/NoticeResponse body. */
export function errorMessageOf(body: Buffer): string {
  let i = 0;
  let message = '';
  let code = '';
  while (i < body.length && body[i] !== 0) {
    const t = String.fromCharCode(body[i]);
    const v = cstring(body, i + 1);
    if (t === 'M') message = v.value;
    if (t === 'C') code = v.value;
    i = v.next;
  }
  return code ? `${code}: ${message}` : message;
}

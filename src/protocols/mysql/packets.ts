// The MySQL wire format: each packet is a 3-byte little-endian length, a sequence id and the payload.
// A payload of 16 MiB - 1 or more is split into 0xFFFFFF-long packets plus a shorter last one. Readers
// here cap what they buffer, so an announced huge packet costs nothing until its bytes arrive.

export const MAX_CHUNK = 0xffffff;

// Capability flags (the 32-bit set of the protocol).
export const CLIENT = {
  LONG_PASSWORD: 0x1,
  FOUND_ROWS: 0x2,
  LONG_FLAG: 0x4,
  CONNECT_WITH_DB: 0x8,
  NO_SCHEMA: 0x10,
  COMPRESS: 0x20,
  ODBC: 0x40,
  LOCAL_FILES: 0x80,
  IGNORE_SPACE: 0x100,
  PROTOCOL_41: 0x200,
  INTERACTIVE: 0x400,
  SSL: 0x800,
  IGNORE_SIGPIPE: 0x1000,
  TRANSACTIONS: 0x2000,
  SECURE_CONNECTION: 0x8000,
  MULTI_STATEMENTS: 0x10000,
  MULTI_RESULTS: 0x20000,
  PS_MULTI_RESULTS: 0x40000,
  PLUGIN_AUTH: 0x80000,
  CONNECT_ATTRS: 0x100000,
  PLUGIN_AUTH_LENENC_DATA: 0x200000,
  SESSION_TRACK: 0x800000,
  DEPRECATE_EOF: 0x1000000,
} as const;

/**
 * What the gateway offers a client. Results are relayed byte for byte, so both legs must speak the same
 * dialect: only flags every MySQL 5.7+ and MariaDB 10.2+ server has. Left out: compression, LOCAL INFILE
 * (the server could ask the client for any file), query attributes and MariaDB's extended capabilities.
 */
export const OFFERED =
  CLIENT.LONG_PASSWORD |
  CLIENT.FOUND_ROWS |
  CLIENT.LONG_FLAG |
  CLIENT.CONNECT_WITH_DB |
  CLIENT.ODBC |
  CLIENT.IGNORE_SPACE |
  CLIENT.PROTOCOL_41 |
  CLIENT.INTERACTIVE |
  CLIENT.SSL |
  CLIENT.IGNORE_SIGPIPE |
  CLIENT.TRANSACTIONS |
  CLIENT.SECURE_CONNECTION |
  CLIENT.MULTI_STATEMENTS |
  CLIENT.MULTI_RESULTS |
  CLIENT.PS_MULTI_RESULTS |
  CLIENT.PLUGIN_AUTH |
  CLIENT.CONNECT_ATTRS |
  CLIENT.PLUGIN_AUTH_LENENC_DATA |
  CLIENT.SESSION_TRACK |
  CLIENT.DEPRECATE_EOF;

/** Flags that change how results are framed: the device must have each one the client chose. */
export const FRAMING = CLIENT.PROTOCOL_41 | CLIENT.DEPRECATE_EOF | CLIENT.SESSION_TRACK | CLIENT.MULTI_RESULTS | CLIENT.PS_MULTI_RESULTS;

export class ProtocolError extends Error {}

/** One physical packet, header included in `raw` (so it can be relayed unchanged). */
export interface Packet {
  seq: number;
  payload: Buffer;
}

export function encodePacket(seq: number, payload: Buffer): Buffer {
  const parts: Buffer[] = [];
  let off = 0;
  let s = seq;
  // A payload of exactly n * 0xFFFFFF bytes ends with an empty packet.
  for (;;) {
    const len = Math.min(MAX_CHUNK, payload.length - off);
    const h = Buffer.alloc(4);
    h.writeUIntLE(len, 0, 3);
    h[3] = s & 0xff;
    parts.push(h, payload.subarray(off, off + len));
    off += len;
    s++;
    if (len < MAX_CHUNK) break;
  }
  return Buffer.concat(parts);
}

/**
 * Reassembles logical packets from stream chunks, refusing any whose announced size is over `max`
 * before buffering it. Used while logging in, where every packet is small.
 */
export class PacketReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private parts: Buffer[] = [];
  private partsLen = 0;
  private firstSeq = -1;

  constructor(private readonly max: number) {}

  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
  }

  /** Bytes received but not yet returned as a packet. */
  pending(): number {
    return this.size + this.partsLen;
  }

  /** The next complete logical packet, or null until more bytes arrive. Throws on an oversized one. */
  next(): Packet | null {
    for (;;) {
      if (this.size < 4) return null;
      const buf = this.flat();
      const len = buf.readUIntLE(0, 3);
      if (this.partsLen + len > this.max) throw new ProtocolError(`packet over ${this.max} bytes`);
      if (buf.length < 4 + len) return null;
      if (this.firstSeq < 0) this.firstSeq = buf[3]!;
      this.parts.push(buf.subarray(4, 4 + len));
      this.partsLen += len;
      this.chunks = buf.length > 4 + len ? [buf.subarray(4 + len)] : [];
      this.size = buf.length - 4 - len;
      if (len === MAX_CHUNK) continue;
      const p = { seq: this.firstSeq, payload: this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts) };
      this.parts = [];
      this.partsLen = 0;
      this.firstSeq = -1;
      return p;
    }
  }

  /** Whatever bytes are buffered past the last whole packet (and forgets them). */
  drain(): Buffer {
    const b = this.flat();
    this.chunks = [];
    this.size = 0;
    return b;
  }

  private flat(): Buffer {
    if (this.chunks.length !== 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }
}

/** Cursor over a payload; every read checks bounds so a truncated packet throws, never reads garbage. */
export class Cursor {
  constructor(
    readonly buf: Buffer,
    public off = 0,
  ) {}

  left(): number {
    return this.buf.length - this.off;
  }

  private need(n: number): void {
    if (n < 0 || this.off + n > this.buf.length) throw new ProtocolError('truncated packet');
  }

  u8(): number {
    this.need(1);
    return this.buf[this.off++]!;
  }

  uint(n: number): number {
    this.need(n);
    const v = this.buf.readUIntLE(this.off, n);
    this.off += n;
    return v;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return b;
  }

  rest(): Buffer {
    return this.bytes(this.left());
  }

  /** A NUL-terminated string (or the rest of the packet when there is no NUL). */
  zstr(): Buffer {
    const end = this.buf.indexOf(0, this.off);
    if (end < 0) return this.rest();
    const b = this.buf.subarray(this.off, end);
    this.off = end + 1;
    return b;
  }

  /** A length-encoded integer (1, 3, 4 or 9 bytes); values above 2^53 are refused. */
  lenenc(): number {
    const first = this.u8();
    if (first < 0xfb) return first;
    if (first === 0xfc) return this.uint(2);
    if (first === 0xfd) return this.uint(3);
    if (first === 0xfe) {
      const lo = this.uint(4);
      const hi = this.uint(4);
      if (hi > 0x1fffff) throw new ProtocolError('length too large');
      return hi * 2 ** 32 + lo;
    }
    throw new ProtocolError('bad length-encoded integer');
  }

  lenencBytes(): Buffer {
    return this.bytes(this.lenenc());
  }
}

export function lenencInt(n: number): Buffer {
  if (n < 0xfb) return Buffer.from([n]);
  if (n < 0x10000) return Buffer.from([0xfc, n & 0xff, n >> 8]);
  if (n < 0x1000000) return Buffer.from([0xfd, n & 0xff, (n >> 8) & 0xff, n >> 16]);
  const b = Buffer.alloc(9);
  b[0] = 0xfe;
  b.writeBigUInt64LE(BigInt(n), 1);
  return b;
}

export function lenencBytes(b: Buffer): Buffer {
  return Buffer.concat([lenencInt(b.length), b]);
}

// Server error codes and SQL states the gateway uses in its own ERR packets.
export const ER = {
  ACCESS_DENIED: { code: 1045, state: '28000' },
  HANDSHAKE: { code: 1043, state: '08S01' },
  SECURE_TRANSPORT: { code: 3159, state: 'HY000' },
  CON_COUNT: { code: 1040, state: '08004' },
  NOT_SUPPORTED: { code: 1235, state: '42000' },
  CONNECTION_KILLED: { code: 1927, state: '70100' },
  UNKNOWN: { code: 1105, state: 'HY000' },
} as const;
export type ErrKind = (typeof ER)[keyof typeof ER];

/** An ERR packet (protocol 4.1 form, with SQL state). The message is cut to keep it one readable line. */
export function errPacket(kind: ErrKind, message: string): Buffer {
  const text = message.replace(/[\x00-\x1f\x7f]/g, ' ').slice(0, 2000);
  const head = Buffer.alloc(3);
  head[0] = 0xff;
  head.writeUInt16LE(kind.code, 1);
  return Buffer.concat([head, Buffer.from(`#${kind.state}`, 'latin1'), Buffer.from(text, 'utf8')]);
}

/** A bare OK packet (no rows, no last id, autocommit status). */
export function okPacket(): Buffer {
  return Buffer.from([0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00]);
}

/** The message of an ERR packet from a server, for logs and for the client's error. */
export function parseErr(p: Buffer): { code: number; message: string } {
  const c = new Cursor(p, 1);
  const code = c.left() >= 2 ? c.uint(2) : 0;
  let rest = c.rest();
  if (rest[0] === 0x23 && rest.length >= 6) rest = rest.subarray(6);
  return { code, message: rest.toString('utf8').slice(0, 500) };
}

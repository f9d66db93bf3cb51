// The first packet of every RDP connection: a TPKT (RFC 1006) carrying an X.224 Connection Request
// (ITU-T X.224 / MS-RDPBCGR 2.2.1.1). Pure functions, no I/O: parse what a client sent, and build the
// request we forward to the device. Everything here must survive hostile bytes: it returns errors,
// never throws.

/** TPKT header (4) + the fixed part of the X.224 CR TPDU (LI, code, dst-ref 2, src-ref 2, class). */
export const CR_FIXED_LEN = 11;
/** A real Connection Request is well under 1 KiB; anything larger is refused before it is buffered. */
export const MAX_CR_LEN = 2048;

const TPKT_VERSION = 3;
const X224_CR = 0xe0;
const COOKIE_PREFIX = 'Cookie: mstshash=';
export const TYPE_RDP_NEG_REQ = 0x01;
const TYPE_RDP_CORRELATION_INFO = 0x06;
const CORRELATION_INFO_PRESENT = 0x08;

export interface NegReq {
  flags: number;
  /** PROTOCOL_RDP 0, SSL 1, HYBRID 2, RDSTLS 4, HYBRID_EX 8… */
  requestedProtocols: number;
  /** The raw 8 bytes, forwarded as they are. */
  raw: Buffer;
}

export interface ConnectionRequest {
  /** The TPKT length: the whole packet, header included. The only length we trust. */
  length: number;
  /** The X.224 length indicator as sent (FreeRDP writes it modulo 256 for long tokens). */
  lengthIndicator: number;
  dstRef: number;
  srcRef: number;
  classOption: number;
  /** `Cookie: mstshash=<value>\r\n`: the value (usually the user name). */
  cookie: string | null;
  /** Any other CRLF-terminated token (mstsc/FreeRDP loadbalanceinfo), without the CRLF. */
  routingToken: string | null;
  negReq: NegReq | null;
  /** rdpCorrelationInfo (36 bytes) when the negotiation request flags it; forwarded as is. */
  correlationInfo: Buffer | null;
  /** Bytes between the token and the end that we do not understand; forwarded as is. */
  rest: Buffer;
}

export type HeaderCheck = { ok: true; length: number } | { ok: false; error: string } | { ok: 'more' };

/** Looks at the first bytes: is this a TPKT we accept, and how long is the whole packet? */
export function checkTpktHeader(buf: Buffer): HeaderCheck {
  if (buf.length < 1) return { ok: 'more' };
  if (buf[0] !== TPKT_VERSION) return { ok: false, error: `not a TPKT packet (version byte 0x${buf[0].toString(16).padStart(2, '0')})` };
  if (buf.length < 4) return { ok: 'more' };
  if (buf[1] !== 0) return { ok: false, error: 'TPKT reserved byte is not zero' };
  const length = buf.readUInt16BE(2);
  if (length < CR_FIXED_LEN) return { ok: false, error: `TPKT length ${length} is shorter than a connection request` };
  if (length > MAX_CR_LEN) return { ok: false, error: `TPKT length ${length} is larger than any connection request (${MAX_CR_LEN})` };
  return { ok: true, length };
}

export type ParseResult = { ok: true; cr: ConnectionRequest } | { ok: false; error: string };

/** Parses one whole TPKT packet (exactly `length` bytes, as checkTpktHeader reported). */
export function parseConnectionRequest(pkt: Buffer): ParseResult {
  const h = checkTpktHeader(pkt);
  if (h.ok === 'more') return { ok: false, error: 'truncated TPKT header' };
  if (!h.ok) return h;
  if (pkt.length !== h.length) return { ok: false, error: `TPKT length ${h.length} does not match the ${pkt.length} bytes given` };
  const li = pkt[4];
  // Trust the TPKT length; the LI must agree with it modulo 256 (FreeRDP writes it as a byte).
  if (li !== ((h.length - 5) & 0xff))
    return { ok: false, error: `X.224 length indicator ${li} does not match the TPKT length ${h.length}` };
  if ((pkt[5] & 0xf0) !== X224_CR) return { ok: false, error: `not an X.224 Connection Request (code 0x${pkt[5].toString(16)})` };
  const dstRef = pkt.readUInt16BE(6);
  const srcRef = pkt.readUInt16BE(8);
  const classOption = pkt[10];

  let off = CR_FIXED_LEN;
  let cookie: string | null = null;
  let routingToken: string | null = null;
  const body = pkt.subarray(off);
  const looksLikeNeg = (b: Buffer) => b.length >= 8 && b[0] === TYPE_RDP_NEG_REQ && b.readUInt16LE(2) === 8;
  if (body.length && !looksLikeNeg(body)) {
    const crlf = body.indexOf('\r\n');
    if (crlf < 0) return { ok: false, error: 'the cookie or routing token is not terminated by CRLF' };
    const token = body.subarray(0, crlf).toString('latin1');
    if (token.startsWith(COOKIE_PREFIX)) cookie = token.slice(COOKIE_PREFIX.length);
    else routingToken = token;
    off += crlf + 2;
  }

  let negReq: NegReq | null = null;
  let correlationInfo: Buffer | null = null;
  const tail = pkt.subarray(off);
  if (tail.length >= 8 && tail[0] === TYPE_RDP_NEG_REQ) {
    if (tail.readUInt16LE(2) !== 8) return { ok: false, error: 'RDP_NEG_REQ length is not 8' };
    negReq = { flags: tail[1], requestedProtocols: tail.readUInt32LE(4), raw: Buffer.from(tail.subarray(0, 8)) };
    off += 8;
    if (negReq.flags & CORRELATION_INFO_PRESENT) {
      const c = pkt.subarray(off);
      if (c.length < 36 || c[0] !== TYPE_RDP_CORRELATION_INFO || c.readUInt16LE(2) !== 36)
        return { ok: false, error: 'RDP_NEG_REQ announces correlation info that is missing or malformed' };
      correlationInfo = Buffer.from(c.subarray(0, 36));
      off += 36;
    }
  } else if (tail.length && tail[0] === TYPE_RDP_NEG_REQ) {
    return { ok: false, error: 'truncated RDP_NEG_REQ' };
  }
  return {
    ok: true,
    cr: {
      length: h.length,
      lengthIndicator: li,
      dstRef,
      srcRef,
      classOption,
      cookie,
      routingToken,
      negReq,
      correlationInfo,
      rest: Buffer.from(pkt.subarray(off)),
    },
  };
}

/** A cookie value we will put on the wire: printable ASCII without spaces, at most 127 chars. */
export function safeCookie(v: string): string {
  return v.replace(/[^\x21-\x7e]/g, '').slice(0, 127);
}

/**
 * The request we forward: same fields, the token replaced by `Cookie: mstshash=<cookie>` (or none),
 * with a correct TPKT length and LI = length − 5 (xrdp disconnects when they disagree). Null when the
 * result would not fit the one-byte LI.
 */
export function buildConnectionRequest(
  cr: Omit<ConnectionRequest, 'length' | 'lengthIndicator' | 'routingToken'>,
  cookie: string | null = cr.cookie,
): Buffer | null {
  const token = cookie === null ? Buffer.alloc(0) : Buffer.from(`${COOKIE_PREFIX}${safeCookie(cookie)}\r\n`, 'latin1');
  const parts = [token, cr.negReq?.raw ?? Buffer.alloc(0), cr.correlationInfo ?? Buffer.alloc(0), cr.rest];
  const length = CR_FIXED_LEN + parts.reduce((n, p) => n + p.length, 0);
  // The LI is one byte: a longer request cannot be written correctly, so it is not forwarded at all.
  if (length - 5 > 0xff) return null;
  const head = Buffer.alloc(CR_FIXED_LEN);
  head[0] = TPKT_VERSION;
  head[1] = 0;
  head.writeUInt16BE(length, 2);
  head[4] = length - 5;
  head[5] = X224_CR;
  head.writeUInt16BE(cr.dstRef, 6);
  head.writeUInt16BE(cr.srcRef, 8);
  head[10] = cr.classOption;
  return Buffer.concat([head, ...parts]);
}

/** A client's Connection Request as FreeRDP 2 writes it (for tests and the benchmark). */
export function clientConnectionRequest(o: {
  routingToken?: string;
  cookie?: string;
  requestedProtocols?: number;
  negFlags?: number;
  correlation?: Buffer;
}): Buffer {
  let token = Buffer.alloc(0);
  if (o.routingToken !== undefined)
    token = Buffer.from(o.routingToken.endsWith('\r\n') ? o.routingToken : `${o.routingToken}\r\n`, 'latin1');
  else if (o.cookie !== undefined) token = Buffer.from(`${COOKIE_PREFIX}${o.cookie}\r\n`, 'latin1');
  let neg = Buffer.alloc(0);
  if (o.requestedProtocols !== undefined) {
    neg = Buffer.alloc(8);
    neg[0] = TYPE_RDP_NEG_REQ;
    neg[1] = (o.negFlags ?? 0) | (o.correlation ? CORRELATION_INFO_PRESENT : 0);
    neg.writeUInt16LE(8, 2);
    neg.writeUInt32LE(o.requestedProtocols, 4);
  }
  const corr = o.correlation ?? Buffer.alloc(0);
  const length = CR_FIXED_LEN + token.length + neg.length + corr.length;
  const head = Buffer.alloc(CR_FIXED_LEN);
  head[0] = TPKT_VERSION;
  head.writeUInt16BE(length, 2);
  // FreeRDP writes the LI as a UINT8: modulo 256 for long tokens.
  head[4] = (length - 5) & 0xff;
  head[5] = X224_CR;
  return Buffer.concat([head, token, neg, corr]);
}

/** Correlation info block (type 0x06, 36 bytes) for tests. */
export function correlationInfo(id: Buffer): Buffer {
  const b = Buffer.alloc(36);
  b[0] = TYPE_RDP_CORRELATION_INFO;
  b.writeUInt16LE(36, 2);
  id.copy(b, 4, 0, 16);
  return b;
}

// The X.224 Connection Request parser and writer: every field, the cookie, the routing token, neither,
// with and without RDP_NEG_REQ (and its correlation info), and every way a packet can be malformed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildConnectionRequest,
  checkTpktHeader,
  clientConnectionRequest,
  correlationInfo,
  MAX_CR_LEN,
  parseConnectionRequest,
} from '../../src/protocols/rdp/x224.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const TICKET = 'gh1.' + 'A'.repeat(43);

function parse(b: Buffer) {
  const r = parseConnectionRequest(b);
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.cr;
}

describe('X.224 Connection Request: fields', () => {
  test('mstsc-style request with a cookie and RDP_NEG_REQ (bytes from MS-RDPBCGR 4.1.1)', () => {
    // 03 00 00 2c | 27 e0 00 00 00 00 00 | "Cookie: mstshash=eltons\r\n" | 01 00 08 00 00 00 00 00
    const b = hex('0300002c27e00000000000436f6f6b69653a206d737473686173683d656c746f6e730d0a0100080000000000');
    const cr = parse(b);
    assert.equal(cr.length, 44);
    assert.equal(cr.lengthIndicator, 39);
    assert.equal(cr.dstRef, 0);
    assert.equal(cr.srcRef, 0);
    assert.equal(cr.classOption, 0);
    assert.equal(cr.cookie, 'eltons');
    assert.equal(cr.routingToken, null);
    assert.deepEqual(cr.negReq && { flags: cr.negReq.flags, protocols: cr.negReq.requestedProtocols }, { flags: 0, protocols: 0 });
    assert.equal(cr.correlationInfo, null);
    assert.equal(cr.rest.length, 0);
    assert.deepEqual(buildConnectionRequest(cr), b, 'rebuilding an untouched request gives the same bytes');
  });

  test('routing token (FreeRDP /load-balance-info) with RDP_NEG_REQ for TLS+CredSSP', () => {
    const cr = parse(clientConnectionRequest({ routingToken: TICKET, requestedProtocols: 3 }));
    assert.equal(cr.routingToken, TICKET);
    assert.equal(cr.cookie, null);
    assert.equal(cr.negReq?.requestedProtocols, 3);
    assert.equal(cr.negReq?.raw.length, 8);
  });

  test('routing token already ending in CRLF is not doubled', () => {
    const cr = parse(clientConnectionRequest({ routingToken: `${TICKET}\r\n` }));
    assert.equal(cr.routingToken, TICKET);
    assert.equal(cr.negReq, null);
  });

  test('cookie without RDP_NEG_REQ (legacy RDP security)', () => {
    const cr = parse(clientConnectionRequest({ cookie: 'alice' }));
    assert.equal(cr.cookie, 'alice');
    assert.equal(cr.negReq, null);
    assert.equal(cr.length, 11 + 'Cookie: mstshash=alice\r\n'.length);
  });

  test('neither cookie nor token, with RDP_NEG_REQ', () => {
    const cr = parse(clientConnectionRequest({ requestedProtocols: 1, negFlags: 0x01 }));
    assert.equal(cr.cookie, null);
    assert.equal(cr.routingToken, null);
    assert.equal(cr.negReq?.flags, 1);
    assert.equal(cr.negReq?.requestedProtocols, 1);
  });

  test('neither cookie nor token nor RDP_NEG_REQ: the bare 11 bytes', () => {
    const cr = parse(clientConnectionRequest({}));
    assert.equal(cr.length, 11);
    assert.equal(cr.lengthIndicator, 6);
    assert.equal(cr.cookie ?? cr.routingToken ?? cr.negReq, null);
  });

  test('RDP_NEG_REQ with correlation info is kept whole', () => {
    const corr = correlationInfo(Buffer.alloc(16, 7));
    const cr = parse(clientConnectionRequest({ routingToken: TICKET, requestedProtocols: 1, correlation: corr }));
    assert.equal(cr.negReq?.flags, 0x08);
    assert.deepEqual(cr.correlationInfo, corr);
    const out = parse(buildConnectionRequest(cr, 'root')!);
    assert.deepEqual(out.correlationInfo, corr);
    assert.equal(out.cookie, 'root');
  });

  test('non-zero dst-ref, src-ref and class option are read and forwarded', () => {
    const b = clientConnectionRequest({ cookie: 'x' });
    b.writeUInt16BE(0x1234, 6);
    b.writeUInt16BE(0xbeef, 8);
    b[10] = 0x02;
    const cr = parse(b);
    assert.deepEqual([cr.dstRef, cr.srcRef, cr.classOption], [0x1234, 0xbeef, 0x02]);
    const out = buildConnectionRequest(cr)!;
    assert.deepEqual([out.readUInt16BE(6), out.readUInt16BE(8), out[10]], [0x1234, 0xbeef, 0x02]);
  });
});

describe('X.224 Connection Request: rewriting', () => {
  test('token replaced by the account cookie; TPKT length and LI fixed; RDP_NEG_REQ kept byte for byte', () => {
    const inb = clientConnectionRequest({ routingToken: TICKET, requestedProtocols: 0x0b, negFlags: 0 });
    const cr = parse(inb);
    const out = buildConnectionRequest(cr, 'Administrator')!;
    assert.equal(out.readUInt16BE(2), out.length);
    assert.equal(out[4], out.length - 5, 'LI = TPKT length - 5');
    const back = parse(out);
    assert.equal(back.cookie, 'Administrator');
    assert.equal(back.routingToken, null);
    assert.deepEqual(back.negReq?.raw, cr.negReq?.raw);
    assert.ok(!out.includes(Buffer.from(TICKET)), 'the ticket never reaches the device');
  });

  test('FreeRDP writes the LI modulo 256 for long tokens: only the TPKT length is trusted', () => {
    const long = 'x'.repeat(300);
    const b = clientConnectionRequest({ routingToken: long, requestedProtocols: 1 });
    assert.equal(b[4], (b.length - 5) & 0xff);
    assert.notEqual(b[4], b.length - 5);
    const cr = parse(b);
    assert.equal(cr.routingToken, long);
    const out = buildConnectionRequest(cr, 'root')!;
    assert.equal(out[4], out.length - 5);
  });

  test('cookie values are cleaned: no CRLF or spaces can be injected', () => {
    const cr = parse(clientConnectionRequest({ requestedProtocols: 1 }));
    const out = buildConnectionRequest(cr, 'ro ot\r\nCookie: evil')!;
    assert.equal(parse(out).cookie, 'rootCookie:evil');
  });

  test('a request that cannot fit the one-byte LI is not built', () => {
    const cr = parse(clientConnectionRequest({ requestedProtocols: 1 }));
    assert.equal(buildConnectionRequest({ ...cr, rest: Buffer.alloc(300) }, 'root'), null);
  });
});

describe('X.224 Connection Request: refusals', () => {
  const bad = (b: Buffer, re: RegExp) => {
    const r = parseConnectionRequest(b);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.error, re);
  };
  test('header: more bytes needed, wrong version, reserved byte, too short, oversized', () => {
    assert.deepEqual(checkTpktHeader(Buffer.alloc(0)), { ok: 'more' });
    assert.deepEqual(checkTpktHeader(hex('0300')), { ok: 'more' });
    assert.equal(checkTpktHeader(hex('16030100')).ok, false, 'a TLS ClientHello is not a TPKT');
    assert.equal(checkTpktHeader(Buffer.from('GET / HTTP/1.1\r\n')).ok, false);
    assert.equal(checkTpktHeader(hex('03010020')).ok, false);
    assert.equal(checkTpktHeader(hex('03000004')).ok, false);
    assert.equal(checkTpktHeader(hex('0300ffff')).ok, false);
    assert.equal(checkTpktHeader(Buffer.from([3, 0, (MAX_CR_LEN + 1) >> 8, (MAX_CR_LEN + 1) & 0xff])).ok, false);
    assert.deepEqual(checkTpktHeader(hex('0300002c')), { ok: true, length: 44 });
  });
  test('a length that lies about the bytes given', () => {
    const b = clientConnectionRequest({ cookie: 'a' });
    bad(b.subarray(0, b.length - 1), /does not match/);
    bad(Buffer.concat([b, Buffer.alloc(1)]), /does not match/);
  });
  test('wrong LI, wrong TPDU code', () => {
    const b = clientConnectionRequest({ cookie: 'a' });
    b[4] ^= 1;
    bad(b, /length indicator/);
    const c = clientConnectionRequest({ cookie: 'a' });
    c[5] = 0xd0;
    bad(c, /not an X.224 Connection Request/);
  });
  test('unterminated token, malformed RDP_NEG_REQ, missing correlation info', () => {
    const t = Buffer.from(clientConnectionRequest({ routingToken: TICKET }));
    t[t.length - 2] = 0x41;
    bad(t, /not terminated/);
    const n = clientConnectionRequest({ cookie: 'a', requestedProtocols: 1 });
    n.writeUInt16LE(9, n.length - 6);
    bad(n, /RDP_NEG_REQ length/);
    const c = clientConnectionRequest({ cookie: 'a', requestedProtocols: 1, negFlags: 0x08 });
    bad(c, /correlation/);
  });
});

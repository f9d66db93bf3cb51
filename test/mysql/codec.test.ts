// The MySQL codec on its own: framing (16 MiB splitting, caps, truncation), the relay's frame tap under
// every chunking, handshake packets both ways, the statement book and the answer tracker.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGreeting, buildResponse, parseGreeting, parseResponse } from '../../src/protocols/mysql/handshake.js';
import { CLIENT, Cursor, encodePacket, OFFERED, PacketReader, ProtocolError } from '../../src/protocols/mysql/packets.js';
import { ResponseTracker, type Outcome } from '../../src/protocols/mysql/responses.js';
import { StatementBook } from '../../src/protocols/mysql/statements.js';
import { FrameTap, type TappedPacket } from '../../src/protocols/mysql/tap.js';

function chunks(b: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let o = 0;
  let i = 0;
  while (o < b.length) {
    const n = Math.max(1, sizes[i++ % sizes.length]!);
    out.push(b.subarray(o, o + n));
    o += n;
  }
  return out;
}

describe('mysql framing', () => {
  test('a payload of 16 MiB or more is split, and reassembled', () => {
    const big = Buffer.alloc(0xffffff + 10, 7);
    const wire = encodePacket(0, big);
    assert.equal(wire.length, big.length + 8);
    const r = new PacketReader(64 * 1024 * 1024);
    for (const c of chunks(wire, [1_000_003])) r.push(c);
    const p = r.next()!;
    assert.equal(p.payload.length, big.length);
    assert.equal(p.seq, 0);
    // Exactly 0xFFFFFF bytes end with an empty packet.
    assert.equal(encodePacket(3, Buffer.alloc(0xffffff)).length, 0xffffff + 8);
  });

  test('an announced huge packet is refused before its bytes arrive', () => {
    const r = new PacketReader(16 * 1024);
    r.push(Buffer.from([0xff, 0xff, 0xff, 0x00, 1, 2, 3]));
    assert.throws(() => r.next(), ProtocolError);
  });

  test('a truncated packet waits; a cursor past the end throws', () => {
    const r = new PacketReader(1024);
    r.push(encodePacket(1, Buffer.from('hello')).subarray(0, 6));
    assert.equal(r.next(), null);
    assert.throws(() => new Cursor(Buffer.from([0xfc, 1])).lenenc(), ProtocolError);
    assert.throws(() => parseResponse(Buffer.alloc(10)), ProtocolError);
    assert.throws(() => parseGreeting(Buffer.from([9, 0])), ProtocolError);
  });
});

describe('mysql handshake packets', () => {
  test('greeting round trip', () => {
    const nonce = Buffer.from('abcdefghijklmnopqrst');
    const g = parseGreeting(
      buildGreeting({ version: '8.0-x', connectionId: 9, caps: OFFERED, charset: 45, nonce, plugin: 'caching_sha2_password' }),
    );
    assert.equal(g.version, '8.0-x');
    assert.equal(g.caps, OFFERED);
    assert.deepEqual(g.nonce, nonce);
    assert.equal(g.plugin, 'caching_sha2_password');
  });

  test('response round trip, with database and plugin', () => {
    const caps = OFFERED | CLIENT.CONNECT_WITH_DB;
    const b = buildResponse({
      caps,
      maxPacket: 1 << 24,
      charset: 45,
      username: 'alice@db01',
      authData: Buffer.from([1, 2, 3]),
      database: 'app',
      plugin: 'caching_sha2_password',
      attrs: { a: 'b' },
    });
    const r = parseResponse(b);
    assert.equal(r.username, 'alice@db01');
    assert.equal(r.database, 'app');
    assert.equal(r.plugin, 'caching_sha2_password');
    assert.deepEqual([...r.authData], [1, 2, 3]);
    assert.equal(r.sslRequest, false);
  });

  test('random bytes never crash the parsers with anything but ProtocolError', () => {
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(Array.from({ length: (i % 90) + 1 }, () => Math.floor(Math.random() * 256)));
      for (const parse of [parseGreeting, parseResponse]) {
        try {
          parse(b);
        } catch (e) {
          assert.ok(e instanceof ProtocolError, String(e));
        }
      }
    }
  });
});

describe('mysql frame tap', () => {
  const q1 = encodePacket(0, Buffer.from('\x03select 1'));
  const refused = encodePacket(0, Buffer.from('\x11change user'));
  const small = (n: number) => encodePacket(0, Buffer.concat([Buffer.from([0x03]), Buffer.alloc(n, 0x61)]));
  const ping = encodePacket(0, Buffer.from('\x0e'));
  const cases: [string, number, number[][]][] = [
    ['small', 300, [[1], [3], [4, 5], [7, 1, 2]]],
    ['16 MiB', 0xffffff + 5, [[65536], [1_000_003, 1, 2, 3], [0x1000100]]],
  ];
  for (const [name, size, sizesList] of cases) {
    const stream = Buffer.concat([q1, refused, small(size), ping]);
    for (const sizes of sizesList) {
      test(`${name}, chunked ${sizes.join(',')}: bytes pass unchanged except the refused command`, () => {
        const seen: TappedPacket[] = [];
        const tap = new FrameTap(
          16,
          (p) => seen.push(p),
          (b) => b === 0x11,
        );
        const out = Buffer.concat(chunks(stream, sizes).map((c) => tap.feed(c)));
        assert.ok(out.equals(Buffer.concat([q1, small(size), ping])));
        assert.deepEqual(
          seen.map((p) => [p.head[0], p.length, p.dropped]),
          [
            [3, 9, false],
            [0x11, 12, true],
            [3, size + 1, false],
            [0x0e, 1, false],
          ],
        );
        assert.equal(seen[0]!.head.toString(), '\x03select 1');
      });
    }
  }
});

describe('mysql statements and answers', () => {
  test('prepared statement: parameters redacted unless shown', () => {
    for (const show of [false, true]) {
      const book = new StatementBook(show);
      assert.equal(book.command(Buffer.from('\x16select ? + ?'), 13)?.kind, 'prepare');
      const ok = Buffer.from([0, 7, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0]);
      book.prepareAnswer(ok);
      const exec = Buffer.concat([
        Buffer.from([0x17, 7, 0, 0, 0, 0, 1, 0, 0, 0]),
        Buffer.from([0b10]), // second parameter NULL
        Buffer.from([1, 0x03, 0, 0xfd, 0]),
        Buffer.from([42, 0, 0, 0]),
      ]);
      const st = book.command(exec, exec.length)!;
      assert.equal(st.text, 'select ? + ?');
      assert.equal(st.paramCount, 2);
      assert.deepEqual(st.params, show ? ['42', null] : null);
    }
  });

  test('answers: OK counts, result set rows, errors', () => {
    const t = new ResponseTracker(OFFERED);
    const got: Outcome[] = [];
    const pkt = (seq: number, head: number[], length = head.length) => t.packet({ seq, length, head: Buffer.from(head), dropped: false });
    t.expect((o) => got.push(o));
    pkt(1, [0x00, 3, 0, 2, 0, 0, 0]);
    t.expect((o) => got.push(o));
    pkt(1, [1]); // one column
    pkt(2, [3, 0x64, 0x65, 0x66]);
    pkt(3, [1, 0x31]);
    pkt(4, [1, 0x32]);
    pkt(5, [0xfe, 0, 0, 2, 0, 0, 0]);
    t.expect((o) => got.push(o));
    pkt(1, [0xff, 0x28, 0x04, 0x23, 0x34, 0x32, 0x30, 0x30, 0x30, 0x62, 0x61, 0x64]);
    assert.deepEqual(got, [
      { rowCount: 3, error: null },
      { rowCount: 2, error: null },
      { rowCount: null, error: '1064: bad' },
    ]);
  });
});

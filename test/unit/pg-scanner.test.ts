// The relay's message scanner: the audit sees the same bodies whether a message arrives whole (handed
// over as a view, no copy) or split across reads (copied), and bodies past the cap are cut, not held.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AUDIT_BODY_CAP, MessageScanner } from '../../src/protocols/postgres/scanner.js';
import { ProtocolError } from '../../src/protocols/postgres/wire.js';

function msg(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

function scan(chunks: Buffer[]): { type: string; body: string; length: number }[] {
  const seen: { type: string; body: string; length: number }[] = [];
  const s = new MessageScanner(new Set(['Q', 'Z']), (type, body, length) => seen.push({ type, body: body.toString('latin1'), length }));
  for (const c of chunks) s.feed(c);
  assert.ok(s.atBoundary());
  return seen;
}

describe('postgres message scanner', () => {
  const stream = Buffer.concat([msg('Q', Buffer.from('select 1\0')), msg('D', Buffer.alloc(300, 7)), msg('Z', Buffer.from('I'))]);
  const want = [
    { type: 'Q', body: 'select 1\0', length: 9 },
    { type: 'Z', body: 'I', length: 1 },
  ];

  test('whole, byte by byte and in odd pieces: the same audited bodies', () => {
    assert.deepEqual(scan([stream]), want);
    assert.deepEqual(scan([...stream].map((b) => Buffer.from([b]))), want);
    assert.deepEqual(scan([stream.subarray(0, 7), stream.subarray(7, 200), stream.subarray(200)]), want);
  });

  test('a body over the cap is cut at the cap, in one piece or many', () => {
    const big = msg('Q', Buffer.alloc(AUDIT_BODY_CAP + 1000, 0x61));
    for (const chunks of [[big], [big.subarray(0, 100), big.subarray(100)]]) {
      const [m] = scan(chunks);
      assert.equal(m.body.length, AUDIT_BODY_CAP);
      assert.equal(m.length, AUDIT_BODY_CAP + 1000);
    }
  });

  test('a length below 4 is a protocol error', () => {
    const bad = Buffer.from([0x51, 0, 0, 0, 3]);
    assert.throws(() => scan([bad]), ProtocolError);
  });
});

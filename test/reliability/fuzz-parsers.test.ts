// Hostile input against the pure parsers, seeded and bounded in time (GATEHOUSE_FUZZ_SEED replays a run):
// SSH usernames and target syntax, the X.224 Connection Request parser, and the email reply command
// parser. No throw, no hang (each case must finish within 1 s, generous for a loaded machine; catastrophic
// backtracking takes far longer), results consistent with the input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTarget, printable, MAX_TARGET } from '../../src/protocols/ssh/target.js';
import { checkTpktHeader, parseConnectionRequest, clientConnectionRequest } from '../../src/protocols/rdp/x224.js';
import { parseCommand } from '../../src/notify/replies.js';
import { Rng, SEED, forAWhile } from './rng.js';

const BUDGET_MS = 4000;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function timed<T>(what: string, input: unknown, fn: () => T, slowMs = 1000): T {
  const t0 = performance.now();
  let out: T;
  try {
    out = fn();
  } catch (err) {
    throw new Error(`${what} threw on ${JSON.stringify(input)?.slice(0, 300)} (seed ${SEED}): ${(err as Error).message}`);
  }
  const ms = performance.now() - t0;
  assert.ok(ms < slowMs, `${what} took ${ms.toFixed(1)} ms on ${JSON.stringify(input)?.slice(0, 200)}`);
  return out;
}

test('SSH usernames and targets: never throws; a valid result has valid parts; messages are printable', async () => {
  const r = new Rng();
  const shapes = [
    () => r.str(),
    () => `${r.str(10)}@${r.str(10)}`,
    () => `${r.str(10)}@${r.str(10)}@${r.str(10)}`,
    () => `alice@${r.str(30)}`,
    () => `alice@${r.str(10)}@web01`,
    () => Array.from({ length: r.int(8) }, () => r.str(6)).join('@'),
  ];
  let ok = 0;
  const n = await forAWhile(BUDGET_MS, 200_000, () => {
    const raw = r.pick(shapes)();
    const t = timed('parseTarget', raw, () => parseTarget(raw));
    if (t.error === null) {
      ok++;
      assert.ok(t.user && raw.length <= MAX_TARGET);
      assert.ok(!CONTROL.test(raw), `accepted a name with control characters: ${JSON.stringify(raw)}`);
      assert.equal([t.user, t.account, t.device].filter((x) => x !== null).join('@'), raw);
    } else {
      assert.ok(!CONTROL.test(t.error), `message carries control characters: ${JSON.stringify(t.error)}`);
      assert.ok(t.error.length < 600);
    }
    const p = timed('printable', raw, () => printable(raw));
    assert.ok(!CONTROL.test(p));
  });
  console.log(`# targets: ${n} hostile names, ${ok} parsed as valid, seed ${SEED}`);
});

test('X.224: random and mutated Connection Requests never throw and never claim more than they hold', async () => {
  const r = new Rng(SEED + 1);
  const base = [
    clientConnectionRequest({ cookie: 'alice' }),
    clientConnectionRequest({ routingToken: 'tok', requestedProtocols: 3 }),
    clientConnectionRequest({ cookie: 'x'.repeat(200), correlation: Buffer.alloc(16, 7) }),
  ];
  let accepted = 0;
  const n = await forAWhile(BUDGET_MS, 200_000, () => {
    let pkt: Buffer;
    const k = r.int(4);
    if (k === 0) pkt = r.bytes(r.int(64));
    else {
      pkt = Buffer.from(r.pick(base));
      const flips = 1 + r.int(6);
      for (let i = 0; i < flips; i++) pkt[r.int(pkt.length)] = r.int(256);
      if (k === 2) pkt = pkt.subarray(0, r.int(pkt.length + 1));
      if (k === 3) pkt = Buffer.concat([pkt, r.bytes(r.int(3000))]);
    }
    const h = timed('checkTpktHeader', pkt.toString('hex'), () => checkTpktHeader(pkt));
    const p = timed('parseConnectionRequest', pkt.toString('hex'), () => parseConnectionRequest(pkt));
    if (p.ok) {
      accepted++;
      assert.ok(h.ok === true && h.length === pkt.length, 'accepted a packet whose TPKT length is not its size');
    }
  });
  console.log(`# X.224: ${n} packets, ${accepted} accepted, seed ${SEED}`);
});

test('email reply commands: never throws; only a first unquoted line starting approve/reject decides', async () => {
  const r = new Rng(SEED + 2);
  const n = await forAWhile(BUDGET_MS, 200_000, () => {
    const lines = Array.from({ length: r.int(6) }, () =>
      r.next() < 0.3 ? r.pick(['approve', 'Reject', 'APPROVE: ok', '> approve', '  reject - no', '']) + r.str(20) : r.str(40),
    );
    const text = lines.join(r.pick(['\n', '\r\n', '\r']));
    const c = timed('parseCommand', text, () => parseCommand(text));
    if (c) {
      const first = text
        .split(/\r?\n/)
        .map((l) => l.trim())
        .find((l) => l && !l.startsWith('>'))!;
      assert.match(first, /^(approve|reject)\b/i);
      assert.equal(c.action, first.slice(0, 7).toLowerCase().startsWith('approve') ? 'approve' : 'reject');
    }
  });
  console.log(`# email replies: ${n} bodies, seed ${SEED}`);
});

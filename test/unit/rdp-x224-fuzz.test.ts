// Fuzz: 100k random and mutated packets through the header check, the parser and the writer. No
// exception may escape, nothing may hang (the whole run is bounded), and whatever parses must rebuild
// into a request that parses again with the same negotiation bytes. Seeded: a failure is reproducible.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildConnectionRequest,
  checkTpktHeader,
  clientConnectionRequest,
  correlationInfo,
  parseConnectionRequest,
} from '../../src/protocols/rdp/x224.js';

const SEED = Number(process.env.GATEHOUSE_FUZZ_SEED ?? 0x5eed_7);
const N = 100_000;

/** mulberry32: small, fast, seeded. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test(`fuzz: ${N} random and mutated connection requests (seed ${SEED})`, { timeout: 60_000 }, () => {
  const r = rng(SEED);
  const int = (n: number) => Math.floor(r() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const seeds = [
    clientConnectionRequest({ routingToken: 'gh1.' + 'Z'.repeat(43), requestedProtocols: 3 }),
    clientConnectionRequest({ cookie: 'administrator', requestedProtocols: 1 }),
    clientConnectionRequest({ routingToken: 'x'.repeat(300), requestedProtocols: 1 }),
    clientConnectionRequest({ requestedProtocols: 11, correlation: correlationInfo(bytes(16)) }),
    clientConnectionRequest({}),
  ];
  const started = Date.now();
  let parsed = 0;
  for (let i = 0; i < N; i++) {
    let pkt: Buffer;
    if (i % 3 === 0) {
      // Random bytes, often with a plausible TPKT header so the parser goes deeper.
      pkt = bytes(int(80));
      if (r() < 0.7 && pkt.length >= 4) {
        pkt[0] = 3;
        pkt[1] = 0;
        pkt.writeUInt16BE(r() < 0.8 ? pkt.length : int(65536), 2);
        if (pkt.length > 5 && r() < 0.7) pkt[4] = (pkt.length - 5) & 0xff;
        if (pkt.length > 5 && r() < 0.7) pkt[5] = 0xe0;
      }
    } else {
      pkt = Buffer.from(seeds[int(seeds.length)]);
      const flips = 1 + int(4);
      for (let k = 0; k < flips; k++) {
        const op = int(4);
        if (op === 0 && pkt.length) pkt[int(pkt.length)] = int(256);
        else if (op === 1) pkt = pkt.subarray(0, int(pkt.length + 1));
        else if (op === 2) pkt = Buffer.concat([pkt, bytes(int(16))]);
        else if (pkt.length >= 4) pkt.writeUInt16BE(Math.min(65535, pkt.length + int(5) - 2), 2);
      }
    }
    const h = checkTpktHeader(pkt);
    if (h.ok === true && pkt.length >= h.length) {
      const res = parseConnectionRequest(pkt.subarray(0, h.length));
      if (res.ok) {
        parsed++;
        const out = buildConnectionRequest(res.cr, 'root');
        if (out) {
          const again = parseConnectionRequest(out);
          assert.ok(again.ok, `rebuilt request does not parse (iteration ${i}): ${again.ok ? '' : again.error}`);
          assert.equal(again.cr.cookie, 'root');
          assert.equal(out[4], out.length - 5);
          assert.deepEqual(again.cr.negReq?.raw, res.cr.negReq?.raw);
        }
      }
    } else {
      // Whatever the header said, the parser given the bytes as they are must answer, not throw.
      parseConnectionRequest(pkt);
    }
  }
  const ms = Date.now() - started;
  assert.ok(parsed > 1000, `the mutations should keep many packets valid (${parsed})`);
  assert.ok(ms < 30_000, `fuzzing took ${ms} ms`);
});

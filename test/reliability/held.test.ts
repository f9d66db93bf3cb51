// Held waits, short form: 200 SSH connections waiting for approval on one gateway process (real sshd as
// the device), then all approved at once: every one runs its command, within 5 s; the gateway's RSS is
// reported. The full form (2,000 connections) is bench/reliability-held.ts.
// Connections waiting on the same request share one upstream SSH connection (src/protocols/ssh/upstream-pool.ts),
// so 200 released connections over 20 requests cost the device 20 handshakes, not 200.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SSHD_SKIP } from '../ssh/peers.js';
import { heldWaits } from './held.js';

test('200 SSH connections held waiting, then approved at once: all through within 5 s', { skip: SSHD_SKIP }, async () => {
  const f = await heldWaits(200, 20, 'sqlite', (s) => console.log(`# ${s}`));
  if (f.failed) console.log(`# first failure: ${JSON.stringify(f.failures[0]?.slice(-160))}`);
  assert.equal(f.requests, 20);
  assert.equal(f.failed, 0, `${f.failed} of 200 never ran their command`);
  assert.ok(f.allThroughMs < 5000, `all through after ${f.allThroughMs} ms`);
});

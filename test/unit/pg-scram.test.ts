// The gateway's SCRAM client against what a hostile or broken device may send in its server-first message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_ITERATIONS, ScramClient } from '../../src/protocols/postgres/scram.js';

const nonceOf = (c: ScramClient) => /r=([^,]+)/.exec(c.first().toString())![1];

test('a device asking for more key derivations than the cap, or sending a bad challenge, is refused before any work', async () => {
  const c = new ScramClient('secret');
  const r = `${nonceOf(c)}server`;
  const salt = Buffer.from('salt').toString('base64');
  await assert.rejects(c.final(`r=${r},s=${salt},i=${MAX_ITERATIONS + 1}`), /accepts at most 100000/);
  await assert.rejects(c.final(`r=${r},s=${salt},i=0`), /invalid SCRAM challenge/);
  await assert.rejects(c.final(`r=other,s=${salt},i=4096`), /invalid SCRAM challenge/);
  await assert.rejects(c.final(`r=${r},s=${'A'.repeat(300)},i=4096`), /invalid SCRAM challenge/);
});

test('the usual 4096 rounds give a client-final message with a proof', async () => {
  const c = new ScramClient('secret');
  const r = `${nonceOf(c)}server`;
  const out = (await c.final(`r=${r},s=${Buffer.from('salt').toString('base64')},i=4096`)).toString();
  assert.match(out, /^c=biws,r=.+,p=[A-Za-z0-9+/=]+$/);
});

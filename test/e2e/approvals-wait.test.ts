// `gatehouse approvals wait`: another process decides, the waiting CLI answers; a timeout and an
// unknown request exit non-zero.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gh } from '../helpers/cli.js';
import { seedOrg, testServices, type TestEnv } from '../helpers/services.js';

describe('approvals wait', () => {
  let t: TestEnv;
  before(async () => {
    t = await testServices('sqlite', { real: true });
    await seedOrg(t.s);
  });
  after(async () => t?.cleanup());

  const ask = async (device: string) => {
    const r = await t.s.approvals.request({ username: 'alice', device, protocol: 'ssh', channel: 'cli', reason: 'deploy the fix' });
    if (r.outcome === 'allowed') throw new Error('expected a request');
    return r.request.id;
  };

  test('exits 0 once the request is approved elsewhere', async () => {
    const id = await ask('web01');
    const waiting = gh(['approvals', 'wait', String(id), '--timeout', '120'], { env: t.env });
    // Decide once the CLI is (most likely) waiting; deciding earlier must also work.
    await new Promise((r) => setTimeout(r, 1500));
    await t.s.approvals.approve(id, 'bob', { channel: 'web', proof: 'operator' });
    const r = await waiting;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`request #${id}: approved`));
  });

  test('a rejection, a timeout and an unknown request exit 1', async () => {
    const id = await ask('db01');
    const timedOut = await gh(['approvals', 'wait', String(id), '--timeout', '1'], { env: t.env });
    assert.equal(timedOut.code, 1);
    assert.match(timedOut.stdout, new RegExp(`request #${id}: timeout`));
    await t.s.approvals.reject(id, 'bob', { channel: 'web', proof: 'operator' });
    const rejected = await gh(['approvals', 'wait', String(id)], { env: t.env });
    assert.equal(rejected.code, 1);
    assert.match(rejected.stdout, /rejected/);
    const missing = await gh(['approvals', 'wait', '99999'], { env: t.env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr + missing.stdout, /not found/);
  });
});

// The approval service on a real SQLite store in a temp dir (the storage driver tests use), with a clock
// the test moves: request, reuse, approve, reject, multi-level, expiry, cancel. Seconds, no network.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatehouseError } from '../../src/core/errors.js';
import type { ApprovalRequest } from '../../src/core/types.js';
import { ADMIN, seedOrg, testServices, type TestEnv } from '../helpers/services.js';

describe('approval service on SQLite', () => {
  let t: TestEnv;
  const ask = async (device = 'web01', reason = 'deploy the fix'): Promise<ApprovalRequest> => {
    const r = await t.s.approvals.request({ username: 'alice', device, protocol: 'ssh', channel: 'cli', reason });
    assert.notEqual(r.outcome, 'allowed');
    if (r.outcome === 'allowed') throw new Error('unreachable');
    return r.request;
  };
  const names = async (ids: number[]) => {
    const p = await t.s.policy.current();
    return ids.map((id) => p.usersById.get(id)!.username);
  };
  const rejects = (p: Promise<unknown>, code: string) => assert.rejects(p, (e: unknown) => e instanceof GatehouseError && e.code === code);

  before(async () => {
    t = await testServices('sqlite');
    await seedOrg(t.s);
    await t.s.admin.addWorkflow(ADMIN, 'prod-db', 'ops', 'db', ['group-manager', 'group-members:dba']);
  });
  after(async () => t?.cleanup());

  test('request: created waiting with its route; a second ask reuses it', async () => {
    const r = await ask();
    assert.equal(r.status, 'waiting');
    assert.deepEqual(await names(r.route.levels[0].approverIds), ['bob']);
    assert.equal(r.expiresAt! > t.clock.now(), true);
    const again = await t.s.approvals.request({
      username: 'alice',
      device: 'web01',
      protocol: 'ssh',
      channel: 'cli',
      reason: 'deploy the fix',
    });
    assert.ok(again.outcome === 'waiting' && !again.created && again.request.id === r.id);
    await t.s.approvals.cancel(r.id, 'alice', 'cli');
  });

  test('approve: the requester may not, a stranger may not, the approver does; access is then allowed by the grant', async () => {
    const r = await ask();
    await rejects(t.s.approvals.approve(r.id, 'alice', { channel: 'cli', proof: 'operator' }), 'self_approval');
    await rejects(t.s.approvals.approve(r.id, 'frank', { channel: 'cli', proof: 'operator' }), 'forbidden');
    const done = await t.s.approvals.approve(r.id, 'bob', { channel: 'cli', comment: 'ok', proof: 'operator' });
    assert.equal(done.status, 'approved');
    assert.equal(done.grantStart, t.clock.now());
    assert.ok(done.grantEnd! > t.clock.now());
    const d = await t.s.approvals.decide('alice', 'web01', 'ssh');
    assert.ok(d.outcome === 'allowed' && d.grantId === r.id);
    await rejects(t.s.approvals.reject(r.id, 'bob', { channel: 'cli', proof: 'operator' }), 'already_decided');
    await t.s.approvals.revoke(r.id, 'bob', { channel: 'cli', proof: 'operator' });
    assert.equal((await t.s.approvals.decide('alice', 'web01', 'ssh')).outcome, 'approval-required');
  });

  test('reject: the comment is kept, cleaned of control characters', async () => {
    const r = await ask();
    const done = await t.s.approvals.reject(r.id, 'bob', { channel: 'cli', comment: 'not\u0007 now', proof: 'operator' });
    assert.equal(done.status, 'rejected');
    assert.equal(done.decisionComment, 'not  now');
    assert.deepEqual(await names([done.decidedBy!]), ['bob']);
  });

  test('approval.reject.comment.required: a reject without a comment is refused on every channel', async () => {
    await t.s.admin.setParam(ADMIN, 'approval.reject.comment.required', 'true');
    try {
      const r = await ask();
      for (const channel of ['cli', 'email-link', 'email-reply', 'web', 'api'] as const)
        await rejects(t.s.approvals.reject(r.id, 'bob', { channel, comment: '  ', proof: 'operator' }), 'invalid');
      const done = await t.s.approvals.reject(r.id, 'bob', { channel: 'cli', comment: 'not now', proof: 'operator' });
      assert.equal(done.status, 'rejected');
    } finally {
      await t.s.admin.setParam(ADMIN, 'approval.reject.comment.required', 'false');
    }
  });

  test('multi-level: level one approved moves to level two; one person cannot approve both', async () => {
    const r = await ask('db01');
    assert.equal(r.route.levels.length, 2);
    const [first] = await names(r.route.levels[0].approverIds);
    const moved = await t.s.approvals.approve(r.id, first, { channel: 'cli', proof: 'operator' });
    assert.equal(moved.status, 'waiting');
    assert.equal(moved.currentLevel, 1);
    await rejects(t.s.approvals.approve(r.id, first, { channel: 'cli', proof: 'operator' }), 'forbidden');
    const [second] = await names(moved.route.levels[1].approverIds);
    assert.ok(['frank', 'gina', 'hank'].includes(second));
    const done = await t.s.approvals.approve(r.id, second, { channel: 'cli', proof: 'operator' });
    assert.equal(done.status, 'approved');
  });

  test('expiry: past its deadline a request reads expired and can no longer be decided; the sweeper persists it', async () => {
    const r = await ask();
    t.clock.advance(r.expiresAt! - t.clock.now() + 1);
    assert.equal((await t.s.approvals.get(r.id))!.status, 'expired');
    await rejects(t.s.approvals.approve(r.id, 'bob', { channel: 'cli', proof: 'operator' }), 'expired');
    const r2 = await ask();
    t.clock.advance(r2.expiresAt! - t.clock.now() + 1);
    assert.equal(await t.s.approvals.expireDue(), 1);
    assert.equal((await t.s.store.getRequest(r2.id))!.status, 'expired');
  });

  test('a reason is required when the route says so; cancel is the requester’s', async () => {
    await t.s.admin.setGroup(ADMIN, 'user', 'ops', { requireReason: true });
    try {
      await rejects(
        t.s.approvals.request({ username: 'alice', device: 'web01', protocol: 'ssh', channel: 'cli', reason: '' }),
        'reason_required',
      );
    } finally {
      await t.s.admin.setGroup(ADMIN, 'user', 'ops', { requireReason: false });
    }
    const r = await ask();
    await rejects(t.s.approvals.cancel(r.id, 'bob', 'cli'), 'forbidden');
    assert.equal((await t.s.approvals.cancel(r.id, 'alice', 'cli')).status, 'cancelled');
  });
});

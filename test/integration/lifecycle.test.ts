// The whole approval lifecycle on real SQLite and PostgreSQL.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DB_TARGETS } from '../helpers/db.js';
import { ADMIN, seedOrg, testServices, type TestEnv } from '../helpers/services.js';
import { GatehouseError } from '../../src/core/errors.js';
import { ManualClock } from '../../src/core/ports/clock.js';

const MIN = 60_000;
const code = (c: string) => (e: unknown) => e instanceof GatehouseError && e.code === c;

for (const target of DB_TARGETS) {
  describe(`approval lifecycle on ${target.name}`, { skip: target.skip }, () => {
    let t: TestEnv;
    before(async () => {
      t = await testServices(target.name);
      await seedOrg(t.s);
    });
    after(async () => t?.cleanup());

    const req = (username = 'alice', device = 'web01', extra: Record<string, unknown> = {}) =>
      t.s.approvals.request({ username, device, protocol: 'ssh', channel: 'cli', reason: 'deploy 42', ...extra });

    test('create, reuse while waiting, approve, then the grant lets new connections through', async () => {
      const r1 = await req();
      assert.equal(r1.outcome, 'waiting');
      assert.equal(r1.created, true);
      const r2 = await req();
      assert.equal(r2.outcome !== 'allowed' && r2.request.id, r1.request.id, 'a second attempt reuses the waiting request');
      assert.equal(r2.outcome !== 'allowed' && r2.reminded, false, 'no reminder within approval.attempt.reuse.seconds');
      t.clock.advance(301_000);
      const r3 = await req();
      assert.equal(r3.outcome !== 'allowed' && r3.reminded, true, 'a reminder once the last mail is older than the reuse window');
      const approved = await t.s.approvals.approve(r1.request.id, 'bob', { comment: 'ok', channel: 'cli' });
      assert.equal(approved.status, 'approved');
      assert.equal(approved.grantEnd! - approved.grantStart!, 60 * MIN, 'approval.validity.minutes from approval');
      const d = await t.s.approvals.decide('alice', 'web01', 'ssh');
      assert.equal(d.outcome, 'allowed');
      assert.equal(d.outcome === 'allowed' && d.grantId, r1.request.id);
      const again = await req();
      assert.equal(again.outcome, 'allowed', 'a valid grant needs no new request');
      // Double click: the second approve gets a clear "already decided".
      await assert.rejects(t.s.approvals.approve(r1.request.id, 'bob', { channel: 'web' }), code('already_decided'));
      t.clock.advance(61 * MIN);
      assert.equal((await t.s.approvals.decide('alice', 'web01', 'ssh')).outcome, 'approval-required', 'the grant window ended');
    });

    test('self-approval is refused, also for admins; non-approvers are refused; admins may decide others', async () => {
      await t.s.admin.setUser(ADMIN, 'bob', { admin: true });
      await t.s.admin.addMember(ADMIN, 'ops', 'bob');
      const r = await t.s.approvals.request({ username: 'bob', device: 'web01', protocol: 'ssh', channel: 'cli', reason: 'mine' });
      assert.equal(r.outcome, 'waiting');
      await assert.rejects(t.s.approvals.approve(r.request.id, 'bob', { channel: 'cli' }), code('self_approval'));
      // bob manages ops and has no line manager: his request goes to linux's manager carol, not to erin.
      await assert.rejects(t.s.approvals.approve(r.request.id, 'erin', { channel: 'cli' }), code('forbidden'));
      await t.s.admin.addMember(ADMIN, 'ops', 'bob', true);
      await t.s.admin.setUser(ADMIN, 'bob', { admin: false });
      const ok = await t.s.approvals.approve(r.request.id, 'admin', { channel: 'cli', comment: 'admin decides' });
      assert.equal(ok.status, 'approved');
    });

    test('reject records the comment; cancel by the requester only; revoke by an approver', async () => {
      const a = await req('dave');
      if (a.outcome === 'allowed') throw new Error('expected a request');
      const rej = await t.s.approvals.reject(a.request.id, 'bob', { comment: 'not today\x1b[31m', channel: 'cli' });
      assert.equal(rej.status, 'rejected');
      assert.equal(rej.decisionComment, 'not today [31m');
      const b = await req('dave');
      if (b.outcome === 'allowed') throw new Error('expected a request');
      assert.notEqual(b.request.id, a.request.id, 'a rejected request is not reused');
      await assert.rejects(t.s.approvals.cancel(b.request.id, 'bob', 'cli'), code('forbidden'));
      assert.equal((await t.s.approvals.cancel(b.request.id, 'dave', 'cli')).status, 'cancelled');
      const c = await req('dave');
      if (c.outcome === 'allowed') throw new Error('expected a request');
      await t.s.approvals.approve(c.request.id, 'bob', { channel: 'cli' });
      await assert.rejects(t.s.approvals.revoke(c.request.id, 'carol', { channel: 'cli' }), code('forbidden'));
      const rv = await t.s.approvals.revoke(c.request.id, 'bob', { comment: 'done', channel: 'cli' });
      assert.equal(rv.status, 'revoked');
      assert.equal(
        (await t.s.approvals.decide('dave', 'web01', 'ssh')).outcome,
        'approval-required',
        'revoked grant no longer lets through',
      );
      const audit = await t.s.adminStore.listAudit({ limit: 10, targetType: 'approval', targetId: String(c.request.id) });
      assert.deepEqual(audit.map((x) => x.action).reverse(), ['approval.create', 'approval.approve', 'approval.revoke']);
    });

    test('a request past its deadline reads expired and cannot be approved, even with no sweeper', async () => {
      const r = await req('dave');
      if (r.outcome === 'allowed') throw new Error('expected a request');
      t.clock.advance(31 * MIN);
      await assert.rejects(t.s.approvals.approve(r.request.id, 'bob', { channel: 'cli' }), code('expired'));
      assert.equal((await t.s.approvals.get(r.request.id))!.status, 'expired');
      assert.equal(await t.s.approvals.expireDue(), 0, 'already expired by the read');
    });

    test('the sweeper expires waiting requests; approval.status.change.to.expire = 0 never expires', async () => {
      const r = await req('dave');
      if (r.outcome === 'allowed') throw new Error('expected a request');
      t.clock.advance(30 * MIN);
      assert.equal(await t.s.approvals.expireDue(), 1);
      assert.equal((await t.s.store.getRequest(r.request.id))!.status, 'expired');
      await t.s.admin.setParam(ADMIN, 'approval.status.change.to.expire', '0');
      const n = await req('dave');
      if (n.outcome === 'allowed') throw new Error('expected a request');
      assert.equal(n.request.expiresAt, null);
      t.clock.advance(10_000 * MIN);
      assert.equal(await t.s.approvals.expireDue(), 0);
      await t.s.approvals.cancel(n.request.id, 'dave', 'cli');
      await t.s.admin.setParam(ADMIN, 'approval.status.change.to.expire', '30');
    });

    test('a required reason is enforced with approval.reason.min.length', async () => {
      await t.s.admin.setGroup(ADMIN, 'user', 'ops', { requireReason: true });
      await assert.rejects(req('dave', 'web01', { reason: '' }), code('reason_required'));
      await assert.rejects(
        req('dave', 'web01', { reason: 'abc' }),
        (e: unknown) => code('reason_required')(e) && /at least 5/.test((e as Error).message),
      );
      const ok = await req('dave', 'web01', { reason: 'patching' });
      assert.equal(ok.outcome, 'waiting');
      await t.s.admin.setGroup(ADMIN, 'user', 'ops', { requireReason: false });
    });

    test('auto-approve on and off when the requester is an eligible approver', async () => {
      await t.s.admin.setGroup(ADMIN, 'user', 'ops', { managers: ['bob', 'dave'] });
      const off = await req('dave');
      assert.equal(off.outcome, 'waiting', 'auto-approve is off by default');
      const snap = await t.s.policy.current();
      assert.deepEqual(
        off.request.route.levels[0].approverIds.map((id) => snap.userName(id)),
        ['bob'],
        'the requester is not among the approvers',
      );
      await t.s.approvals.cancel(off.request.id, 'dave', 'cli');
      await t.s.admin.setParam(ADMIN, 'auto.approve.when.requester.is.approver', 'true');
      const on = await req('dave');
      assert.equal(on.outcome, 'approved');
      assert.equal(on.request.autoApproved, true);
      assert.equal((await t.s.approvals.decide('dave', 'web01', 'ssh')).outcome, 'allowed');
      const alice = await req('alice', 'web01', { protocol: 'sftp' });
      assert.equal(alice.outcome, 'waiting', 'alice is no approver: no auto-approval');
      await t.s.admin.setParam(ADMIN, 'auto.approve.when.requester.is.approver', 'false');
      await t.s.admin.setGroup(ADMIN, 'user', 'ops', { managers: ['bob'] });
    });

    test('no eligible approver: the request cannot be made', async () => {
      await t.s.admin.setGroup(ADMIN, 'user', 'ops', { managers: [] });
      await assert.rejects(req('dave', 'web01', { protocol: 'sftp' }), code('no_approver'));
      await t.s.admin.setGroup(ADMIN, 'user', 'ops', { managers: ['bob'] });
    });

    test('unknown and forbidden devices get the same refusal', async () => {
      const e1 = await req('alice', 'nosuch').catch((e) => e);
      const e2 = await req('frank', 'web01').catch((e) => e);
      assert.equal(e1.code, 'forbidden');
      assert.equal(e1.message, e2.message);
    });

    test('multi-level workflow with quorum, escalation and a distinct person per level', async () => {
      await t.s.admin.addWorkflow(ADMIN, 'prod-db', 'ops', 'db', ['group-manager', 'group-members:dba,quorum=2,escalate=30']);
      await t.s.admin.setParam(ADMIN, 'approval.status.change.to.expire', '120');
      const r = await req('alice', 'db01');
      if (r.outcome === 'allowed') throw new Error('expected a request');
      assert.equal(r.request.route.source, 'workflow');
      const id = r.request.id;
      await assert.rejects(
        t.s.approvals.approve(id, 'frank', { channel: 'cli' }),
        code('forbidden'),
        'level 2 approvers cannot decide level 1',
      );
      const l1 = await t.s.approvals.approve(id, 'bob', { channel: 'cli' });
      assert.equal(l1.status, 'waiting');
      assert.equal(l1.currentLevel, 1, 'first level approved');
      await assert.rejects(t.s.approvals.approve(id, 'bob', { channel: 'cli' }), code('forbidden'));
      const v1 = await t.s.approvals.approve(id, 'frank', { channel: 'cli' });
      assert.equal(v1.status, 'waiting', 'quorum 2 needs a second dba');
      await assert.rejects(t.s.approvals.approve(id, 'frank', { channel: 'cli' }), code('forbidden'), 'one vote per person');
      // Escalation: after 30 minutes at level 2, the admins join the approvers (it is the last level).
      t.clock.advance(29 * MIN);
      assert.equal(await t.s.approvals.escalateDue(), 0);
      t.clock.advance(2 * MIN);
      const before = (await t.s.store.getRequest(id))!;
      assert.equal(before.status, 'waiting');
      assert.equal(await t.s.approvals.escalateDue(), 1);
      const esc = (await t.s.store.getRequest(id))!;
      assert.ok(esc.route.levels[1].escalatedApproverIds!.length > 0);
      const done = await t.s.approvals.approve(id, 'gina', { channel: 'cli' });
      assert.equal(done.status, 'approved');
      await t.s.admin.setParam(ADMIN, 'approval.status.change.to.expire', '30');
      await t.s.admin.removeWorkflow(ADMIN, 'prod-db');
    });

    test('the workflow expires if not decided in time, and is then not approvable', async () => {
      await t.s.admin.addWorkflow(ADMIN, 'slow', 'ops', 'db', ['line-manager']);
      const r = await req('dave', 'db01');
      if (r.outcome === 'allowed') throw new Error('expected a request');
      assert.deepEqual(
        r.request.route.levels[0].approverIds,
        [(await t.s.policy.current()).usersByName.get('erin')!.id],
        "dave's line manager",
      );
      t.clock.advance(30 * MIN);
      await assert.rejects(t.s.approvals.approve(r.request.id, 'erin', { channel: 'cli' }), code('expired'));
      await t.s.admin.removeWorkflow(ADMIN, 'slow');
    });

    test('delegation counts inside its period only', async () => {
      const now = t.clock.now();
      const bob = (await t.s.policy.current()).usersByName.get('bob')!;
      const hank = (await t.s.policy.current()).usersByName.get('hank')!;
      await t.s.store.insertDelegation(
        { fromUserId: bob.id, toUserId: hank.id, startsAt: now + 10 * MIN, endsAt: now + 20 * MIN, reason: 'holiday' },
        { actor: 'bob', channel: 'cli', action: 'delegation.create' },
        now,
      );
      const r = await req('dave', 'web01', { protocol: 'sftp' });
      if (r.outcome === 'allowed') throw new Error('expected a request');
      await assert.rejects(t.s.approvals.approve(r.request.id, 'hank', { channel: 'cli' }), code('forbidden'), 'before the period');
      t.clock.advance(11 * MIN);
      const ok = await t.s.approvals.approve(r.request.id, 'hank', { channel: 'cli', comment: 'for bob' });
      assert.equal(ok.status, 'approved');
      const ds = await t.s.store.decisions(r.request.id);
      assert.equal(ds[0].onBehalfOf, bob.id);
      const r2 = await req('alice', 'web01', { protocol: 'sftp' });
      if (r2.outcome === 'allowed') throw new Error('expected a request');
      t.clock.advance(10 * MIN);
      await assert.rejects(t.s.approvals.approve(r2.request.id, 'hank', { channel: 'cli' }), code('forbidden'), 'after the period');
      await t.s.approvals.cancel(r2.request.id, 'alice', 'cli');
    });

    test('reservations carry their own window; instant approval can be disabled per protocol', async () => {
      const now = t.clock.now();
      const start = now + 60 * MIN;
      const end = now + 120 * MIN;
      const r = await req('alice', 'web01', { start, end });
      if (r.outcome === 'allowed') throw new Error('expected a request');
      assert.equal(r.request.kind, 'reservation');
      const a = await t.s.approvals.approve(r.request.id, 'bob', { channel: 'cli' });
      assert.equal(a.grantStart, start);
      assert.equal(a.grantEnd, end);
      assert.equal((await t.s.approvals.decide('alice', 'web01', 'ssh')).outcome, 'approval-required', 'not before the window');
      t.clock.advance(61 * MIN);
      assert.equal((await t.s.approvals.decide('alice', 'web01', 'ssh')).outcome, 'allowed', 'inside the window');
      t.clock.advance(60 * MIN);
      assert.equal((await t.s.approvals.decide('alice', 'web01', 'ssh')).outcome, 'approval-required', 'after the window');
      await assert.rejects(req('alice', 'web01', { start: now + 10, end: now }), code('invalid'));
      await t.s.admin.setParam(ADMIN, 'disable.instant.approval.for.ssh', 'true');
      await assert.rejects(req('dave'), (e: unknown) => code('forbidden')(e) && /reservation/.test((e as Error).message));
      const res = await req('dave', 'web01', { start: t.clock.now(), end: t.clock.now() + 30 * MIN });
      assert.equal(res.outcome, 'waiting');
      await t.s.admin.setParam(ADMIN, 'disable.instant.approval.for.ssh', 'false');
    });

    test('expiry across a restart: the request reads expired and cannot be approved', async () => {
      const r = await req('dave', 'web01');
      if (r.outcome === 'allowed') throw new Error('expected a request');
      const later = new ManualClock(t.clock.now() + 31 * MIN);
      const s2 = await t.restart(later);
      assert.equal((await s2.approvals.get(r.request.id))!.status, 'expired');
      await assert.rejects(s2.approvals.approve(r.request.id, 'bob', { channel: 'cli' }), code('expired'));
      const audit = await s2.adminStore.listAudit({ limit: 5, targetType: 'approval', targetId: String(r.request.id) });
      assert.deepEqual(audit.map((x) => x.action).reverse(), ['approval.create', 'approval.expire']);
    });
  });
}

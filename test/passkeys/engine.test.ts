// approval.decision.requires.passkey in the approval engine, on SQLite and PostgreSQL, with real WebAuthn
// assertions (a software authenticator): the channels that cannot carry one are refused naming the
// parameter; an assertion is bound to its request and action; 20 parallel uses (on two nodes on
// PostgreSQL) of one assertion decide once; the audit names the passkey.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DB_TARGETS } from '../helpers/db.js';
import { ADMIN, seedOrg, testServices, type TestEnv } from '../helpers/services.js';
import { loadConfig } from '../../src/config/env.js';
import { makeLogger } from '../../src/log.js';
import { openServices, type Services } from '../../src/services.js';
import { GatehouseError } from '../../src/core/errors.js';
import { decisionScope, type DecisionAction } from '../../src/core/passkeys.js';
import type { User } from '../../src/core/types.js';
import { SoftAuthenticator } from './soft-authenticator.js';

const PARAM = 'approval.decision.requires.passkey';
const refusedWith = (re: RegExp) => (e: unknown) => e instanceof GatehouseError && e.code === 'passkey_required' && re.test(e.message);

for (const target of DB_TARGETS) {
  describe(`passkeys in the approval engine on ${target.name}`, { skip: target.skip }, () => {
    let t: TestEnv;
    let node2: Services;
    let bob: User;
    let key: SoftAuthenticator;
    const user = async (name: string) => (await t.s.policy.current()).usersByName.get(name)!;
    const ask = async (device = 'web01') => {
      const r = await t.s.approvals.request({ username: 'alice', device, protocol: 'ssh', channel: 'cli', reason: 'passkey test' });
      if (r.outcome === 'allowed') throw new Error('expected a waiting request');
      return r.request.id;
    };
    const assertion = async (action: DecisionAction, id: number, who = bob, k = key) =>
      k.assert(await t.s.passkeys.assertionOptions(who, 'decide', decisionScope(action, id)));

    before(async () => {
      t = await testServices(target.name);
      await seedOrg(t.s);
      node2 = target.name === 'postgres' ? await openServices(loadConfig(t.env), makeLogger('silent'), { clock: t.clock }) : t.s;
      bob = await user('bob');
      key = new SoftAuthenticator(t.s.passkeys.rp.id, t.s.passkeys.rp.origin);
      const p = await t.s.passkeys.register(bob, 'bob-key', key.register(await t.s.passkeys.registrationOptions(bob)) as never);
      assert.equal(p.name, 'bob-key');
    });
    after(async () => {
      if (node2 !== t.s) await node2.close();
      await t?.cleanup();
    });

    test('enrolment: a registration challenge works once; a second passkey with the same id is refused', async () => {
      assert.equal((await t.s.passkeys.list(bob.id)).length, 1);
      const opts = await t.s.passkeys.registrationOptions(bob);
      const other = new SoftAuthenticator(t.s.passkeys.rp.id, t.s.passkeys.rp.origin);
      const answer = other.register(opts) as never;
      await t.s.passkeys.register(bob, 'second', answer);
      await assert.rejects(
        t.s.passkeys.register(bob, 'again', answer),
        (e: unknown) => e instanceof GatehouseError && e.code === 'invalid',
      );
      const wrongOrigin = new SoftAuthenticator(t.s.passkeys.rp.id, 'https://evil.example');
      await assert.rejects(t.s.passkeys.register(bob, 'evil', wrongOrigin.register(await t.s.passkeys.registrationOptions(bob)) as never));
      assert.equal((await t.s.passkeys.list(bob.id)).length, 2);
      assert.deepEqual([...(await t.s.passkeys.counts())], [[bob.id, 2]]);
      const second = (await t.s.passkeys.list(bob.id)).find((p) => p.name === 'second')!;
      assert.ok(await t.s.passkeys.remove(bob.id, second.id));
    });

    test('off by default: a decision needs no passkey', async () => {
      const id = await ask();
      await t.s.approvals.approve(id, 'bob', { channel: 'cli', proof: 'operator' });
      await t.s.approvals.revoke(id, 'bob', { channel: 'cli', proof: 'operator' });
    });

    test('on: channels that cannot carry a passkey are refused, naming the parameter', async () => {
      await t.s.admin.setParam(ADMIN, PARAM, 'true');
      const id = await ask();
      const cases: [Parameters<Services['approvals']['approve']>[2], RegExp][] = [
        [{ channel: 'cli', proof: 'operator' }, /the CLI cannot carry/],
        [{ channel: 'api', proof: 'factor' }, /an API token \(the CLI included\) cannot carry/],
        [{ channel: 'email-reply', proof: 'none' }, /an email reply cannot carry/],
        [{ channel: 'ssh', proof: 'factor' }, /the SSH menu cannot carry/],
        // Even with a valid assertion attached, a token cannot decide.
        [{ channel: 'api', proof: 'factor', passkey: await assertion('approve', id) }, /API token/],
      ];
      for (const [opts, re] of cases) {
        await assert.rejects(t.s.approvals.approve(id, 'bob', opts), refusedWith(new RegExp(`${PARAM.replace(/\./g, '\\.')} is on`)));
        await assert.rejects(t.s.approvals.reject(id, 'bob', { ...opts, comment: 'no' }), refusedWith(re));
      }
      await assert.rejects(t.s.approvals.escalate(id, 'bob', 'cli', 'operator'), refusedWith(/the CLI/));
      await assert.rejects(t.s.approvals.cancel(id, 'admin', 'cli', 'operator'), refusedWith(/the CLI/));
      await assert.rejects(
        t.s.delegations.delegate(ADMIN, { to: 'carol', period: (n) => ({ startsAt: n, endsAt: n + 3600_000 }), reason: null }),
        () => true,
      );
      const bobCli = { username: 'bob', id: bob.id, channel: 'cli' as const };
      await assert.rejects(
        t.s.delegations.delegate(bobCli, { to: 'carol', period: (n) => ({ startsAt: n, endsAt: n + 3600_000 }), reason: null }),
        refusedWith(/the CLI/),
      );
      await assert.rejects(t.s.approvals.approve(id, 'bob', { channel: 'web', proof: 'factor' }), refusedWith(/no passkey assertion/));
      assert.equal((await t.s.approvals.get(id))!.status, 'waiting');
      // The requester withdrawing their own request decides nothing: no passkey needed.
      await t.s.approvals.cancel(id, 'alice', 'ssh');
    });

    test('on: auto-approval (the requester deciding) does not apply; the request waits for another approver', async () => {
      await t.s.admin.setParam(ADMIN, 'auto.approve.when.requester.is.approver', 'true');
      await t.s.admin.addMember(ADMIN, 'ops', 'bob');
      try {
        for (const channel of ['ssh', 'db', 'api', 'web'] as const) {
          const r = await t.s.approvals
            .request({ username: 'bob', device: 'db01', protocol: 'ssh', channel, proof: 'factor', reason: 'auto check' })
            .catch((e: GatehouseError) => e);
          if (r instanceof GatehouseError) {
            assert.equal(r.code, 'no_approver', r.message);
            assert.match(r.message, /auto-approval is off while approval\.decision\.requires\.passkey is on/);
            continue;
          }
          assert.equal(r.outcome, 'waiting', `on ${channel}`);
          if (r.outcome === 'waiting') {
            assert.equal(r.request.autoApproved, false);
            await t.s.approvals.cancel(r.request.id, 'bob', channel === 'db' ? 'ssh' : channel);
          }
        }
        // Off again: the same request is auto-approved, as the parameter says.
        await t.s.admin.setParam(ADMIN, PARAM, 'false');
        const r = await t.s.approvals.request({ username: 'bob', device: 'db01', protocol: 'ssh', channel: 'ssh', reason: 'auto check' });
        assert.equal(r.outcome, 'approved');
        if (r.outcome === 'approved') await t.s.approvals.revoke(r.request.id, 'admin', { channel: 'cli', proof: 'operator' });
      } finally {
        await t.s.admin.setParam(ADMIN, PARAM, 'true');
        await t.s.admin.setParam(ADMIN, 'auto.approve.when.requester.is.approver', 'false');
        await t.s.admin.addMember(ADMIN, 'ops', 'bob', true);
      }
    });

    test('an assertion is bound to its request and action; the audit names the passkey', async () => {
      const a = await ask();
      const b = await ask('db01');
      const forA = await assertion('approve', a);
      await assert.rejects(t.s.approvals.approve(b, 'bob', { channel: 'web', passkey: forA }), refusedWith(/another action or request/));
      await assert.rejects(t.s.approvals.reject(a, 'bob', { channel: 'web', passkey: forA, comment: 'x' }), refusedWith(/another action/));
      // Someone else's assertion is not carol's.
      await assert.rejects(t.s.approvals.approve(a, 'carol', { channel: 'web', passkey: forA }), refusedWith(/not one of yours/));
      // A tampered signature.
      const bad = { ...forA, response: { ...forA.response, signature: forA.response.signature.slice(0, -4) + 'AAAA' } };
      await assert.rejects(t.s.approvals.approve(a, 'bob', { channel: 'web', passkey: bad }), refusedWith(/could not be verified/));
      const r = await t.s.approvals.approve(a, 'bob', { channel: 'web', passkey: forA, comment: 'ok' });
      assert.equal(r.status, 'approved');
      const [rec] = await t.s.adminStore.listAudit({ limit: 1, action: 'approval.approve', targetType: 'approval', targetId: String(a) });
      assert.deepEqual(rec.details.passkey, { name: 'bob-key', credentialId: key.id });
      // Used once: the same assertion cannot revoke, nor approve again.
      await assert.rejects(t.s.approvals.revoke(a, 'bob', { channel: 'web', passkey: forA }), refusedWith(/another action|already used/));
      const rv = await t.s.approvals.revoke(a, 'bob', { channel: 'web', passkey: await assertion('revoke', a) });
      assert.equal(rv.status, 'revoked');
      const esc = await t.s.approvals.escalate(b, 'bob', 'web', 'none', await assertion('escalate', b));
      assert.ok(esc.route.levels[0].escalatedApproverIds);
      const [e] = await t.s.adminStore.listAudit({ limit: 1, action: 'approval.escalate', targetType: 'approval', targetId: String(b) });
      assert.equal((e.details.passkey as { name: string }).name, 'bob-key');
      await t.s.approvals.reject(b, 'bob', { channel: 'email-link', comment: 'done', passkey: await assertion('reject', b) });
    });

    test('20 parallel decisions with one assertion (two nodes on PostgreSQL): exactly one wins', async () => {
      const id = await ask();
      const one = await assertion('approve', id);
      const nodes = [t.s, node2];
      const out = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => nodes[i % 2].approvals.approve(id, 'bob', { channel: 'web', passkey: one })),
      );
      const won = out.filter((o) => o.status === 'fulfilled');
      assert.equal(won.length, 1, 'one decision');
      for (const o of out) if (o.status === 'rejected') assert.ok(refusedWith(/already used|counter/)(o.reason), String(o.reason));
      const audit = await t.s.adminStore.listAudit({ limit: 20, action: 'approval.approve', targetType: 'approval', targetId: String(id) });
      assert.equal(audit.length, 1);
    });

    test('an expired challenge is refused', async () => {
      const id = await ask('db01');
      const late = await assertion('approve', id);
      t.clock.advance(3 * 60_000);
      await assert.rejects(t.s.approvals.approve(id, 'bob', { channel: 'web', passkey: late }), refusedWith(/expired/));
      await t.s.admin.setParam(ADMIN, PARAM, 'false');
    });
  });
}

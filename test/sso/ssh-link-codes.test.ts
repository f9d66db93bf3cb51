// SSH login through a link, below the protocols: who gets the link (ssh.login.method, per group, users
// without a key or password), the code's life (pending, confirmed once, used once, expired), another user
// refused, and 20 parallel confirmations and uses on two nodes of one database, each with one winner.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/env.js';
import { CODE_ALPHABET, normaliseCode } from '../../src/core/ssh-sso.js';
import { makeLogger } from '../../src/log.js';
import { openServices, type Services } from '../../src/services.js';
import { DB_TARGETS } from '../helpers/db.js';
import { ADMIN, seedOrg, testServices, type TestEnv } from '../helpers/services.js';

const ADDR = '198.51.100.7';

for (const target of DB_TARGETS) {
  describe(`SSH sign-in codes on ${target.name}`, { skip: target.skip }, () => {
    let t: TestEnv;
    let s: Services;
    let node2: Services;
    const user = async (name: string) => (await s.policy.current()).usersByName.get(name)!;
    const group = async (name: string) => (await s.policy.current()).userGroupsByName.get(name)!;
    const audits = async (action: string) => s.adminStore.listAudit({ limit: 100, action });

    before(async () => {
      t = await testServices(target.name);
      s = t.s;
      await seedOrg(s);
      await s.admin.addUser(ADMIN, { username: 'nokey', email: 'nokey@example.com' });
      // A second node: its own services (caches, clock) on the same database.
      node2 = await openServices(loadConfig(t.env), makeLogger('silent'), { clock: t.clock });
    });
    after(async () => {
      await node2?.close();
      await t?.cleanup();
    });

    test('who gets the link: no key and no password, the parameter, a group; sso wins among groups', async () => {
      assert.equal(await s.sshSso.methodFor('alice'), 'key-or-password');
      assert.equal(await s.sshSso.methodFor('nokey'), 'sso', 'neither a key nor a password');
      assert.equal(await s.sshSso.methodFor('nobody-here'), 'key-or-password', 'unknown names follow the parameter');
      await s.admin.setParam(ADMIN, 'ssh.login.method', 'sso');
      assert.equal(await s.sshSso.methodFor('alice'), 'sso');
      assert.equal(await s.sshSso.methodFor('nobody-here'), 'sso');
      await s.sshSso.setGroupMethod((await group('ops')).id, 'key-or-password');
      assert.equal(await s.sshSso.methodFor('alice'), 'key-or-password', 'the group overrides the parameter');
      assert.equal(await s.sshSso.methodFor('frank'), 'sso');
      await s.admin.setParam(ADMIN, 'ssh.login.method', 'key-or-password');
      await s.sshSso.setGroupMethod((await group('ops')).id, 'sso');
      await s.sshSso.setGroupMethod((await group('dba')).id, 'key-or-password');
      await s.admin.addMember(ADMIN, 'dba', 'alice');
      assert.equal(await s.sshSso.methodFor('alice'), 'sso', 'sso wins when groups disagree');
      assert.equal(await s.sshSso.methodFor('frank'), 'key-or-password');
      await s.sshSso.setGroupMethod((await group('ops')).id, null);
      assert.equal(await s.sshSso.methodFor('alice'), 'key-or-password');
      await assert.rejects(s.admin.setParam(ADMIN, 'ssh.login.method', 'magic'), /must be one of key-or-password, sso/);
    });

    test('a code: printed URL, pending until confirmed, used once; another user is refused and audited', async () => {
      const { code, url } = await s.sshSso.issue('alice', ADDR);
      assert.match(code, new RegExp(`^[${CODE_ALPHABET}]{4}-[${CODE_ALPHABET}]{4}$`));
      assert.equal(url, `${s.config.publicUrl}/sso/ssh/${code}`);
      assert.equal(normaliseCode(code.toLowerCase()), code.replace('-', ''));
      assert.deepEqual(await s.sshSso.redeem(code, 'alice', ADDR), { ok: false, why: 'pending' });
      assert.deepEqual(await s.sshSso.redeem(code, 'bob', ADDR), { ok: false, why: 'unknown' }, 'bound to the SSH username');

      await assert.rejects(s.sshSso.view(code, await user('bob'), '203.0.113.9'), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'forbidden');
        assert.match(e.message, /another user's SSH login, not for bob/);
        return true;
      });
      await assert.rejects(s.sshSso.confirm(code, await user('bob'), '203.0.113.9'), /another user's SSH login/);
      const refused = (await audits('ssh.sso.refused')).filter((a) => a.actor === 'bob');
      assert.equal(refused.length, 2);
      assert.equal(refused[0].details.from, '203.0.113.9');
      assert.deepEqual(await s.sshSso.redeem(code, 'alice', ADDR), { ok: false, why: 'pending' }, 'bob changed nothing');

      const v = await s.sshSso.view(code, await user('alice'), '203.0.113.1');
      assert.deepEqual([v.username, v.clientAddr, v.state], ['alice', ADDR, 'pending']);
      await s.sshSso.confirm(code, await user('alice'), '203.0.113.1');
      await assert.rejects(s.sshSso.confirm(code, await user('alice'), '203.0.113.1'), /already used/);
      const r = await node2.sshSso.redeem(code, 'alice', ADDR);
      assert.ok(r.ok && r.user.username === 'alice', 'the other node finishes the login');
      assert.deepEqual(await s.sshSso.redeem(code, 'alice', ADDR), { ok: false, why: 'used' }, 'a used code fails');
      assert.equal((await s.sshSso.view(code, await user('alice'), '-')).state, 'used');
      const confirmed = await audits('ssh.sso.confirmed');
      assert.equal(confirmed[0].actor, 'alice');
      assert.equal(confirmed[0].details.from, '203.0.113.1');
      assert.equal(confirmed[0].details.sshClientAddr, ADDR);
      assert.equal((await audits('ssh.sso.used'))[0].details.confirmedFrom, '203.0.113.1');
      assert.ok((await audits('ssh.sso.issued')).length >= 1);
    });

    test('expiry: a code past its life cannot be confirmed or used; a short life through the hook', async () => {
      const a = await s.sshSso.issue('alice', ADDR);
      t.clock.advance(5 * 60_000 + 1);
      await assert.rejects(s.sshSso.confirm(a.code, await user('alice'), '-'), /expired/);
      assert.equal((await s.sshSso.view(a.code, await user('alice'), '-')).state, 'expired');

      const b = await s.sshSso.issue('alice', ADDR);
      await s.sshSso.confirm(b.code, await user('alice'), '-');
      t.clock.advance(5 * 60_000 + 1);
      assert.deepEqual(await s.sshSso.redeem(b.code, 'alice', ADDR), { ok: false, why: 'expired' }, 'confirmed but not used in time');

      s.sshSso.ttlMs = 1000;
      try {
        const c = await s.sshSso.issue('alice', ADDR);
        assert.equal(c.expiresAt, t.clock.now() + 1000);
        t.clock.advance(1001);
        await assert.rejects(s.sshSso.confirm(c.code, await user('alice'), '-'), /expired/);
      } finally {
        s.sshSso.ttlMs = 5 * 60_000;
      }
    });

    test('not a code: malformed, unknown, wrong alphabet', async () => {
      for (const bad of ['', 'ABCD', 'ABCD-EFGH', 'BCDF-GHJK', 'bcdf-ghj', '../../etc', 'BCDF-GHJK-LMNP'])
        await assert.rejects(s.sshSso.view(bad, await user('alice'), '-'), /not valid/);
      assert.equal(normaliseCode('AEIO-UBCD'), null, 'vowels are not in the alphabet');
    });

    test('20 parallel confirmations on two nodes: one wins; 20 parallel uses: one login', async () => {
      const { code } = await s.sshSso.issue('alice', ADDR);
      const alice = await user('alice');
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? node2 : s).sshSso.confirm(code, alice, `10.0.0.${i}`)),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(results.map((r) => r.status)));
      for (const r of results) if (r.status === 'rejected') assert.match(String(r.reason), /already used/);
      const uses = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? node2 : s).sshSso.redeem(code, 'alice', ADDR)));
      assert.equal(uses.filter((u) => u.ok).length, 1);
      assert.ok(uses.every((u) => u.ok || u.why === 'used'));
    });

    test('a disabled user cannot finish a login confirmed before', async () => {
      const { code } = await s.sshSso.issue('dave', ADDR);
      await s.sshSso.confirm(code, await user('dave'), '-');
      await s.admin.setUser(ADMIN, 'dave', { disabled: true });
      assert.deepEqual(await s.sshSso.redeem(code, 'dave', ADDR), { ok: false, why: 'refused' });
    });
  });
}

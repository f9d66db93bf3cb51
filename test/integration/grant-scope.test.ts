// approval.grant.scope through the approval service on SQLite and PostgreSQL: with 'account' one approved
// ssh request also lets sftp through to the same device account; with 'protocol' sftp needs its own request.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DB_TARGETS } from '../helpers/db.js';
import { ADMIN, seedOrg, testServices, type TestEnv } from '../helpers/services.js';
import { GatehouseError } from '../../src/core/errors.js';
import type { Protocol } from '../../src/core/types.js';
import { login, startServer, type Client, type Server } from '../api/helpers.js';
import { gh, ghJson } from '../helpers/cli.js';

for (const target of DB_TARGETS) {
  describe(`approval.grant.scope on ${target.name}`, { skip: target.skip }, () => {
    let t: TestEnv;
    before(async () => {
      t = await testServices(target.name);
      await seedOrg(t.s);
    });
    after(async () => t?.cleanup());

    const req = (protocol: Protocol) =>
      t.s.approvals.request({ username: 'alice', device: 'web01', protocol, channel: 'cli', reason: 'deploy 42' });
    const approvedSsh = async () => {
      const r = await req('ssh');
      assert.equal(r.outcome, 'waiting');
      await t.s.approvals.approve(r.request.id, 'bob', { channel: 'cli', proof: 'operator' });
      return r.request.id;
    };

    test('a bad value is refused with a clear error; the default is protocol', async () => {
      await assert.rejects(
        t.s.admin.setParam(ADMIN, 'approval.grant.scope', 'everything'),
        (e: unknown) => e instanceof GatehouseError && e.code === 'invalid' && /one of protocol, account/.test(e.message),
      );
      assert.equal(await t.s.approvals.grantScope(), 'protocol');
    });

    test('protocol: after an approved ssh request, sftp asks again', async () => {
      const id = await approvedSsh();
      assert.equal((await t.s.approvals.decide('alice', 'web01', 'sftp')).outcome, 'approval-required');
      const sftp = await req('sftp');
      assert.equal(sftp.outcome, 'waiting', 'a new request, so the manager is asked again');
      assert.ok(sftp.created && sftp.request.protocol === 'sftp');
      await t.s.approvals.cancel(sftp.request.id, 'alice', 'cli');
      await t.s.approvals.revoke(id, 'bob', { channel: 'cli', proof: 'operator' });
    });

    test('account: the approved ssh request lets sftp through without a new request; revoking ends both', async () => {
      await t.s.admin.setParam(ADMIN, 'approval.grant.scope', 'account');
      assert.equal(await t.s.approvals.grantScope(), 'account', 'the new value is seen at once');
      const id = await approvedSsh();
      const sftp = await req('sftp');
      assert.equal(sftp.outcome, 'allowed', 'no second request');
      assert.ok(sftp.decision.outcome === 'allowed' && sftp.decision.grantId === id);
      const d = await t.s.approvals.decide('alice', 'web01', 'sftp');
      assert.ok(d.outcome === 'allowed' && d.grantId === id);
      assert.deepEqual((await t.s.approvals.grantCoverage('alice', 'web01', 'sftp')).covers, ['sftp', 'ssh']);
      // db01 offers and allows only ssh: sftp there stays refused whatever the scope.
      assert.equal((await t.s.approvals.decide('alice', 'db01', 'sftp')).outcome, 'denied');
      await t.s.approvals.revoke(id, 'bob', { channel: 'cli', proof: 'operator' });
      assert.equal((await t.s.approvals.decide('alice', 'web01', 'ssh')).outcome, 'approval-required');
      assert.equal((await t.s.approvals.decide('alice', 'web01', 'sftp')).outcome, 'approval-required');
    });

    test('account: an sftp attempt while the ssh request waits joins it (one request, one mail)', async () => {
      const ssh = await req('ssh');
      const sftp = await req('sftp');
      assert.ok(ssh.outcome === 'waiting' && sftp.outcome === 'waiting');
      assert.equal(sftp.request.id, ssh.request.id);
      assert.equal(sftp.created, false);
      await t.s.approvals.approve(ssh.request.id, 'bob', { channel: 'cli', proof: 'operator' });
      assert.equal((await t.s.approvals.decide('alice', 'web01', 'sftp')).outcome, 'allowed');
      await t.s.approvals.revoke(ssh.request.id, 'bob', { channel: 'cli', proof: 'operator' });
    });
  });
}

describe('policy explain shows approval.grant.scope (API and CLI)', () => {
  let srv: Server;
  let admin: Client;
  before(async () => {
    srv = await startServer('sqlite');
    admin = await login(srv.base, 'admin');
  });
  after(async () => srv?.stop());
  const explain = () => admin.get('/api/v1/policy/explain?user=alice&device=web01&protocol=sftp');

  test('the explain API and `policy explain` (text and JSON) name the scope and what one approval covers', async () => {
    const before = await explain();
    assert.equal(before.status, 200);
    assert.equal(before.body.grantScope, 'protocol');
    assert.deepEqual(before.body.grantCovers, ['sftp']);
    const bad = await admin.put('/api/v1/params/approval.grant.scope', { value: 'device' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /approval.grant.scope must be one of protocol, account/);
    assert.equal((await admin.put('/api/v1/params/approval.grant.scope', { value: 'account' })).status, 200);
    const listed = (await admin.get('/api/v1/params')).body.items.find((p: { name: string }) => p.name === 'approval.grant.scope');
    assert.deepEqual([listed.value, listed.default, listed.choices], ['account', 'protocol', ['protocol', 'account']]);
    const after = await explain();
    assert.deepEqual([after.body.grantScope, after.body.grantCovers], ['account', ['sftp', 'ssh']]);
    const text = await gh(['policy', 'explain', 'alice', 'web01', '--protocol', 'sftp'], { env: srv.env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /grant scope: account \(one approval covers sftp, ssh\)/);
    const json = await ghJson<{ grantScope: string; grantCovers: string[] }>(['policy', 'explain', 'alice', 'web01'], { env: srv.env });
    assert.deepEqual([json.grantScope, json.grantCovers], ['account', ['ssh', 'sftp']]);
  });
});

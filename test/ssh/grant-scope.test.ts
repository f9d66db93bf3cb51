// approval.grant.scope with the real OpenSSH clients: with 'account', an approved ssh request lets sftp
// through to the same device account at once; with 'protocol', sftp waits for its own request.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, SSHD_SKIP, startSshd, type Running, type Sshd } from './peers.js';
import { ADMIN, startGateway, type Gw } from './gateway.js';
import { dbOf } from '../helpers/kysely.js';

describe('ssh proxy: approval.grant.scope', { skip: SSHD_SKIP }, () => {
  let sshd: Sshd;
  let gw: Gw;
  before(async () => {
    sshd = await startSshd();
    gw = await startGateway(sshd, { approval: true });
  });
  after(async () => {
    await gw?.stop();
    await sshd?.stop();
  });

  const requestId = async (p: Running) => Number(/[Rr]equest #(\d+)/.exec(await p.waitFor(/[Rr]equest #\d+/))![1]);
  const sftp = () => launch('sftp', ['-P', String(gw.port), ...gw.opts(), '-b', '-', 'alice@web01@127.0.0.1'], { input: 'cd /tmp\npwd\n' });
  /** ssh exec, approved by bob while it waits; returns the approval id. */
  async function approvedSsh(): Promise<number> {
    const p = gw.ssh('alice@web01', ['echo ok']);
    const id = await requestId(p);
    await gw.s.approvals.approve(id, 'bob', { channel: 'cli', proof: 'operator' });
    assert.equal((await p.done).code, 0);
    return id;
  }

  test('protocol (default): sftp after an approved ssh request waits for a request of its own', async () => {
    const id = await approvedSsh();
    const p = sftp();
    const second = await requestId(p);
    assert.notEqual(second, id);
    assert.equal((await gw.s.approvals.get(second))!.protocol, 'sftp');
    await gw.s.approvals.cancel(second, 'alice', 'cli');
    assert.notEqual((await p.done).code, 0);
    await gw.s.approvals.revoke(id, 'bob', { channel: 'cli', proof: 'operator' });
  });

  test('account: sftp goes straight through on the ssh approval, tied to it', async () => {
    await gw.s.admin.setParam(ADMIN, 'approval.grant.scope', 'account');
    const id = await approvedSsh();
    const r = await sftp().done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Remote working directory: \/tmp/);
    assert.doesNotMatch(r.stderr, /waiting/i, 'no second request, no second mail');
    const row = await dbOf(gw.s)
      .selectFrom('sessions')
      .select(['approval_id', 'protocol'])
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    assert.deepEqual([row?.approval_id, row?.protocol], [id, 'sftp']);
    assert.equal((await gw.s.store.listRequests({ status: 'waiting' })).length, 0);
    await gw.s.approvals.revoke(id, 'bob', { channel: 'cli', proof: 'operator' });
    assert.equal((await gw.s.approvals.decide('alice', 'web01', 'sftp')).outcome, 'approval-required');
  });

  test('account: sftp started while ssh waits joins its request; one approval starts both', async () => {
    const ssh = gw.ssh('alice@web01', ['echo both']);
    const id = await requestId(ssh);
    const p = sftp();
    assert.equal(await requestId(p), id, 'the same request: the manager is asked once');
    await gw.s.approvals.approve(id, 'bob', { channel: 'cli', proof: 'operator' });
    const [a, b] = await Promise.all([ssh.done, p.done]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /Remote working directory: \/tmp/);
    await gw.s.approvals.revoke(id, 'bob', { channel: 'cli', proof: 'operator' });
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseParam, Params, PARAM_DEFS } from '../../src/core/params.js';
import { parseLevel } from '../../src/core/admin/levels.js';
import { AesGcmVault } from '../../src/crypto/vault.js';
import { cleanComment } from '../../src/core/approvals/service.js';
import { GatehouseError } from '../../src/core/errors.js';

test('every DESIGN.md parameter exists with its default', () => {
  const p = new Params(new Map());
  assert.equal(p.str('instance.name'), 'Gatehouse');
  assert.equal(p.bool('auto.approve.when.requester.is.approver'), false);
  assert.equal(p.int('approval.status.change.to.expire'), 30);
  assert.equal(p.int('approval.validity.minutes'), 60);
  assert.equal(p.int('approval.attempt.reuse.seconds'), 300);
  assert.equal(p.int('approval.reason.min.length'), 5);
  for (const proto of ['ssh', 'sftp', 'rdp', 'http', 'postgres', 'mysql'])
    assert.equal(p.bool(`disable.instant.approval.for.${proto}`), false);
  assert.equal(p.bool('approval.email.link.requires.login'), false);
  assert.equal(p.bool('approval.reject.comment.required'), false);
  assert.equal(p.bool('approval.decision.requires.passkey'), false);
  assert.equal(PARAM_DEFS.length, 28);
  assert.equal(p.bool('recording.db.parameters'), false);
  assert.equal(p.str('ssh.login.method'), 'key-or-password');
  assert.equal(p.str('approval.grant.scope'), 'protocol');
  assert.equal(p.int('ssh.upstream.sessions.per.connection'), 10);
  assert.equal(p.int('recording.retention.days'), 90);
  assert.equal(normaliseParam('recording.on.failure', 'terminate'), 'terminate');
  assert.throws(() => normaliseParam('recording.on.failure', 'explode'), /one of continue, terminate/);
});

test('parameter values are validated with clear errors', () => {
  assert.equal(normaliseParam('auto.approve.when.requester.is.approver', 'YES'), 'true');
  assert.equal(normaliseParam('approval.status.change.to.expire', ' 0 '), '0');
  assert.throws(() => normaliseParam('approval.validity.minutes', 'soon'), /whole number/);
  assert.throws(() => normaliseParam('approval.validity.minutes', '0'), /between 1 and/);
  assert.throws(() => normaliseParam('auto.approve.when.requester.is.approver', 'maybe'), /true or false/);
  assert.throws(() => normaliseParam('no.such.param', '1'), /unknown parameter/);
  assert.throws(() => normaliseParam('instance.name', 'a\r\nBcc: x'), /one line/);
});

test('workflow levels parse as the CLI writes them', () => {
  assert.deepEqual(parseLevel('group-manager'), { authority: { kind: 'group-manager' }, quorum: 1, escalateAfterMinutes: null });
  assert.deepEqual(parseLevel('group-members:dba,quorum=2,escalate=30'), {
    authority: { kind: 'group-members', group: 'dba' },
    quorum: 2,
    escalateAfterMinutes: 30,
  });
  assert.deepEqual(parseLevel('users:alice,bob,quorum=2').authority, { kind: 'users', users: ['alice', 'bob'] });
  assert.equal(parseLevel('line-manager').authority.kind, 'line-manager');
  for (const bad of [
    'boss',
    'group-members',
    'group-manager,quorum=0',
    'group-manager,quorum=x',
    'group-manager,speed=2',
    'line-manager:x',
  ])
    assert.throws(
      () => parseLevel(bad),
      (e: unknown) => e instanceof GatehouseError && e.code === 'invalid',
      bad,
    );
});

test('the vault seals with AES-256-GCM and refuses a wrong key without echoing anything', () => {
  const v = new AesGcmVault('k'.repeat(32));
  const sealed = v.seal('hunter2-secret');
  assert.ok(!sealed.includes('hunter2'));
  assert.notEqual(v.seal('hunter2-secret'), sealed, 'random IV');
  assert.equal(v.open(sealed), 'hunter2-secret');
  const other = new AesGcmVault('x'.repeat(32));
  assert.throws(
    () => other.open(sealed),
    (e: Error) => /cannot decrypt/.test(e.message) && !e.message.includes(sealed),
  );
  const tampered = sealed.slice(0, -4) + (sealed.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  assert.throws(() => v.open(tampered), /cannot decrypt/);
});

test('comments lose terminal control characters', () => {
  assert.equal(cleanComment('ok\x1b[2J\x1b]0;pwned\x07 fine\r\nmore'), 'ok [2J ]0;pwned  fine  more');
  assert.equal(cleanComment('   '), null);
  assert.throws(() => cleanComment('x'.repeat(1001)), /at most 1000/);
});

// approval.grant.scope in decide(): 'protocol' keeps a grant to its protocol; 'account' lets one grant
// cover every protocol the access rules allow on the same device account, and nothing beyond.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, type GrantLookup } from '../../src/core/policy/decide.js';
import { PolicySnapshot, type PolicyData } from '../../src/core/policy/snapshot.js';
import { grantCoverage } from '../../src/core/policy/scope.js';
import { normaliseParam, Params } from '../../src/core/params.js';
import type { Protocol, User } from '../../src/core/types.js';
import type { GrantScope } from '../../src/core/policy/scope.js';

const user = (id: number, username: string): User => ({
  id,
  username,
  displayName: username,
  email: null,
  managerId: null,
  isAdmin: false,
  disabled: false,
  source: 'local',
});

function org(ruleProtocols: Protocol[] = ['ssh', 'sftp']): PolicySnapshot {
  const d: PolicyData = {
    users: [user(1, 'alice'), user(2, 'bob')],
    userGroups: [{ id: 1, name: 'ops', requireApproval: true, requireReason: false, memberIds: [1], managerIds: [2] }],
    deviceGroups: [{ id: 1, name: 'linux', requireApproval: false, requireReason: false, managerIds: [] }],
    devices: [
      {
        id: 1,
        name: 'web01',
        host: 'h',
        ports: { ssh: 22, rdp: 3389 },
        protocols: ['ssh', 'sftp', 'rdp'],
        groupId: 1,
        hostKey: null,
        enabled: true,
      },
    ],
    accounts: [
      { id: 1, deviceId: 1, name: 'root', secretKind: 'password', isDefault: true },
      { id: 2, deviceId: 1, name: 'deploy', secretKind: 'password', isDefault: false },
    ],
    accessRules: [{ id: 1, userGroupId: 1, deviceGroupId: 1, protocols: ruleProtocols, allowPortForwarding: false }],
    workflows: [],
  };
  return new PolicySnapshot(d, 1);
}

const NOW = Date.UTC(2026, 0, 1);
const WINDOW = { start: NOW - 60_000, end: NOW + 3_600_000 };
/** One approved ssh grant (request #7) for alice on web01/root. */
const sshGrant: GrantLookup = (u, d, a, p, now) =>
  u === 1 && d === 1 && a === 1 && p === 'ssh' && WINDOW.start <= now && now < WINDOW.end ? 7 : undefined;

const ask = (p: PolicySnapshot, protocol: Protocol, grantScope?: GrantScope, o: { account?: string; now?: number } = {}) =>
  decide(p, sshGrant, { username: 'alice', device: 'web01', protocol, grantScope, account: o.account, now: o.now ?? NOW });

test('scope protocol (the default): an ssh grant does not cover sftp', () => {
  const p = org();
  assert.equal(ask(p, 'ssh').outcome, 'allowed');
  assert.equal(ask(p, 'sftp').outcome, 'approval-required', 'default scope');
  assert.equal(ask(p, 'sftp', 'protocol').outcome, 'approval-required');
});

test('scope account: an ssh grant covers sftp on the same account, inside its window', () => {
  const p = org();
  const d = ask(p, 'sftp', 'account');
  assert.equal(d.outcome, 'allowed');
  assert.equal(d.outcome === 'allowed' ? d.grantId : undefined, 7);
  assert.match(d.why, /approval request #7 for ssh/);
  assert.equal(ask(p, 'ssh', 'account').why, 'valid grant from approval request #7', 'its own protocol reads as before');
  // Another account of the device, or after the window: a new request.
  assert.equal(ask(p, 'sftp', 'account', { account: 'deploy' }).outcome, 'approval-required');
  assert.equal(ask(p, 'sftp', 'account', { now: WINDOW.end }).outcome, 'approval-required');
});

test('scope account: a protocol the rule does not allow is still refused', () => {
  const p = org();
  // The device offers rdp but the rule does not: denied, grant or not.
  assert.equal(ask(p, 'rdp', 'account').outcome, 'denied');
  // A rule without ssh: the old ssh grant no longer stands for sftp.
  assert.equal(ask(org(['sftp']), 'sftp', 'account').outcome, 'approval-required');
  assert.equal(ask(org(['ssh']), 'sftp', 'account').outcome, 'denied');
});

test('grantCoverage lists what one approval covers, for policy explain', () => {
  assert.deepEqual(grantCoverage(org(), 'alice', 'web01', 'sftp', 'account'), ['sftp', 'ssh']);
  assert.deepEqual(grantCoverage(org(), 'alice', 'web01', 'ssh', 'protocol'), ['ssh']);
  assert.deepEqual(grantCoverage(org(), 'alice', 'web01', 'rdp', 'account'), [], 'no rule: nothing');
  assert.deepEqual(grantCoverage(org(), 'nobody', 'web01', 'ssh', 'account'), []);
});

test('approval.grant.scope is validated and defaults to protocol', () => {
  assert.equal(new Params(new Map()).str('approval.grant.scope'), 'protocol');
  assert.equal(normaliseParam('approval.grant.scope', ' account '), 'account');
  assert.throws(
    () => normaliseParam('approval.grant.scope', 'device'),
    /approval.grant.scope must be one of protocol, account \(got 'device'\)/,
  );
});

// decide() on a hand-built policy snapshot: no database, no I/O.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, type GrantLookup } from '../../src/core/policy/decide.js';
import { PolicySnapshot, type PolicyData } from '../../src/core/policy/snapshot.js';
import type { Decision, User } from '../../src/core/types.js';

const user = (id: number, username: string, managerId: number | null = null): User => ({
  id,
  username,
  displayName: username,
  email: null,
  managerId,
  isAdmin: false,
  disabled: false,
  source: 'local',
});

function org(over: (d: PolicyData) => void = () => {}): PolicySnapshot {
  const d: PolicyData = {
    users: [user(1, 'alice', 2), user(2, 'bob'), user(3, 'carol'), user(4, 'erin'), user(5, 'frank'), user(6, 'gina'), user(7, 'mallory')],
    userGroups: [
      { id: 1, name: 'ops', requireApproval: false, requireReason: false, memberIds: [1], managerIds: [2] },
      { id: 2, name: 'dev', requireApproval: false, requireReason: false, memberIds: [1], managerIds: [4] },
      { id: 3, name: 'dba', requireApproval: false, requireReason: false, memberIds: [5, 6], managerIds: [] },
    ],
    deviceGroups: [
      { id: 1, name: 'linux', requireApproval: false, requireReason: false, managerIds: [3] },
      { id: 2, name: 'db', requireApproval: false, requireReason: false, managerIds: [3] },
    ],
    devices: [
      { id: 1, name: 'web01', host: 'h', ports: { ssh: 22 }, protocols: ['ssh', 'sftp'], groupId: 1, hostKey: null, enabled: true },
      { id: 2, name: 'db01', host: 'h', ports: { ssh: 22 }, protocols: ['ssh'], groupId: 2, hostKey: null, enabled: true },
    ],
    accounts: [
      { id: 1, deviceId: 1, name: 'root', secretKind: 'password', isDefault: true },
      { id: 2, deviceId: 1, name: 'deploy', secretKind: 'password', isDefault: false },
      { id: 3, deviceId: 2, name: 'postgres', secretKind: 'password', isDefault: true },
    ],
    accessRules: [
      { id: 1, userGroupId: 1, deviceGroupId: 1, protocols: ['ssh', 'sftp'], allowPortForwarding: false },
      { id: 2, userGroupId: 2, deviceGroupId: 2, protocols: ['ssh'], allowPortForwarding: true },
    ],
    workflows: [],
  };
  over(d);
  return new PolicySnapshot(d, 1);
}

const none: GrantLookup = () => undefined;
const NOW = Date.UTC(2026, 0, 1);
const ask = (
  p: PolicySnapshot,
  username: string,
  device: string,
  protocol: 'ssh' | 'sftp' | 'rdp' | 'http' = 'ssh',
  grants = none,
  account?: string,
) => decide(p, grants, { username, device, protocol, now: NOW, account });

function approvers(p: PolicySnapshot, d: Decision): string[][] {
  assert.equal(d.outcome, 'approval-required');
  if (d.outcome !== 'approval-required') return [];
  return d.route.levels.map((l) => l.approverIds.map((id) => p.userName(id)).sort());
}

test('no access rule is denied, with the same answer as an unknown device or user', () => {
  const p = org();
  assert.equal(ask(p, 'alice', 'db01').outcome, 'allowed', 'alice reaches db01 through dev');
  // mallory is in no group; rdp is in no rule of alice's: both denied, exactly as an unknown device is.
  assert.equal(ask(p, 'mallory', 'web01').outcome, 'denied');
  assert.deepEqual(ask(p, 'mallory', 'web01'), ask(p, 'mallory', 'nosuch'));
  assert.equal(ask(p, 'alice', 'web01', 'rdp').outcome, 'denied');
  assert.deepEqual(ask(p, 'alice', 'web01', 'rdp'), ask(p, 'alice', 'nosuch', 'rdp'));
  // Without dev's rule, db01 and alice both exist but no rule joins them.
  const p2 = org((x) => (x.accessRules = x.accessRules.filter((r) => r.id !== 2)));
  const forbidden = ask(p2, 'alice', 'db01');
  assert.equal(forbidden.outcome, 'denied');
  assert.deepEqual(forbidden, ask(p2, 'alice', 'nosuch'), 'the same answer as an unknown device');
  assert.deepEqual(forbidden, ask(p2, 'nobody', 'db01'), 'the same answer as an unknown user');
});

test('access rule and no approval setting: allowed; unknown account denied', () => {
  const p = org();
  const d = ask(p, 'alice', 'web01');
  assert.equal(d.outcome, 'allowed');
  assert.equal(d.outcome === 'allowed' && d.accountId, 1, 'default account');
  assert.equal(ask(p, 'alice', 'web01', 'ssh', none, 'deploy').outcome, 'allowed');
  assert.equal(ask(p, 'alice', 'web01', 'ssh', none, 'nosuch').outcome, 'denied');
});

test('a workflow wins over user-group approval, which wins over device-group approval', () => {
  const levels = [{ authority: { kind: 'group-members' as const, group: 'dba' }, quorum: 2, escalateAfterMinutes: 30 }];
  const all = org((x) => {
    x.userGroups[0].requireApproval = true;
    x.deviceGroups[0].requireApproval = true;
    x.workflows = [{ id: 1, name: 'prod', userGroupId: 1, deviceGroupId: 1, levels }];
  });
  const d = ask(all, 'alice', 'web01');
  assert.equal(d.outcome === 'approval-required' && d.route.source, 'workflow');
  assert.deepEqual(approvers(all, d), [['frank', 'gina']]);
  assert.equal(d.outcome === 'approval-required' && d.route.levels[0].quorum, 2);

  const ugAndDg = org((x) => {
    x.userGroups[0].requireApproval = true;
    x.deviceGroups[0].requireApproval = true;
  });
  const d2 = ask(ugAndDg, 'alice', 'web01');
  assert.equal(d2.outcome === 'approval-required' && d2.route.source, 'user-group');
  assert.deepEqual(approvers(ugAndDg, d2), [['bob']]);
  assert.match(d2.why, /user group 'ops'/);

  const dgOnly = org((x) => (x.deviceGroups[0].requireApproval = true));
  const d3 = ask(dgOnly, 'alice', 'web01');
  assert.equal(d3.outcome === 'approval-required' && d3.route.source, 'device-group');
});

test("device-group approval: the requester's group managers, else the device group's managers", () => {
  const withManagers = org((x) => (x.deviceGroups[0].requireApproval = true));
  // alice is in ops (bob) and dev (erin): both are her group managers.
  assert.deepEqual(approvers(withManagers, ask(withManagers, 'alice', 'web01')), [['bob', 'erin']]);
  const noManagers = org((x) => {
    x.deviceGroups[0].requireApproval = true;
    for (const g of x.userGroups) g.managerIds = [];
  });
  const d = ask(noManagers, 'alice', 'web01');
  assert.deepEqual(approvers(noManagers, d), [['carol']]);
  assert.match(d.why, /device group's managers/);
});

test('a user in several groups: any group requiring approval applies, approvers are all those managers', () => {
  const p = org((x) => {
    x.userGroups[0].requireApproval = true;
    x.userGroups[1].requireApproval = true;
    x.accessRules.push({ id: 3, userGroupId: 2, deviceGroupId: 1, protocols: ['ssh'], allowPortForwarding: true });
  });
  const d = ask(p, 'alice', 'web01');
  assert.deepEqual(approvers(p, d), [['bob', 'erin']]);
  assert.equal(d.outcome === 'approval-required' && d.allowPortForwarding, true, 'port forwarding from any matching rule');
  assert.equal(ask(p, 'alice', 'web01', 'sftp').outcome, 'approval-required', 'ops rule covers sftp');
});

test('no eligible approver is flagged, never silently allowed', () => {
  const p = org((x) => {
    x.userGroups[0].requireApproval = true;
    x.userGroups[0].managerIds = [];
  });
  const d = ask(p, 'alice', 'web01');
  assert.equal(d.outcome, 'approval-required');
  assert.equal(d.outcome === 'approval-required' && d.noApprover, true);
  // The requester as sole manager is not an eligible approver of their own request either.
  const self = org((x) => {
    x.userGroups[0].requireApproval = true;
    x.userGroups[0].managerIds = [1];
  });
  const d2 = ask(self, 'alice', 'web01');
  assert.equal(d2.outcome === 'approval-required' && d2.noApprover, false, 'auto-approve may still apply');
  assert.equal(d2.outcome === 'approval-required' && d2.requesterIsApprover, true);
  // Four eyes without auto-approve: the level goes to alice's line manager, never to nobody.
  assert.deepEqual(approvers(self, d2), [['bob']]);
});

test('workflow authorities: group-manager, line-manager, users, disabled approvers drop out', () => {
  const p = org((x) => {
    x.users[2].disabled = true; // carol
    x.workflows = [
      {
        id: 1,
        name: 'w',
        userGroupId: 1,
        deviceGroupId: 1,
        levels: [
          { authority: { kind: 'line-manager' }, quorum: 1, escalateAfterMinutes: null },
          { authority: { kind: 'group-manager' }, quorum: 1, escalateAfterMinutes: null },
          { authority: { kind: 'users', users: ['carol', 'erin', 'nosuch'] }, quorum: 1, escalateAfterMinutes: null },
        ],
      },
    ];
  });
  assert.deepEqual(approvers(p, ask(p, 'alice', 'web01')), [['bob'], ['bob'], ['erin']]);
});

test('a valid grant lets the connection through', () => {
  const p = org((x) => (x.userGroups[0].requireApproval = true));
  const grants: GrantLookup = (u, d, a, proto, now) => (u === 1 && d === 1 && a === 1 && proto === 'ssh' && now === NOW ? 42 : undefined);
  const d = ask(p, 'alice', 'web01', 'ssh', grants);
  assert.equal(d.outcome, 'allowed');
  assert.equal(d.outcome === 'allowed' && d.grantId, 42);
  assert.equal(ask(p, 'alice', 'web01', 'sftp', grants).outcome, 'approval-required', 'a grant is per protocol');
});

test('require reason comes from the user group or the device group', () => {
  const p = org((x) => {
    x.userGroups[0].requireApproval = true;
    x.deviceGroups[0].requireReason = true;
  });
  const d = ask(p, 'alice', 'web01');
  assert.equal(d.outcome === 'approval-required' && d.requireReason, true);
});

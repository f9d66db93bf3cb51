import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DelegationService } from '../../src/core/delegations.js';
import { ManualClock } from '../../src/core/ports/clock.js';
import type { DelegationStore } from '../../src/core/ports/delegations.js';
import type { AuditEntry, Delegation, User } from '../../src/core/types.js';

const user = (id: number, username: string, disabled = false): User => ({
  id,
  username,
  displayName: username,
  email: null,
  managerId: null,
  isAdmin: false,
  disabled,
  source: 'local',
});

function setup() {
  const rows: Delegation[] = [];
  const audits: AuditEntry[] = [];
  const store: DelegationStore = {
    delegationsTo: async (userId, at) =>
      rows.filter((d) => d.toUserId === userId && d.startsAt <= at && d.endsAt > at && d.revokedAt === null),
    delegationsFrom: async (ids, at) =>
      rows.filter((d) => ids.includes(d.fromUserId) && d.startsAt <= at && d.endsAt > at && d.revokedAt === null),
    listDelegations: async (userId) =>
      rows.filter((d) => userId === undefined || d.fromUserId === userId || d.toUserId === userId).reverse(),
    insertDelegation: async (d, audit) => {
      const row = { ...d, id: rows.length + 1, revokedAt: null };
      rows.push(row);
      audits.push({ ...audit, targetId: row.id });
      return row;
    },
  };
  const users = [user(1, 'bob'), user(2, 'frank'), user(3, 'gone', true)];
  const policy = { current: async () => ({ usersByName: new Map(users.map((u) => [u.username, u])) }) };
  const clock = new ManualClock();
  return { svc: new DelegationService(store, policy, clock), rows, audits, clock };
}

const bob = { username: 'bob', id: 1, channel: 'cli' as const };

test('a delegation is recorded with its audit entry and is in force for its window', async () => {
  const { svc, audits, clock } = setup();
  const now = clock.now();
  const d = await svc.delegate(bob, { to: 'frank', period: () => ({ startsAt: now, endsAt: now + 3600_000 }), reason: 'holiday' });
  assert.deepEqual({ from: d.fromUserId, to: d.toUserId, reason: d.reason }, { from: 1, to: 2, reason: 'holiday' });
  assert.equal(audits[0].action, 'delegation.create');
  assert.equal(audits[0].channel, 'cli');
  assert.deepEqual(audits[0].details, { to: 'frank', start: now, end: now + 3600_000 });
  assert.equal((await svc.activeTo(2)).length, 1);
  clock.advance(3600_000);
  assert.equal((await svc.activeTo(2)).length, 0);
  assert.equal((await svc.list(1)).length, 1);
});

test('a delegation is refused to an unknown or disabled user, to oneself, and when it ends in the past', async () => {
  const { svc, rows, clock } = setup();
  const now = clock.now();
  await assert.rejects(svc.delegate(bob, { to: 'nobody', period: () => ({ startsAt: now, endsAt: now + 1000 }), reason: null }), {
    code: 'not_found',
    message: "unknown user 'nobody'",
  });
  await assert.rejects(svc.delegate(bob, { to: 'gone', period: () => ({ startsAt: now, endsAt: now + 1000 }), reason: null }), {
    code: 'not_found',
  });
  await assert.rejects(svc.delegate(bob, { to: 'bob', period: () => ({ startsAt: now, endsAt: now + 1000 }), reason: null }), {
    code: 'invalid',
    message: 'you cannot delegate to yourself',
  });
  await assert.rejects(svc.delegate(bob, { to: 'frank', period: () => ({ startsAt: now, endsAt: now }), reason: null }), {
    code: 'invalid',
  });
  await assert.rejects(svc.delegate(bob, { to: 'frank', period: () => ({ startsAt: now - 2000, endsAt: now - 1000 }), reason: null }), {
    code: 'invalid',
  });
  assert.equal(rows.length, 0);
});

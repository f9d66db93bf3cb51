// The protocol repositories on SQLite and PostgreSQL: one-time rows are consumed once, conditional
// updates apply only from the state they expect, and what is written reads back.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DB_TARGETS } from '../helpers/db.js';
import { seedOrg, testServices, type TestEnv } from '../helpers/services.js';

for (const target of DB_TARGETS) {
  describe(`protocol repositories on ${target.name}`, { skip: target.skip }, () => {
    let t: TestEnv;
    before(async () => {
      t = await testServices(target.name);
      await seedOrg(t.s);
    });
    after(async () => t?.cleanup());

    test('an RDP ticket is consumed once, never after it expires', async () => {
      const now = t.clock.now();
      const base = { userId: 1, deviceId: 1, accountId: 1, approvalId: null, channel: 'web', createdAt: now };
      const id = await t.s.rdpTickets.insert({ ...base, tokenHash: 'a'.repeat(64), expiresAt: now + 60_000 });
      await t.s.rdpTickets.insert({ ...base, tokenHash: 'b'.repeat(64), expiresAt: now + 60_000 });
      const tries = await Promise.all([1, 2, 3].map(() => t.s.rdpTickets.consume('a'.repeat(64), now, 'client')));
      const won = tries.filter((r) => r !== undefined);
      assert.equal(won.length, 1);
      assert.deepEqual(won[0], { id, userId: 1, deviceId: 1, accountId: 1, approvalId: null, expiresAt: now + 60_000 });
      assert.deepEqual(await t.s.rdpTickets.find('a'.repeat(64)), { used: true });
      assert.equal(await t.s.rdpTickets.consume('b'.repeat(64), now + 60_000, 'client'), undefined);
      assert.deepEqual(await t.s.rdpTickets.find('b'.repeat(64)), { used: false });
      assert.equal(await t.s.rdpTickets.find('c'.repeat(64)), undefined);
      await t.s.rdpTickets.pruneExpired(now + 60_001);
      assert.equal(await t.s.rdpTickets.find('b'.repeat(64)), undefined);
    });

    test('an HTTP login token is consumed once, and only on its host', async () => {
      const now = t.clock.now();
      await t.s.httpLoginTokens.insert({ tokenHash: 'd'.repeat(64), userId: 2, host: 'web01', createdAt: now, expiresAt: now + 60_000 });
      assert.equal(await t.s.httpLoginTokens.consume('d'.repeat(64), 'web02', now), null);
      assert.equal(await t.s.httpLoginTokens.consume('d'.repeat(64), 'web01', now), 2);
      assert.equal(await t.s.httpLoginTokens.consume('d'.repeat(64), 'web01', now), null);
    });

    test('session figures are written and written again; options read back by device', async () => {
      await t.s.httpSessionStats.save(7, { requests: 1, firstRequestAt: 100, lastRequestAt: 100 });
      await t.s.httpSessionStats.save(7, { requests: 5, firstRequestAt: 300, lastRequestAt: 400 });
      const devices = await t.s.deviceOptions.all();
      assert.ok(devices.length > 0);
      const p = await t.s.policy.current();
      const name = p.devicesById.get(devices[0].id)!.name;
      assert.equal(await t.s.deviceOptions.byName(name), devices[0].options);
      assert.equal(await t.s.deviceOptions.byName('no-such-device'), undefined);
    });

    test('the audit feed cursor moves only from where it stands', async () => {
      await t.s.audit({ actor: 'system', channel: 'system', action: 'feed.test' });
      assert.equal(await t.s.auditFeed.cursor('test'), 0);
      const records = await t.s.auditFeed.after(0, 1000);
      assert.ok(records.length > 0);
      const to = records[records.length - 1].seq!;
      assert.equal(await t.s.auditFeed.countAfter(0), records.length);
      assert.equal(await t.s.auditFeed.move('test', 0, to), true);
      assert.equal(await t.s.auditFeed.move('test', 0, to), false);
      assert.equal(await t.s.auditFeed.cursor('test'), to);
      assert.equal(await t.s.auditFeed.countAfter(to), 0);
    });

    test('a recording is deleted only while the session still points at it', async () => {
      const p = await t.s.policy.current();
      const device = [...p.devicesById.values()].find((d) => p.accountsOfDevice.get(d.id)?.length)!;
      const account = p.accountsOfDevice.get(device.id)![0];
      const id = await t.s.sessions.open(
        {
          userId: p.usersByName.get('alice')!.id,
          deviceId: device.id,
          accountId: account.id,
          protocol: 'ssh',
          approvalId: null,
          clientAddr: null,
          nodeId: t.s.nodeId,
        },
        { close: () => {}, bytes: () => ({ in: 0, out: 0 }) },
        null,
      );
      assert.deepEqual(await t.s.recordings.find(id), { path: null, deletedAt: null });
      await t.s.recordings.attach(id, '2026/01/01/a.cast.gz');
      await t.s.recordings.markDeleted(id, 'other.cast.gz', 5);
      assert.deepEqual(await t.s.recordings.find(id), { path: '2026/01/01/a.cast.gz', deletedAt: null });
      await t.s.recordings.markDeleted(id, '2026/01/01/a.cast.gz', 5);
      assert.deepEqual(await t.s.recordings.find(id), { path: '2026/01/01/a.cast.gz', deletedAt: 5 });
      await t.s.sessions.closed(id, 'test');
    });

    test('health answers, with no migration pending', async () => {
      await t.s.dbHealth.ping();
      assert.deepEqual(await t.s.dbHealth.pendingMigrations(), []);
      const byStatus = await t.s.reports.approvalsByStatus();
      assert.ok(byStatus.every((r) => typeof r.n === 'number'));
      assert.equal((await t.s.auditChain.verify()).ok, true);
    });
  });
}

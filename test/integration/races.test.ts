// Races: approve, reject, cancel and expire fired at one request at once, from several service instances
// (separate connection pools, as separate nodes would be). Exactly one terminal state wins each round,
// and the audit log holds exactly that transition. A device's first-use SSH host key is pinned once.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DB_TARGETS } from '../helpers/db.js';
import { ADMIN, seedOrg, testServices, type TestEnv } from '../helpers/services.js';
import { loadConfig } from '../../src/config/env.js';
import { ManualClock } from '../../src/core/ports/clock.js';
import { GatehouseError } from '../../src/core/errors.js';
import { makeLogger } from '../../src/log.js';
import { openServices, type Services } from '../../src/services.js';
import { ApprovalService } from '../../src/core/approvals/service.js';

const TERMINAL_ACTIONS = ['approval.approve', 'approval.reject', 'approval.cancel', 'approval.expire'];

for (const target of DB_TARGETS) {
  const rounds = target.name === 'postgres' ? 200 : 100;
  describe(`races on ${target.name}`, { skip: target.skip }, () => {
    let t: TestEnv;
    let others: Services[] = [];
    let late: ManualClock;
    let sweeperOnly: ApprovalService | null = null;
    before(async () => {
      t = await testServices(target.name);
      await seedOrg(t.s);
      await t.s.admin.setGroup(ADMIN, 'user', 'ops', { managers: ['bob', 'carol'] });
      late = new ManualClock(t.clock.now());
      const config = loadConfig(t.env);
      if (target.name === 'postgres') {
        // A second "node" deciding at the same wall time, and a sweeper whose clock is past the deadline: separate pools.
        others = [
          await openServices(config, makeLogger('silent'), { clock: t.clock }),
          await openServices(config, makeLogger('silent'), { clock: late }),
        ];
      } else {
        // SQLite has one writer connection per process (other processes wait on the file lock); in one
        // process the contenders share it, and the sweeper runs with its own, later clock.
        sweeperOnly = new ApprovalService(t.s.store, t.s.policy, t.s.grants, t.s.params, late, t.s.bus);
      }
    });
    after(async () => {
      for (const o of others) await o.close();
      others = [];
      await t?.cleanup();
    });

    test(`${rounds} rounds of concurrent approve, reject, cancel and expire`, async () => {
      const node2 = others[0] ?? t.s;
      const sweeper = others[1]?.approvals ?? sweeperOnly!;
      const wins: Record<string, number> = {};
      for (let i = 0; i < rounds; i++) {
        const r = await t.s.approvals.request({
          username: 'alice',
          device: 'web01',
          protocol: 'ssh',
          channel: 'cli',
          reason: `round ${i}`,
        });
        if (r.outcome === 'allowed') throw new Error('expected a request');
        const id = r.request.id;
        late.t = r.request.expiresAt! + 1;
        const thunks: (() => Promise<unknown>)[] = [
          () => t.s.approvals.approve(id, 'bob', { channel: 'cli' }),
          () => node2.approvals.reject(id, 'carol', { channel: 'web', comment: 'race' }),
          () => t.s.approvals.cancel(id, 'alice', 'cli'),
          () => sweeper.expireDue(),
        ];
        // Start them in a different order each round so every contender gets to be first.
        const order = [0, 1, 2, 3].sort(() => Math.random() - 0.5);
        const started: Promise<unknown>[] = [];
        for (const k of order) started[k] = new Promise((res) => setTimeout(res, Math.random() * 4)).then(thunks[k]);
        const attempts = await Promise.allSettled(started);
        const final = (await t.s.store.getRequest(id))!;
        assert.ok(['approved', 'rejected', 'cancelled', 'expired'].includes(final.status), `round ${i}: ${final.status}`);
        wins[final.status] = (wins[final.status] ?? 0) + 1;
        // Losers get a clear "already decided" / "expired", never anything else.
        for (const a of attempts.slice(0, 3)) {
          if (a.status === 'rejected') {
            const e = a.reason as GatehouseError;
            assert.ok(
              e instanceof GatehouseError && ['already_decided', 'expired'].includes(e.code),
              `round ${i}: unexpected ${String(e)}`,
            );
          }
        }
        const fulfilled = attempts.slice(0, 3).filter((a) => a.status === 'fulfilled').length + (final.status === 'expired' ? 1 : 0);
        assert.equal(fulfilled, 1, `round ${i}: exactly one transition succeeded`);
        const audit = await t.s.adminStore.listAudit({ limit: 20, targetType: 'approval', targetId: String(id) });
        const terminal = audit.filter((x) => TERMINAL_ACTIONS.includes(x.action));
        assert.equal(terminal.length, 1, `round ${i}: audit holds exactly the winning transition (${terminal.map((x) => x.action)})`);
        assert.equal(
          terminal[0].action,
          (
            {
              approved: 'approval.approve',
              rejected: 'approval.reject',
              cancelled: 'approval.cancel',
              expired: 'approval.expire',
            } as Record<string, string>
          )[final.status],
        );
        // A decided request never flips afterwards.
        await assert.rejects(t.s.approvals.approve(id, 'bob', { channel: 'cli' }));
        if (final.status === 'approved') await t.s.approvals.revoke(id, 'bob', { channel: 'cli' });
      }
      assert.equal(
        Object.values(wins).reduce((a, b) => a + b, 0),
        rounds,
      );
      // Every contender won sometimes or the race was not real; print the spread for the record.
      console.log(`# ${target.name} race winners over ${rounds} rounds: ${JSON.stringify(wins)}`);
    });

    test('20 first-use host key pins of two different keys, on two nodes: one key wins, once', async () => {
      const node2 = others[0] ?? t.s;
      const keys = ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeyOfTheRealDevice', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeyOfAnInterceptor'];
      for (let round = 0; round < 5; round++) {
        await t.s.admin.setDevice(ADMIN, 'db01', { hostKey: null });
        const dev = { id: (await t.s.policy.current()).devicesByName.get('db01')!.id, name: 'db01' };
        const before = (await t.s.adminStore.listAudit({ limit: 500, action: 'device.host-key-pinned' })).length;
        const got = await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 ? node2 : t.s).admin.pinHostKey(ADMIN, dev, keys[(i + round) % 2])),
        );
        assert.equal(new Set(got).size, 1, `round ${round}: every racer is told the one winner`);
        assert.ok(keys.includes(got[0]!));
        assert.equal(await t.s.adminStore.hostKeyOf(dev.id), got[0]);
        const after = (await t.s.adminStore.listAudit({ limit: 500, action: 'device.host-key-pinned' })).length;
        assert.equal(after - before, 1, `round ${round}: one pin audited`);
      }
    });
  });
}

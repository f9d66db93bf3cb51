// Node heartbeats: a node silent for 30 s is down and its sessions are marked lost; a restarted node
// closes the sessions it held before; several sweepers report each node once.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DB_TARGETS } from '../helpers/db.js';
import { seedOrg, testServices, type TestEnv } from '../helpers/services.js';
import { ManualClock } from '../../src/core/ports/clock.js';
import { NodeService } from '../../src/core/nodes.js';
import { KyselyNodeStore } from '../../src/storage/nodes-store.js';
import { KyselySessionStore } from '../../src/storage/store.js';
import { dbOf, kyselyStoreOf } from '../helpers/kysely.js';

for (const target of DB_TARGETS) {
  describe(`nodes on ${target.name}`, { skip: target.skip }, () => {
    let t: TestEnv;
    before(async () => {
      t = await testServices(target.name);
      await seedOrg(t.s);
    });
    after(async () => t?.cleanup());

    test('a silent node goes down after 30 s and its live sessions end as lost, once', async () => {
      const clock = new ManualClock(Date.now());
      const store = new KyselyNodeStore(dbOf(t.s));
      const audits: string[] = [];
      const mk = (id: string) =>
        new NodeService(store, clock, { id, host: 'h', pid: 1, version: 'test' }, async (a, d) => void audits.push(`${a}:${d.node}`));
      const [a, b, c] = [mk('node-a'), mk('node-b'), mk('node-c')];
      for (const n of [a, b, c]) await n.register();
      const sessions = new KyselySessionStore(kyselyStoreOf(t.s));
      const rec = { userId: 1, deviceId: 1, accountId: 1, protocol: 'ssh' as const, approvalId: null, clientAddr: '127.0.0.1' };
      const sb1 = await sessions.insertSession({ ...rec, nodeId: 'node-b' }, clock.now());
      const sb2 = await sessions.insertSession({ ...rec, nodeId: 'node-b' }, clock.now());
      const sa = await sessions.insertSession({ ...rec, nodeId: 'node-a' }, clock.now());
      clock.advance(20_000);
      await a.heartbeat();
      await c.heartbeat();
      assert.deepEqual((await a.sweep()).nodes, [], 'not yet: 20 s of silence');
      clock.advance(11_000);
      await a.heartbeat();
      await c.heartbeat();
      // Two sweepers at once: node-b is reported (and audited) by exactly one.
      const [ra, rc] = await Promise.all([a.sweep(), c.sweep()]);
      assert.deepEqual([...ra.nodes, ...rc.nodes], ['node-b']);
      assert.equal(ra.sessions + rc.sessions, 2);
      assert.deepEqual(audits, ['node.down:node-b']);
      const rows = await dbOf(t.s)
        .selectFrom('sessions')
        .select(['id', 'ended_at', 'end_reason'])
        .where('id', 'in', [sb1, sb2, sa])
        .orderBy('id')
        .execute();
      assert.match(rows[0].end_reason!, /node lost/);
      assert.match(rows[1].end_reason!, /node lost/);
      assert.equal(rows[2].ended_at, null, "node-a's session lives on");
      const list = await a.list();
      assert.deepEqual(
        list.map((n) => [n.id, n.status]),
        [
          ['node-a', 'up'],
          ['node-b', 'down'],
          ['node-c', 'up'],
        ],
      );
      assert.equal(list.find((n) => n.id === 'node-a')!.liveSessions, 1);
      // node-a restarts after a crash: the session it held is closed, and it is up again.
      const lost = await a.register();
      assert.equal(lost, 1);
      await b.register();
      assert.equal((await a.list()).find((n) => n.id === 'node-b')!.status, 'up', 'a node that comes back is up again');
    });
  });
}

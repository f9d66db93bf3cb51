// Failed-login limits on a real database (SQLite and PostgreSQL): every node counts the same rows.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DB_TARGETS } from '../helpers/db.js';
import { testServices, type TestEnv } from '../helpers/services.js';
import { LoginLimiter } from '../../src/protocols/ssh/ratelimit.js';

for (const target of DB_TARGETS) {
  describe(`login limits on ${target.name}`, { skip: target.skip }, () => {
    let t: TestEnv;
    before(async () => {
      t = await testServices(target.name);
    });
    after(async () => t?.cleanup());

    test('per user and per address, shared by two limiters (two nodes), lifted when the window passes', async () => {
      const limits = { windowMs: 60_000, perUser: 3, perAddress: 5 };
      const now = () => t.clock.now();
      const a = new LoginLimiter(t.s.store.db, now, limits);
      const b = new LoginLimiter(t.s.store.db, now, limits);
      assert.equal(await a.blocked('alice', '10.0.0.1'), null);
      await a.fail('alice', '10.0.0.1');
      await b.fail('alice', '10.0.0.2');
      assert.equal(await a.blocked('alice', '10.0.0.3'), null);
      await b.fail('alice', '10.0.0.1');
      const blocked = await a.blocked('alice', '10.0.0.9');
      assert.equal(blocked?.scope, 'user', 'three failures from anywhere block the user');
      assert.ok(blocked!.retryAfterMs > 0 && blocked!.retryAfterMs <= 60_000);
      assert.equal(await a.blocked('bob', '10.0.0.9'), null, 'other users are not blocked');
      for (const u of ['carol', 'dave', 'erin']) await b.fail(u, '10.0.0.1');
      assert.equal((await a.blocked('frank', '10.0.0.1'))?.scope, 'address', 'five failures from one address block it');
      await a.succeeded('alice');
      assert.equal(await a.blocked('alice', '10.0.0.9'), null, 'a good login clears the user count');
      t.clock.advance(61_000);
      assert.equal(await a.blocked('frank', '10.0.0.1'), null, 'the window passed');
    });
  });
}

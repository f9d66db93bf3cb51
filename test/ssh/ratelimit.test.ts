// The login limiter on a real database (SQLite and PostgreSQL): every node counts the same attempts,
// an attempt is reserved before the secret is checked, and parallel reservations never pass the limit.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DB_TARGETS } from '../helpers/db.js';
import { testServices, type TestEnv } from '../helpers/services.js';
import { LoginLimiter, type Refusal, type Reservation } from '../../src/core/limiter.js';
import { KyselyLoginAttemptStore } from '../../src/storage/login-attempts.js';
import { openDb } from '../../src/storage/db.js';
import { dbOf } from '../helpers/kysely.js';

const fail = async (l: LoginLimiter, user: string | null, addr: string) => {
  const r = await l.reserve({ kind: 'password', user, addr });
  assert.ok(r.ok, `expected a reservation for ${user}@${addr}`);
};
const refusal = (r: Reservation | Refusal) => (r.ok ? null : r);

for (const target of DB_TARGETS) {
  describe(`login limits on ${target.name}`, { skip: target.skip }, () => {
    let t: TestEnv;
    before(async () => {
      t = await testServices(target.name);
    });
    after(async () => t?.cleanup());

    test('per user and per address, shared by two limiters (two nodes), lifted when the window passes', async () => {
      const limits = { windowMs: 60_000, perUser: 3, perAddress: 5, perLink: 2 };
      const a = new LoginLimiter(new KyselyLoginAttemptStore(dbOf(t.s)), t.clock, limits);
      const b = new LoginLimiter(new KyselyLoginAttemptStore(dbOf(t.s)), t.clock, limits);
      await fail(a, 'alice', '10.0.0.1');
      await fail(b, 'alice', '10.0.0.2');
      await fail(b, 'alice', '10.0.0.1');
      const blocked = refusal(await a.reserve({ kind: 'password', user: 'alice', addr: '10.0.0.9' }));
      assert.equal(blocked?.scope, 'user', 'three attempts from anywhere block the user');
      assert.equal(blocked?.first, true, 'the first refusal is marked (audited once)');
      assert.ok(blocked!.retryAfterMs > 0 && blocked!.retryAfterMs <= 60_000);
      assert.equal(refusal(await b.reserve({ kind: 'password', user: 'alice', addr: '10.0.0.9' }))?.first, false, 'later refusals are not');
      assert.equal(refusal(await a.reserve({ kind: 'code', user: 'alice', addr: '10.0.0.9' })), null, 'codes count apart from passwords');
      for (const u of ['carol', 'dave', 'erin']) await fail(b, u, '10.0.0.1');
      assert.equal(
        refusal(await a.reserve({ kind: 'password', user: 'frank', addr: '10.0.0.1' }))?.scope,
        'address',
        'five attempts from one address block it',
      );
      assert.equal((await a.addressBlocked('10.0.0.1'))?.scope, 'address');
      assert.equal(await a.addressBlocked('10.0.0.2'), null);
      t.clock.advance(61_000);
      assert.equal(refusal(await a.reserve({ kind: 'password', user: 'frank', addr: '10.0.0.1' })), null, 'the window passed');
    });

    test('a success clears the user and gives its slot back to the address; a refused key reserves nothing elsewhere', async () => {
      const limits = { windowMs: 60_000, perUser: 2, perAddress: 4, perLink: 2 };
      const l = new LoginLimiter(new KyselyLoginAttemptStore(dbOf(t.s)), t.clock, limits);
      await fail(l, 'gina', '10.1.0.1');
      const ok = await l.reserve({ kind: 'password', user: 'gina', addr: '10.1.0.1' });
      assert.ok(ok.ok);
      await ok.succeeded();
      for (let i = 0; i < 2; i++) await fail(l, 'gina', '10.1.0.1');
      assert.equal(refusal(await l.reserve({ kind: 'password', user: 'gina', addr: '10.1.0.1' }))?.scope, 'user');
      // Address: gina's first failure, two after the success, and this one = 4; the refused attempt
      // above gave its address slot back.
      await fail(l, 'hank', '10.1.0.1');
      assert.equal(refusal(await l.reserve({ kind: 'password', user: 'ivan', addr: '10.1.0.1' }))?.scope, 'address');
      const linked = [
        await l.reserve({ kind: 'password', user: 'x', addr: '10.1.0.2', link: 'L1' }),
        await l.reserve({ kind: 'password', user: 'y', addr: '10.1.0.3', link: 'L1' }),
      ];
      assert.ok(linked.every((r) => r.ok));
      assert.equal(refusal(await l.reserve({ kind: 'password', user: 'z', addr: '10.1.0.4', link: 'L1' }))?.scope, 'link');
    });

    test('40 parallel reservations from two connection pools (two nodes): exactly the limit pass', async () => {
      const second = openDb({ databaseUrl: t.env.DATABASE_URL, sqlitePath: `${t.dir}/gatehouse.db` });
      try {
        const limits = { windowMs: 60_000, perUser: 5, perAddress: 1000, perLink: 5 };
        const a = new LoginLimiter(new KyselyLoginAttemptStore(dbOf(t.s)), t.clock, limits);
        const b = new LoginLimiter(new KyselyLoginAttemptStore(second.kysely), t.clock, limits);
        const all = await Promise.all(
          Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).reserve({ kind: 'password', user: 'race', addr: `10.2.0.${i}` })),
        );
        assert.equal(all.filter((r) => r.ok).length, 5);
        assert.equal(all.filter((r) => !r.ok && r.first).length, 1, 'one refusal is the first');
      } finally {
        await second.kysely.destroy();
      }
    });
  });
}

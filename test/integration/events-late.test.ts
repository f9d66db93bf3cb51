// The event bus and late commits: an event whose transaction commits after a later one's (PostgreSQL
// hands out ids before commit) is still delivered, once; and polls do not re-read old events.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { EventBus } from '../../src/core/events.js';
import type { GatehouseEvent } from '../../src/core/types.js';
import { appendEvent } from '../../src/storage/store.js';
import { testServices, type TestEnv } from '../helpers/services.js';
import { DB_TARGETS } from '../helpers/db.js';
import { waitFor } from '../mail/helpers.js';
import { dbOf } from '../helpers/kysely.js';

for (const target of DB_TARGETS) {
  describe(`event bus, late commits (${target.name})`, { skip: target.skip }, () => {
    let t: TestEnv;
    let bus: EventBus;
    after(async () => {
      bus?.stop();
      await t?.cleanup();
    });

    test('an event committed after a later one is delivered once; nothing is delivered twice', async () => {
      t = await testServices(target.name);
      const db = dbOf(t.s);
      bus = new EventBus(t.s.store, 20);
      await bus.start();
      const got: GatehouseEvent[] = [];
      bus.subscribe(
        (e) => e.type === 'policy.changed' && typeof e.payload.action === 'string' && e.payload.action.startsWith('test.') && got.push(e),
      );
      const tagOf = (e: GatehouseEvent) => String(e.payload.action);

      if (target.name === 'postgres') {
        // Transaction A takes an id and stays open; B takes the next id and commits first.
        let releaseA!: () => void;
        const aHeld = new Promise<void>((r) => (releaseA = r));
        let aInserted!: () => void;
        const aHasId = new Promise<void>((r) => (aInserted = r));
        const a = db.transaction().execute(async (tx) => {
          await appendEvent(tx, 'policy.changed', { action: 'test.a' }, Date.now());
          aInserted();
          await aHeld;
        });
        await aHasId;
        await appendEvent(db, 'policy.changed', { action: 'test.b' }, Date.now());
        await waitFor('B delivered', () => got.some((e) => tagOf(e) === 'test.b'), 5000, 10);
        assert.ok(!got.some((e) => tagOf(e) === 'test.a'), 'A is not visible before it commits');
        releaseA();
        await a;
      } else {
        // SQLite commits in id order; the same gap is made by inserting the higher id first.
        const max = Number(
          (
            await db
              .selectFrom('events')
              .select((eb) => eb.fn.max('id').as('m'))
              .executeTakeFirst()
          )?.m ?? 0,
        );
        await sql`insert into events (id, at, type, payload) values (${max + 2}, ${Date.now()}, 'policy.changed', '{"action":"test.b"}')`.execute(
          db,
        );
        await waitFor('B delivered', () => got.some((e) => tagOf(e) === 'test.b'), 5000, 10);
        await sql`insert into events (id, at, type, payload) values (${max + 1}, ${Date.now()}, 'policy.changed', '{"action":"test.a"}')`.execute(
          db,
        );
      }
      await waitFor('A delivered after it committed', () => got.some((e) => tagOf(e) === 'test.a'), 5000, 10);
      // More polls: still exactly one of each.
      await appendEvent(db, 'policy.changed', { action: 'test.c' }, Date.now());
      await waitFor('C delivered', () => got.some((e) => tagOf(e) === 'test.c'), 5000, 10);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(got.map(tagOf).sort(), ['test.a', 'test.b', 'test.c']);
    });
  });
}

// Races inside the database, and mail, as a loaded machine plays them: a transaction that loses (deadlock,
// serialization failure, another process's write lock) runs again and what still loses is a 409, never a
// 500; one mail per request × recipient × kind × occurrence, whichever events or builders produce it.
// The three-node race with CPU hogs is test/cluster/three-nodes.test.ts; bench/race.ts repeats it.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { GatehouseError } from '../../src/core/errors.js';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { OutboxBuilder } from '../../src/notify/builder.js';
import { loadMailConfig, transportFromUrl } from '../../src/notify/config.js';
import { OutboxWorker } from '../../src/notify/outbox.js';
import { mailDb } from '../helpers/kysely.js';
import type { Services } from '../../src/services.js';
import { storageErrorToGatehouse, withRaceRetry } from '../../src/storage/retry.js';
import { DB_TARGETS, PG_SKIP } from '../helpers/db.js';
import { seedOrg, testServices, type TestEnv } from '../helpers/services.js';
import { login, startServer } from '../api/helpers.js';
import { dbOf } from '../helpers/kysely.js';

async function waitingRequest(s: Services, protocol: 'ssh' | 'sftp' = 'ssh'): Promise<number> {
  const r = await s.approvals.request({ username: 'alice', device: 'web01', protocol, channel: 'api', reason: 'race test' });
  assert.ok(r.outcome !== 'allowed');
  return r.request.id;
}

describe('a transaction that loses a race runs again; what still loses is a 409', () => {
  test('every lost-race code is retried with backoff, then ends in conflict (409), never the raw error', async () => {
    for (const code of ['40001', '40P01', '55P03', 'SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED']) {
      let calls = 0;
      const err = await withRaceRetry(
        async () => {
          calls++;
          throw Object.assign(new Error(`lost (${code})`), { code });
        },
        { firstDelayMs: 1 },
      ).catch((e: unknown) => e);
      assert.ok(err instanceof GatehouseError, `${code}: ${String(err)}`);
      assert.equal(err.code, 'conflict');
      assert.equal(calls, 5, `${code} tried 5 times`);
    }
    // Anything else is not a race: thrown as it is, at once.
    let calls = 0;
    await assert.rejects(
      withRaceRetry(async () => {
        calls++;
        throw Object.assign(new Error('syntax'), { code: '42601' });
      }),
      /syntax/,
    );
    assert.equal(calls, 1);
    // A race lost once, then won: the caller sees only the result.
    let n = 0;
    assert.equal(
      await withRaceRetry(async () => (++n < 3 ? Promise.reject(Object.assign(new Error('x'), { code: '40001' })) : 'won'), {
        firstDelayMs: 1,
      }),
      'won',
    );
  });

  test('errors that surface outside a transaction are mapped too: lost race 409, exhausted pool 503', () => {
    assert.equal(storageErrorToGatehouse(Object.assign(new Error('deadlock detected'), { code: '40P01' }))?.code, 'conflict');
    assert.equal(storageErrorToGatehouse(new Error('timeout exceeded when trying to connect'))?.code, 'unavailable');
    assert.equal(storageErrorToGatehouse(new Error('relation "x" does not exist')), null);
  });

  describe('PostgreSQL: a real deadlock between two decisions', { skip: PG_SKIP }, () => {
    let t: TestEnv;
    after(() => t?.cleanup());

    test('both transactions commit: the one PostgreSQL aborts runs again', async () => {
      t = await testServices('postgres');
      await seedOrg(t.s);
      const [a, b] = [await waitingRequest(t.s, 'ssh'), await waitingRequest(t.s, 'sftp')];
      let runs = 0;
      let lockedA!: () => void;
      let lockedB!: () => void;
      const aHeld = new Promise<void>((r) => (lockedA = r));
      const bHeld = new Promise<void>((r) => (lockedB = r));
      // Opposite lock order, each waiting for the other's first lock: PostgreSQL sees a cycle (after
      // deadlock_timeout) and aborts one with 40P01.
      const one = t.s.store.tx(async (tx) => {
        runs++;
        await tx.lockRequest(a);
        lockedA();
        await bHeld;
        await tx.lockRequest(b);
        return 'one';
      });
      const two = t.s.store.tx(async (tx) => {
        runs++;
        await tx.lockRequest(b);
        lockedB();
        await aHeld;
        await tx.lockRequest(a);
        return 'two';
      });
      assert.deepEqual(await Promise.all([one, two]), ['one', 'two']);
      assert.equal(runs, 3, 'one of the two ran again');
    });
  });

  describe('SQLite: another process holds the write lock past the wait budget', () => {
    let stop: (() => Promise<void>) | undefined;
    let holder: SQLite.Database | undefined;
    after(async () => {
      holder?.close();
      await stop?.();
    });

    test('a decision answers 409 conflict (not 500) while the lock is held, and succeeds once it is free', async () => {
      const srv = await startServer('sqlite');
      stop = srv.stop;
      const s = srv.running.services;
      const id = await waitingRequest(s);
      const bob = await login(srv.base, 'bob');
      holder = new SQLite(join(srv.env.GATEHOUSE_DATA_DIR, 'gatehouse.db'));
      holder.exec('begin immediate');
      const t0 = Date.now();
      const r = await bob.post(`/api/v1/approvals/${id}/approve`, { comment: 'while locked' });
      const waited = Date.now() - t0;
      holder.exec('rollback');
      assert.equal(r.status, 409, r.text);
      assert.equal(r.body.error.code, 'conflict');
      assert.match(r.body.error.message, /try again/);
      console.log(`# write lock held elsewhere: 409 after ${waited} ms`);
      const again = await bob.post(`/api/v1/approvals/${id}/approve`, { comment: 'lock free' });
      assert.equal(again.status, 200, again.text);
    });
  });
});

describe('mail is queued once per request × recipient × kind × occurrence', () => {
  for (const target of DB_TARGETS) {
    describe(target.name, { skip: target.skip }, () => {
      let t: TestEnv;
      after(() => t?.cleanup());

      test('two events of one kind about one request queue one mail per recipient; each reminder is its own', async () => {
        t = await testServices(target.name);
        const s = t.s;
        await seedOrg(s);
        const id = await waitingRequest(s);
        const db = mailDb(s);
        // The same news twice, as two writers (or a retried transaction) could record it.
        const created = await dbOf(s)
          .selectFrom('events')
          .selectAll()
          .where('type', '=', 'approval.created')
          .orderBy('id', 'desc')
          .limit(1)
          .executeTakeFirstOrThrow();
        await dbOf(s).insertInto('events').values({ at: created.at, type: created.type, payload: created.payload }).execute();
        const reminder = (at: number) => {
          const payload = JSON.parse(created.payload);
          payload.request.lastNotifiedAt = at;
          return dbOf(s)
            .insertInto('events')
            .values({ at, type: 'approval.reminder', payload: JSON.stringify(payload) })
            .execute();
        };
        await reminder(created.at + 400_000);
        await reminder(created.at + 400_000);
        await reminder(created.at + 800_000);
        const cfg = await loadMailConfig(s, { GATEHOUSE_SMTP_URL: 'smtp://127.0.0.1:9', GATEHOUSE_MAIL_FROM: 'gatehouse@example.com' });
        // Two builders (two nodes) over the same events.
        const builders = [new OutboxBuilder(s, cfg, () => {}), new OutboxBuilder(s, cfg, () => {})];
        await Promise.all(builders.map((b) => b.runOnce()));
        await Promise.all(builders.map((b) => b.runOnce()));
        const rows = await db.selectFrom('mail_outbox').select(['to_addr', 'kind']).where('request_id', '=', id).execute();
        const count = (to: string, kind: string) => rows.filter((r) => r.to_addr === to && r.kind === kind).length;
        assert.equal(count('bob@example.com', 'request'), 1, JSON.stringify(rows));
        assert.equal(count('bob@example.com', 'reminder'), 2, 'two reminders at two times; the repeated one once');
        assert.equal(rows.length, 3, JSON.stringify(rows));
      });

      test('the database refuses a second row for the same request × recipient × kind × occurrence, whatever its key', async () => {
        const db = mailDb(t.s);
        const row = await db.selectFrom('mail_outbox').selectAll().where('kind', '=', 'request').executeTakeFirstOrThrow();
        const { id: _id, ...copy } = row;
        const r = await db
          .insertInto('mail_outbox')
          .values({ ...copy, mail_key: `${row.mail_key}-other` })
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst();
        assert.equal(Number(r.numInsertedOrUpdatedRows ?? 0), 0);
        await assert.rejects(
          db
            .insertInto('mail_outbox')
            .values({ ...copy, mail_key: `${row.mail_key}-third` })
            .execute(),
          /unique|duplicate/i,
        );
      });
    });
  }
});

describe('a sent mail is marked sent even through a busy database', () => {
  let t: TestEnv | undefined;
  let holder: SQLite.Database | undefined;
  let smtp: SMTPServer | undefined;
  let worker: OutboxWorker | undefined;
  after(async () => {
    await worker?.stop();
    if (holder?.inTransaction) holder.exec('rollback');
    holder?.close();
    await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
    await t?.cleanup();
  });

  test('the write lock held past the wait budget while the server accepts the mail: delivered once, not again after the lease', async () => {
    t = await testServices('sqlite');
    const s = t.s;
    await seedOrg(s);
    const id = await waitingRequest(s);
    holder = new SQLite(join(t.dir, 'gatehouse.db'));
    const delivered: number[] = [];
    // While the server takes the mail, another process takes the write lock for longer than the
    // 5 s budget: the worker's "sent" mark meets it.
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      disableReverseLookup: true,
      logger: false,
      onData(stream, _session, cb) {
        stream.resume();
        stream.on('end', () => {
          delivered.push(Date.now());
          if (delivered.length === 1) {
            holder!.exec('begin immediate');
            setTimeout(() => holder!.exec('rollback'), 6500);
          }
          cb();
        });
      },
    });
    await new Promise<void>((r) => smtp!.listen(0, '127.0.0.1', () => r()));
    const port = (smtp.server.address() as AddressInfo).port;
    const base = await loadMailConfig(s);
    const cfg = { ...base, transport: transportFromUrl(`smtp://127.0.0.1:${port}`), leaseMs: 10_000, workerPollMs: 100 };
    await new OutboxBuilder(s, cfg, () => {}).runOnce();
    worker = new OutboxWorker(s, cfg);
    worker.start();
    const t0 = Date.now();
    while (delivered.length === 0 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 50));
    assert.equal(delivered.length, 1, 'the mail went out');
    // Past the lease (10 s) and a few polls more: an unmarked row would have gone out again by now.
    await new Promise((r) => setTimeout(r, 14_000));
    const rows = await mailDb(s).selectFrom('mail_outbox').select(['status', 'attempts']).where('request_id', '=', id).execute();
    assert.equal(delivered.length, 1, `delivered ${delivered.length} times`);
    assert.deepEqual(
      rows.map((r) => r.status),
      ['sent'],
    );
  });
});

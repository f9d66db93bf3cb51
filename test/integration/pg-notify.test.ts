// PostgreSQL LISTEN/NOTIFY wakes the event bus at once, and a dropped notification connection
// (pg_terminate_backend) recovers and misses nothing.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PG_SKIP } from '../helpers/db.js';
import { seedOrg, testServices, type TestEnv } from '../helpers/services.js';
import { loadConfig } from '../../src/config/env.js';
import { makeLogger } from '../../src/log.js';
import { openServices, type Services } from '../../src/services.js';
import { startPgListener, type PgListener } from '../../src/storage/pg-notify.js';
import type { GatehouseEvent } from '../../src/core/types.js';
import { requestOf } from '../../src/core/events.js';

describe('PostgreSQL notifications', { skip: PG_SKIP }, () => {
  let t: TestEnv;
  let other: Services;
  let listener: PgListener;
  before(async () => {
    t = await testServices('postgres', { real: true });
    await seedOrg(t.s);
    // This "node" polls only every 5 s: anything faster than that came through NOTIFY.
    const slow = loadConfig({ ...t.env, GATEHOUSE_EVENT_POLL_MS: '5000' });
    other = await openServices(slow, makeLogger('silent'));
    await other.bus.start();
    listener = startPgListener(
      t.env.DATABASE_URL,
      () => void other.bus.kick(),
      () => {},
    );
    for (let i = 0; i < 100 && !listener.connected; i++) await new Promise((r) => setTimeout(r, 50));
  });
  after(async () => {
    await listener?.close();
    await other?.close();
    await t?.cleanup();
  });

  const nextEvent = (type: string, id: number) =>
    new Promise<{ e: GatehouseEvent; lag: number }>((resolve) => {
      const off = other.bus.subscribe((e) => {
        if (e.type === type && requestOf(e)?.id === id) {
          off();
          resolve({ e, lag: Date.now() - e.at });
        }
      });
    });

  test('a decision on one node wakes another at once', async () => {
    const r = await t.s.approvals.request({ username: 'alice', device: 'web01', protocol: 'ssh', channel: 'ssh', reason: 'notify test' });
    if (r.outcome === 'allowed') throw new Error('expected a request');
    const seen = nextEvent('approval.approved', r.request.id);
    await t.s.approvals.approve(r.request.id, 'bob', { channel: 'web' });
    const { lag } = await seen;
    assert.ok(lag < 1000, `woken after ${lag} ms with a 5 s poll interval`);
  });

  test('after pg_terminate_backend on the listening connection, it reconnects and misses nothing', async () => {
    const admin = new pg.Client({ connectionString: t.env.DATABASE_URL });
    await admin.connect();
    const killed = await admin.query(
      `select pg_terminate_backend(pid) from pg_stat_activity where query ilike 'LISTEN%' and datname = current_database()`,
    );
    await admin.end();
    assert.ok(killed.rowCount! >= 1, 'the listening backend was terminated');
    // Decide while the listener is down: the catch-up read after reconnect must deliver it.
    const r = await t.s.approvals.request({ username: 'dave', device: 'web01', protocol: 'ssh', channel: 'ssh', reason: 'notify test' });
    if (r.outcome === 'allowed') throw new Error('expected a request');
    const seen = nextEvent('approval.rejected', r.request.id);
    await t.s.approvals.reject(r.request.id, 'bob', { channel: 'web', comment: 'no' });
    const { lag } = await seen;
    assert.ok(lag < 2000, `delivered ${lag} ms after commit despite the dropped connection`);
    for (let i = 0; i < 100 && !listener.connected; i++) await new Promise((res) => setTimeout(res, 50));
    assert.equal(listener.connected, true, 'listening again');
  });
});

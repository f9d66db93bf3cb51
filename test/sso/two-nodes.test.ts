// Two Gatehouse nodes on one PostgreSQL behind one public URL: a login transaction started on one node
// finishes on either, once. 20 parallel callbacks with one code, spread over both nodes, open one
// session at most.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type Server } from '../../bench/lib/api.js';
import { freePort } from '../../bench/lib/net.js';
import { PG_SKIP } from '../helpers/db.js';
import { startSso, visit, type SsoRig } from './helpers.js';

describe('SSO on two nodes (PostgreSQL)', { skip: PG_SKIP }, () => {
  let rig: SsoRig;
  let second: Server;
  before(async () => {
    rig = await startSso('postgres');
    const port = await freePort();
    // Same database, vault key and public URL (one load balancer in front); its own port and data dir.
    const env = rig.srv.env;
    second = await startServer(
      'sqlite',
      { DATABASE_URL: env.DATABASE_URL, GATEHOUSE_PUBLIC_URL: env.GATEHOUSE_PUBLIC_URL, GATEHOUSE_WEB_PORT: String(port) },
      { seed: false },
    );
  });
  after(async () => {
    await second?.stop();
    await rig?.stop();
  });

  test('started on node 1, finished on node 2', async () => {
    const got = await rig.callbackFor('alice', '/sessions');
    const cb = new URL(got.url);
    const r = await visit(second.base + cb.pathname + cb.search, got.cookie);
    assert.equal(r.status, 302, r.text);
    assert.equal(r.location, '/sessions');
    assert.ok(r.cookie);
    assert.equal((await fetch(`${rig.srv.base}/api/v1/session`, { headers: { cookie: r.cookie! } })).status, 200);
  });

  test('20 parallel callbacks with one code over both nodes: one session at most', async () => {
    const got = await rig.callbackFor('alice');
    const cb = new URL(got.url);
    const rs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => visit((i % 2 ? second.base : rig.srv.base) + cb.pathname + cb.search, got.cookie)),
    );
    assert.equal(rs.filter((r) => r.cookie).length, 1, rs.map((r) => r.status).join(','));
  });
});

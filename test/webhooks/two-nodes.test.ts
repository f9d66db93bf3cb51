// Two nodes (two Services on one PostgreSQL database), both building and delivering at once: every event
// reaches every webhook exactly once, with one delivery id each.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/env.js';
import { makeLogger } from '../../src/log.js';
import { openServices, type Services } from '../../src/services.js';
import { PG_SKIP } from '../helpers/db.js';
import { ADMIN, seedOrg, testServices, type TestEnv } from '../helpers/services.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { addWebhook } from '../../src/notify/webhooks.js';
import { WebhookBuilder, WebhookWorker, WEBHOOK_DEFAULTS } from '../../src/notify/webhooks-worker.js';
import { startReceiver, type Receiver } from './receiver.js';

describe('webhooks on two nodes sharing PostgreSQL', { skip: PG_SKIP }, () => {
  let t: TestEnv;
  let b: Services;
  let rcv: Receiver;
  const workers: WebhookWorker[] = [];
  before(async () => {
    t = await testServices('postgres', { real: true });
    b = await openServices(loadConfig({ ...t.env, GATEHOUSE_NODE_ID: 'node-b' }), makeLogger('silent'));
    await seedOrg(t.s, { opsApproval: true });
    rcv = await startReceiver((_r, res) => setTimeout(() => res.writeHead(204).end(), 20));
  });
  after(async () => {
    for (const w of workers) await w.stop();
    await rcv?.close();
    await b?.close();
    await t?.cleanup();
  });

  test('each event once per webhook', async () => {
    await addWebhook(t.s, ADMIN, { name: 'one', url: `${rcv.url}?w=one`, events: 'approval.*', allowHttp: true });
    await addWebhook(b, ADMIN, { name: 'two', url: `${rcv.url}?w=two`, events: 'approval.created', allowHttp: true });
    await new WebhookBuilder(t.s).runOnce();
    for (const s of [t.s, b, t.s, b]) {
      const w = new WebhookWorker(s, { ...WEBHOOK_DEFAULTS, pollMs: 20 });
      w.start();
      workers.push(w);
    }
    const N = 10;
    for (let i = 0; i < N; i++) {
      const s = i % 2 ? b : t.s;
      const r = await s.approvals.request({
        username: i % 4 < 2 ? 'alice' : 'dave',
        device: 'web01',
        protocol: 'ssh',
        reason: `r${i}`,
        channel: 'ssh',
      });
      assert.equal(r.outcome, 'waiting');
      if (r.outcome === 'waiting') await s.approvals.cancel(r.request.id, i % 4 < 2 ? 'alice' : 'dave', 'cli');
    }
    // created + cancelled to `one`, created to `two`
    const expected = N * 3;
    await waitFor('all deliveries', () => rcv.got.length >= expected, 30_000);
    await sleep(1500);
    assert.equal(rcv.got.length, expected, 'nothing twice');
    const keys = rcv.got.map((g) => `${g.path} ${JSON.parse(g.body).id}`);
    assert.equal(new Set(keys).size, expected, 'each event once per webhook');
    assert.equal(new Set(rcv.got.map((g) => g.delivery)).size, expected, 'one delivery id each');
    assert.equal(rcv.got.filter((g) => g.path.endsWith('w=two')).length, N);
    const rows = await waitFor('every answer recorded', async () => {
      const r = await t.s.webhooks.deliveries({ limit: 200 });
      return r.every((d) => d.status === 'delivered') ? r : null;
    });
    assert.equal(rows.length, expected);
    assert.ok(rows.every((d) => d.attempts === 1));
  });
});

// Webhook delivery on SQLite and PostgreSQL with a real receiver on 127.0.0.1: approval and session events
// arrive signed (verified with the recipe printed in docs/webhooks.md), filtered by pattern; a receiver
// answering 500, then not answering, is retried with growing gaps until it says 2xx, with one delivery id;
// a receiver that never says 2xx ends `failed` after the last attempt; secrets never reach the log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DB_TARGETS } from '../helpers/db.js';
import { ADMIN, seedOrg, testServices, type TestEnv } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { addWebhook, removeWebhook, testWebhook } from '../../src/notify/webhooks.js';
import { WebhookWorker, type WebhookOptions, WEBHOOK_DEFAULTS } from '../../src/notify/webhooks-worker.js';
import { documentedVerify, ok, startReceiver, type Receiver } from './receiver.js';

const FAST: WebhookOptions = {
  ...WEBHOOK_DEFAULTS,
  pollMs: 50,
  leaseMs: 5000,
  retryBaseMs: 150,
  retryMaxMs: 1000,
  maxAttempts: 4,
  post: { timeoutMs: 400, maxResponseBytes: 64 * 1024 },
};

for (const db of DB_TARGETS) {
  describe(`webhook delivery on ${db.name}`, { skip: db.skip }, () => {
    let t: TestEnv;
    let rcv: Receiver;
    let worker: WebhookWorker;
    const verify = documentedVerify();
    before(async () => {
      t = await testServices(db.name, { real: true });
      await seedOrg(t.s, { opsApproval: true });
      rcv = await startReceiver();
      worker = new WebhookWorker(t.s, FAST);
      worker.start();
    });
    after(async () => {
      await worker?.stop();
      await rcv?.close();
      await t?.cleanup();
    });

    test('approval events arrive signed, verify with the documented recipe, and follow the filter', async () => {
      const { secret, generated } = await addWebhook(t.s, ADMIN, { name: 'tickets', url: rcv.url, events: 'approval.*', allowHttp: true });
      assert.ok(generated && secret.startsWith('whsec_') && secret.length > 40);
      await worker.kick(); // the cursor starts at the end of the log: history is not replayed
      const r = await t.s.approvals.request({ username: 'alice', device: 'web01', protocol: 'ssh', reason: 'deploy', channel: 'ssh' });
      assert.equal(r.outcome, 'waiting');
      const id = r.outcome === 'waiting' ? r.request.id : 0;
      await t.s.approvals.approve(id, 'bob', { channel: 'web', comment: 'ok' });
      await waitFor('created and approved', () => rcv.got.length >= 2, 15_000);
      const got = [...rcv.got].sort((a, b) => Number(JSON.parse(a.body).id.slice(4)) - Number(JSON.parse(b.body).id.slice(4)));
      assert.deepEqual(
        got.map((g) => g.event),
        ['approval.created', 'approval.approved'],
      );
      for (const g of got) {
        assert.ok(verify(secret, g.signature, g.body), `signature verifies: ${g.signature}`);
        assert.ok(!verify(secret, g.signature, g.body + ' '), 'a changed body does not');
        assert.ok(!verify('whsec_wrong-secret-000000', g.signature, g.body), 'another secret does not');
        assert.match(g.delivery, /^whd_[0-9a-f]{24}$/);
        const e = JSON.parse(g.body);
        assert.deepEqual(Object.keys(e), ['id', 'type', 'created_at', 'data']);
        assert.equal(e.type, g.event);
        assert.match(e.id, /^evt_\d+$/);
        assert.equal(e.data.request.id, id);
        assert.equal(e.data.request.device, 'web01');
        assert.match(e.data.request.requester, /alice/);
        assert.ok(!g.body.includes(secret));
      }
      assert.equal(JSON.parse(got[0].body).data.request.status, 'waiting', 'the request as the event saw it');
      const approved = JSON.parse(got[1].body);
      assert.equal(approved.data.request.status, 'approved');
      assert.equal(approved.data.actor.name, 'bob');
      assert.equal(approved.data.comment, 'ok');
      assert.equal(new Set(got.map((g) => g.delivery)).size, 2);
      // A stale signature is refused by the recipe's tolerance.
      const old = got[0].signature.replace(/t=\d+/, `t=${Math.floor(Date.now() / 1000) - 3600}`);
      assert.ok(!verify(secret, old, got[0].body));
      // The receiver has the POST a moment before the worker records its answer.
      const rows = await waitFor('both recorded delivered', async () => {
        const r = await t.s.webhooks.deliveries({ webhook: 'tickets', limit: 10 });
        return r.length === 2 && r.every((d) => d.status === 'delivered') ? r : null;
      });
      assert.ok(rows.every((d) => d.responseCode === 200 && d.attempts === 1));
      await removeWebhook(t.s, ADMIN, 'tickets');
      rcv.got.length = 0;
    });

    test('session events reach a session.* webhook and not an approval.* one', async () => {
      await addWebhook(t.s, ADMIN, { name: 'sessions', url: rcv.url, events: ['session.*'], allowHttp: true });
      const p = await t.s.policy.current();
      const alice = p.usersByName.get('alice')!;
      const dev = [...p.devicesById.values()].find((d) => d.name === 'web01')!;
      const acct = p.accountsOfDevice.get(dev.id)![0];
      const sid = await t.s.sessions.open(
        {
          userId: alice.id,
          deviceId: dev.id,
          accountId: acct.id,
          protocol: 'ssh',
          approvalId: null,
          clientAddr: '203.0.113.9',
          nodeId: 'n1',
        },
        { close: () => {}, bytes: () => ({ in: 10, out: 20 }) },
        null,
      );
      await t.s.sessions.closed(sid, 'client closed');
      await waitFor('session started and ended', () => rcv.got.length >= 2, 15_000);
      // Deliveries run in parallel lanes: order is by the event id, not by arrival.
      const got = [...rcv.got].sort((a, b) => Number(JSON.parse(a.body).id.slice(4)) - Number(JSON.parse(b.body).id.slice(4)));
      assert.deepEqual(
        got.map((g) => g.event),
        ['session.started', 'session.ended'],
      );
      const started = JSON.parse(got[0].body);
      assert.equal(started.data.session.device, 'web01');
      assert.equal(started.data.session.account, acct.name);
      assert.match(started.data.session.user, /alice/);
      assert.equal(JSON.parse(got[1].body).data.session.reason, 'client closed');
      await removeWebhook(t.s, ADMIN, 'sessions');
      rcv.got.length = 0;
    });

    test('500, then no answer, then 200: retried with growing gaps, one delivery id, delivered', async () => {
      let n = 0;
      rcv.handler = (_r, res) => {
        n++;
        if (n === 1) res.writeHead(500).end('database down');
        else if (n === 2)
          return; // never answers: the 400 ms deadline passes
        else ok(_r, res, undefined as never);
      };
      const { secret } = await addWebhook(t.s, ADMIN, { name: 'flaky', url: rcv.url, allowHttp: true });
      const d = await testWebhook(t.s, 'flaky'); // a test ping is one attempt, final
      assert.equal(d.status, 'failed');
      assert.equal(d.responseCode, 500);
      assert.match(d.lastError ?? '', /HTTP 500: database down/);
      n = 0;
      rcv.got.length = 0;
      await t.s.approvals.request({ username: 'alice', device: 'db01', protocol: 'ssh', reason: 'retry me', channel: 'ssh' });
      const got = await waitFor('three attempts', () => (rcv.got.length >= 3 ? rcv.got : null), 20_000);
      assert.equal(new Set(got.map((g) => g.delivery)).size, 1, 'one delivery id across attempts');
      assert.ok(got.every((g) => verify(secret, g.signature, g.body)));
      const gap1 = got[1].at - got[0].at;
      const gap2 = got[2].at - got[1].at;
      assert.ok(gap1 >= 150, `first retry waits the base backoff: ${gap1} ms`);
      assert.ok(gap2 >= 300, `the second waits longer (timeout + doubled backoff): ${gap2} ms`);
      const row = await waitFor('delivered', async () =>
        (await t.s.webhooks.deliveries({ webhook: 'flaky', limit: 5 })).find(
          (x) => x.eventType === 'approval.created' && x.status === 'delivered',
        ),
      );
      assert.equal(row.attempts, 3);
      assert.equal(row.responseCode, 200);
      await removeWebhook(t.s, ADMIN, 'flaky');
      rcv.handler = ok;
      rcv.got.length = 0;
    });

    test('a receiver that never says 2xx: failed after the last attempt; the secret is nowhere in the log', async () => {
      rcv.handler = (r, res) => res.writeHead(503).end(`nope ${r.signature}`);
      const { secret } = await addWebhook(t.s, ADMIN, {
        name: 'down',
        url: rcv.url + '?token=abc',
        secret: 'a-chosen-secret-0123456789',
        allowHttp: true,
      });
      assert.equal(secret, 'a-chosen-secret-0123456789');
      await t.s.approvals.request({ username: 'dave', device: 'web01', protocol: 'ssh', reason: 'give up', channel: 'ssh' });
      const row = await waitFor(
        'failed',
        async () => (await t.s.webhooks.deliveries({ webhook: 'down', limit: 5 })).find((x) => x.status === 'failed'),
        20_000,
      );
      assert.equal(row.attempts, FAST.maxAttempts);
      assert.equal(row.responseCode, 503);
      assert.equal(rcv.got.filter((g) => g.path.includes('token=abc')).length, FAST.maxAttempts);
      const all = JSON.stringify(await t.s.webhooks.deliveries({ limit: 200 })) + JSON.stringify(await t.s.webhooks.webhooks());
      assert.ok(!all.includes(secret), 'neither the log nor the endpoint list holds the secret');
      await removeWebhook(t.s, ADMIN, 'down');
      rcv.handler = ok;
    });
  });
}

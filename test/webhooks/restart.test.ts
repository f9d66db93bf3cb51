// No loss and no extra delivery across a crash: a worker process is killed (SIGKILL) while its delivery is
// claimed and the receiver holds the POST unanswered; after the lease passes the restarted worker sends
// it again with the same Gatehouse-Delivery id and body, once, and the row ends delivered after 2 attempts.
// (At-least-once: the receiver saw the first POST too, and deduplicates by the delivery id.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DB_TARGETS } from '../helpers/db.js';
import { ADMIN, seedOrg, testServices, type TestEnv } from '../helpers/services.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { addWebhook } from '../../src/notify/webhooks.js';
import { WebhookBuilder, WebhookWorker, WEBHOOK_DEFAULTS } from '../../src/notify/webhooks-worker.js';
import { ok, startReceiver, type Receiver } from './receiver.js';

const CHILD = fileURLToPath(new URL('./child-worker.ts', import.meta.url));
const LEASE_MS = 3000;

for (const db of DB_TARGETS) {
  describe(`webhook delivery across a crash on ${db.name}`, { skip: db.skip }, () => {
    let t: TestEnv;
    let rcv: Receiver;
    let child: ChildProcess | null = null;
    let worker: WebhookWorker | null = null;
    before(async () => {
      t = await testServices(db.name, { real: true });
      await seedOrg(t.s, { opsApproval: true });
      rcv = await startReceiver(() => {}); // holds every POST unanswered
    });
    after(async () => {
      child?.kill('SIGKILL');
      await worker?.stop();
      await rcv?.close();
      await t?.cleanup();
    });

    test('killed mid-delivery: delivered once more after restart, same id', async () => {
      await addWebhook(t.s, ADMIN, { name: 'crash', url: rcv.url, events: 'approval.created', allowHttp: true });
      await new WebhookBuilder(t.s).runOnce(); // the cursor exists before the event
      child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
        env: { ...process.env, ...t.env, GH_LEASE_MS: String(LEASE_MS) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise((r) => child!.once('exit', r));
      await new Promise<void>((resolve, reject) => {
        child!.stdout!.on('data', (d: Buffer) => String(d).includes('started') && resolve());
        child!.once('exit', () => reject(new Error('child exited early')));
      });
      const r = await t.s.approvals.request({ username: 'alice', device: 'web01', protocol: 'ssh', reason: 'crash', channel: 'ssh' });
      assert.equal(r.outcome, 'waiting');
      await waitFor('the child POSTs', () => rcv.got.length === 1, 30_000);
      child.kill('SIGKILL');
      await exited;
      child = null;
      const claimed = (await t.s.webhooks.deliveries({ webhook: 'crash', limit: 5 }))[0];
      assert.equal(claimed.status, 'sending', 'claimed by the dead process');
      assert.equal(claimed.attempts, 1);

      rcv.handler = ok;
      worker = new WebhookWorker(t.s, { ...WEBHOOK_DEFAULTS, pollMs: 50, leaseMs: LEASE_MS });
      worker.start();
      const done = await waitFor(
        'delivered after the lease',
        async () => (await t.s.webhooks.deliveries({ webhook: 'crash', limit: 5 })).find((d) => d.status === 'delivered'),
        30_000,
      );
      assert.equal(done.attempts, 2);
      assert.equal(done.responseCode, 200);
      await sleep(LEASE_MS + 500);
      assert.equal(rcv.got.length, 2, 'sent twice in all: once before the crash, once after');
      assert.equal(rcv.got[0].delivery, rcv.got[1].delivery);
      assert.equal(rcv.got[0].body, rcv.got[1].body);
      assert.equal((await t.s.webhooks.deliveries({ webhook: 'crash', limit: 5 })).length, 1, 'one row for the event');
    });
  });
}

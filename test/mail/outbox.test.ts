// No loss, no duplicates: SMTP down while requests are created, two workers (as two nodes) on the same
// database, then SMTP back: every mail is delivered exactly once. Failures show in the outbox gauges.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { loadConfig } from '../../src/config/env.js';
import { makeLogger } from '../../src/log.js';
import { startNotify, type RunningNotify } from '../../src/notify/index.js';
import { registerMailMetrics } from '../../src/notify/metrics.js';
import { outboxStats } from '../../src/notify/outbox.js';
import { mailDb } from '../helpers/kysely.js';
import { openServices, type Services } from '../../src/services.js';
import { DB_TARGETS, freshPgDatabase } from '../helpers/db.js';
import { ADMIN, seedOrg } from '../helpers/services.js';
import { fastMailEnv, sleep, startGateway, startSink, SUBJECT, waitFor, type Gateway, type Sink } from './helpers.js';

fastMailEnv();

for (const target of DB_TARGETS)
  describe(`outbox on ${target.name}: SMTP outage, two workers`, { skip: target.skip }, () => {
    let sink: Sink;
    let gw: Gateway;
    let s2: Services;
    let n2: RunningNotify;
    let pgdb: Awaited<ReturnType<typeof freshPgDatabase>> | null = null;
    before(async () => {
      sink = await startSink();
      pgdb = target.name === 'postgres' ? await freshPgDatabase() : null;
      gw = await startGateway(sink.port, pgdb ? { DATABASE_URL: pgdb.url } : {});
      await seedOrg(gw.g.services);
      await gw.g.services.admin.addDevice(ADMIN, { name: 'web02', host: '127.0.0.1', protocols: 'ssh,sftp', group: 'linux', port: 22 });
      await gw.g.services.admin.addAccount(ADMIN, 'web02', 'root', { password: 'x-secret-1' });
      // A second "node": its own services and notify on the same database.
      s2 = await openServices(loadConfig({ ...gw.env, GATEHOUSE_SMTP_IN_PORT: '' }), makeLogger('silent'));
      await s2.bus.start();
      n2 = await startNotify(s2);
    });
    after(async () => {
      await n2?.close();
      await s2?.close();
      await gw?.stop();
      await sink?.close();
      await pgdb?.drop();
    });

    test('mail queued while SMTP is down is delivered exactly once when it is back', async () => {
      const s = gw.g.services;
      await sink.down();
      const ids: number[] = [];
      for (const [u, d, p] of [
        ['alice', 'web01', 'ssh'],
        ['alice', 'web01', 'sftp'],
        ['alice', 'db01', 'ssh'],
        ['dave', 'web01', 'ssh'],
        ['dave', 'web02', 'sftp'],
        ['alice', 'web02', 'ssh'],
        ['dave', 'db01', 'ssh'],
        ['dave', 'web02', 'ssh'],
      ] as const) {
        const r = await s.approvals.request({ username: u, device: d, protocol: p, reason: 'outage test', channel: 'cli' });
        assert.equal(r.outcome, 'waiting');
        if (r.outcome === 'waiting') ids.push(r.request.id);
      }
      // Reject one while SMTP is still down: the requester's mail queues as well.
      await s.approvals.reject(ids[0], 'bob', { comment: 'not today', channel: 'cli' });
      const db = mailDb(s);
      await waitFor('failed attempts recorded', async () => {
        const rows = await db.selectFrom('mail_outbox').selectAll().execute();
        return rows.length === 9 && rows.every((r) => r.status === 'queued' && r.attempts >= 2 && r.last_error);
      });
      const st = await outboxStats(s);
      assert.equal(st.queued + st.sending, 9);
      assert.ok(st.lastError && /ECONNREFUSED/.test(st.lastError), st.lastError ?? '');
      const reg = new Registry();
      registerMailMetrics(reg, s);
      await sleep(1100);
      const text = await reg.metrics();
      assert.match(text, /gatehouse_mail_outbox\{status="queued"\} \d/);
      const age = Number(/^gatehouse_mail_outbox_oldest_unsent_seconds (\S+)$/m.exec(text)?.[1]);
      assert.ok(age >= 1, `oldest unsent age ${age}`);

      await sink.up();
      await waitFor('all mail delivered', () => sink.messages.length >= 9, 15_000);
      await sleep(1500); // any duplicate would arrive in this window
      assert.equal(sink.messages.length, 9, 'exactly once each');
      const msgIds = new Set(sink.messages.map((m) => m.parsed.messageId));
      assert.equal(msgIds.size, 9, 'each mail has its own Message-ID');
      for (const id of ids)
        assert.equal(sink.to('bob@example.com').filter((m) => m.parsed.subject === SUBJECT(id)).length, 1, `one approver mail for #${id}`);
      assert.equal(sink.to('alice@example.com').length, 1, 'one rejection mail');
      const rows = await db.selectFrom('mail_outbox').selectAll().execute();
      assert.ok(
        rows.every((r) => r.status === 'sent' && r.text_body === null),
        'sent, bodies (with link tokens) cleared',
      );
      const workers = new Set(rows.map((r) => r.claimed_by));
      assert.ok(workers.size >= 1);
      assert.equal((await outboxStats(s)).oldestUnsentSeconds, 0);
    });
  });

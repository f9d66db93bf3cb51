// SMTP slow and down, on SQLite and on PostgreSQL: approval requests and decisions answer at once while
// the mail server crawls (every packet held 300 ms each way) or refuses connections; once it is back,
// every mail is delivered exactly once. (Waits follow decisions, not mail: see test/ssh/wait.test.ts for
// the release itself, and imap.test.ts here for SSH waits during a mail outage.)
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DB_TARGETS, freshPgDatabase } from '../helpers/db.js';
import { seedOrg } from '../helpers/services.js';
import { fastMailEnv, startGateway, startSink, waitFor, sleep, type Gateway, type Sink } from '../mail/helpers.js';
import { startRelay, type Relay } from './relay.js';

for (const target of DB_TARGETS) {
  describe(`SMTP slow and down (${target.name})`, { skip: target.skip }, () => {
    let sink: Sink;
    let gw: Gateway;
    let relay: Relay;
    let drop: (() => Promise<void>) | undefined;

    before(async () => {
      sink = await startSink();
      relay = await startRelay(sink.port);
      fastMailEnv();
      const db = target.name === 'postgres' ? await freshPgDatabase() : null;
      drop = db?.drop;
      gw = await startGateway(relay.port, db ? { DATABASE_URL: db.url } : {});
      await seedOrg(gw.g.services);
    });

    after(async () => {
      await gw?.stop();
      await relay?.close();
      await sink?.close();
      await drop?.().catch(() => {});
    });

    test('requests and decisions answer at once; every mail delivered once afterwards', async () => {
      const s = gw.g.services;
      const asks = [
        { username: 'alice', device: 'web01', protocol: 'ssh' as const },
        { username: 'alice', device: 'web01', protocol: 'sftp' as const },
        { username: 'alice', device: 'db01', protocol: 'ssh' as const },
        { username: 'dave', device: 'web01', protocol: 'ssh' as const },
        { username: 'dave', device: 'web01', protocol: 'sftp' as const },
        { username: 'dave', device: 'db01', protocol: 'ssh' as const },
      ];
      const ids: number[] = [];
      const times: number[] = [];
      const step = async (i: number) => {
        const t0 = Date.now();
        const r = await s.approvals.request({ ...asks[i], channel: 'api', reason: `mail fault ${i}` });
        if (r.outcome === 'allowed') throw new Error('expected a request');
        ids.push(r.request.id);
        await s.approvals.approve(r.request.id, 'bob', { channel: 'cli', comment: 'ok' });
        times.push(Date.now() - t0);
      };
      relay.delayMs = 300; // slow
      for (let i = 0; i < 3; i++) await step(i);
      await sink.down(); // down: the SMTP server itself is stopped
      for (let i = 3; i < 6; i++) await step(i);
      await sleep(1000);
      console.log(`# ${target.name}: request + decision with SMTP slow/down: max ${Math.max(...times)} ms (${times.join(', ')})`);
      assert.ok(Math.max(...times) < 2000, `a request and its decision took ${Math.max(...times)} ms`);

      await sink.up();
      const t1 = Date.now();
      const about = (who: string, id: number) => sink.messages.filter((m) => m.rcpt.includes(who) && new RegExp(`#${id}$`).test(m.parsed.subject ?? '')).length;
      const approverOf = (_i: number) => 'bob@example.com';
      const requesterOf = (i: number) => `${asks[i].username}@example.com`;
      // The outcome mail always goes; an approver mail only when the request was still waiting when it was
      // built (these are decided at once), and then once.
      await waitFor('every outcome mail', () => ids.every((id, i) => about(requesterOf(i), id) >= 1), 120_000, 200).catch((err) => {
        throw new Error(`${err.message}: ${ids.map((id, i) => `#${id} ${about(requesterOf(i), id)}`).join(', ')}; ${sink.messages.length} messages`);
      });
      console.log(`# ${target.name}: all mail delivered ${Date.now() - t1} ms after the SMTP server came back (through a 300 ms-per-packet link)`);
      relay.delayMs = 0;
      await sleep(1500);
      ids.forEach((id, i) => {
        assert.ok(about(approverOf(i), id) <= 1, `approver mails about #${id}`);
        assert.equal(about(requesterOf(i), id), 1, `outcome mails about #${id}`);
      });
    });
  });
}

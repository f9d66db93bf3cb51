// kill -9 during a wait, on SQLite and PostgreSQL: a real `gatehouse serve` process, 50 OpenSSH clients
// waiting for approval (one request each), SIGKILL, restart on the same data directory and database.
// Every request is still waiting (or expired when its deadline passed while the server was down), the
// reconnecting clients reuse their requests, approving lets them through, and the approver mail queued
// before the crash is delivered exactly once.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DB_TARGETS } from '../helpers/db.js';
import { testServices, type TestEnv } from '../helpers/services.js';
import { SSHD_SKIP, makeKey, startSshd, type KeyPair, type Sshd } from '../ssh/peers.js';
import { startSink, waitFor, sleep, type Sink } from '../mail/helpers.js';
import { pool, sshExec, seedSshOrg, startServer, stopServer, type Server } from './server.js';
import { dbOf } from '../helpers/kysely.js';

const N = 50;
const EXPIRING = 5;
const dev = (i: number) => `web${String(i).padStart(2, '0')}`;

for (const db of DB_TARGETS) {
  describe(`kill -9 while ${N} SSH clients wait (${db.name})`, { skip: db.skip || SSHD_SKIP }, () => {
    let t: TestEnv;
    let sshd: Sshd;
    let sink: Sink;
    let alice: KeyPair;
    let keyDir: string;
    let server: Server | undefined;
    let env: Record<string, string>;

    before(async () => {
      sshd = await startSshd();
      sink = await startSink();
      keyDir = mkdtempSync(join(tmpdir(), 'gh-rel-keys-'));
      alice = makeKey(keyDir, 'alice');
      t = await testServices(db.name, { real: true });
      const s = t.s;
      await seedSshOrg(s, { alicePublic: alice.public, sshd, devices: Array.from({ length: N }, (_, i) => dev(i)) });
      env = {
        GATEHOUSE_SECRET_KEY: t.env.GATEHOUSE_SECRET_KEY,
        GATEHOUSE_EVENT_POLL_MS: '100',
        GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
        GATEHOUSE_MAIL_FROM: 'gatehouse@example.com',
        ...(t.env.DATABASE_URL ? { DATABASE_URL: t.env.DATABASE_URL } : {}),
      };
    });

    after(async () => {
      await stopServer(server);
      await sink?.close();
      await sshd?.stop();
      if (keyDir) rmSync(keyDir, { recursive: true, force: true });
      await t?.cleanup();
    });

    test('requests survive SIGKILL; reconnects reuse them; approval lets them through; mail exactly once', async () => {
      const s = t.s;
      // Approver mail stays queued in the outbox: the SMTP server is down through the crash.
      await sink.down();
      server = await startServer({ dir: t.dir, env });
      const { web, ssh } = server;

      const t0 = Date.now();
      const first = Array.from({ length: N }, (_, i) => sshExec(ssh, alice, `alice@${dev(i)}`, `echo released-${dev(i)}`));
      const ids = await Promise.all(first.map(async (c) => Number(/#(\d+)/.exec(await c.waitFor(/#\d+/, 90_000))![1])));
      console.log(`# ${N} clients waiting after ${Date.now() - t0} ms`);
      assert.equal(new Set(ids).size, N, 'one request per client');

      // The approver mail is queued (the SMTP server is down, so it stays queued) before the crash.
      const queued = await waitFor(
        'approver mail queued',
        async () => {
          const rows = await dbOf(s).selectFrom('mail_outbox').select('request_id').where('to_addr', '=', 'bob@example.com').execute();
          return new Set(rows.map((r) => r.request_id)).size === N && rows.length;
        },
        60_000,
        100,
      );
      console.log(`# ${queued} approver mails queued after ${Date.now() - t0} ms`);

      await stopServer(server, 'SIGKILL');
      const ended = await Promise.all(first.map((c) => c.done));
      assert.ok(
        ended.every((r) => r.code !== 0),
        'every client lost its connection',
      );

      // A few deadlines fall while the server is down.
      const expiring = ids.slice(0, EXPIRING);
      const deadline = Date.now() + 300;
      await dbOf(s).updateTable('approval_requests').set({ expires_at: deadline }).where('id', 'in', expiring).execute();
      while (Date.now() < deadline + 300) await sleep(100);

      const raw = await dbOf(s).selectFrom('approval_requests').select(['id', 'status']).where('id', 'in', ids).execute();
      assert.ok(
        raw.every((r) => r.status === 'waiting'),
        `after the crash: ${JSON.stringify(raw.filter((r) => r.status !== 'waiting'))}`,
      );

      const t1 = Date.now();
      server = await startServer({ dir: t.dir, env, web, ssh });
      console.log(`# restarted in ${Date.now() - t1} ms`);
      await waitFor(
        'the past-deadline requests expired by the sweeper',
        async () => {
          const rows = await dbOf(s).selectFrom('approval_requests').select(['id', 'status']).where('id', 'in', expiring).execute();
          return rows.every((r) => r.status === 'expired');
        },
        30_000,
        200,
      );
      const alive = ids.slice(EXPIRING);
      const after = await dbOf(s).selectFrom('approval_requests').select(['id', 'status']).where('id', 'in', alive).execute();
      assert.deepEqual([...new Set(after.map((r) => r.status))], ['waiting']);

      // Reconnect: the same request, said to be already waiting; no new request is created.
      const again = alive.map((id) => {
        const i = ids.indexOf(id);
        return { id, i, c: sshExec(ssh, alice, `alice@${dev(i)}`, `echo released-${dev(i)}`) };
      });
      await Promise.all(
        again.map(async ({ id, c }) => {
          const out = await c.waitFor(/#\d+/, 90_000);
          assert.equal(Number(/#(\d+)/.exec(out)![1]), id);
          assert.match(out, /already waiting/);
        }),
      );
      const count = await dbOf(s)
        .selectFrom('approval_requests')
        .select((e) => e.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      assert.equal(Number(count.n), N, 'no request created by the reconnects');

      const t2 = Date.now();
      await pool(alive, 8, (id) => s.approvals.approve(id, 'bob', { channel: 'cli' }));
      const runs = await Promise.all(again.map(({ c }) => c.done));
      console.log(`# ${alive.length} reconnects approved and through after ${Date.now() - t2} ms`);
      again.forEach(({ i }, k) => {
        assert.equal(runs[k].code, 0, runs[k].stderr);
        assert.match(runs[k].stdout, new RegExp(`released-${dev(i)}`));
      });

      // Mail: every approver mail queued before the crash is delivered once, and each outcome once.
      await sink.up();
      const about = (who: string, id: number) =>
        sink.messages.filter((m) => m.rcpt.includes(who) && new RegExp(`#${id}$`).test(m.parsed.subject ?? '')).length;
      await waitFor(
        'approver and outcome mail delivered',
        () => ids.every((id) => about('bob@example.com', id) >= 1) && alive.every((id) => about('alice@example.com', id) >= 1),
        90_000,
        200,
      ).catch(async (err: unknown) => {
        const rows = await dbOf(s)
          .selectFrom('mail_outbox')
          .select(['id', 'request_id', 'to_addr', 'status', 'attempts', 'next_attempt_at', 'lease_until', 'claimed_by', 'last_error'])
          .where('status', '!=', 'sent')
          .execute();
        const missing = ids.filter((id) => about('bob@example.com', id) < 1);
        console.log(`# missing approver mail for ${missing.join(',')}; now ${Date.now()}; unsent: ${JSON.stringify(rows)}`);
        throw err;
      });
      await sleep(2000);
      for (const id of ids) assert.equal(about('bob@example.com', id), 1, `bob got ${about('bob@example.com', id)} mails about #${id}`);
      for (const id of ids)
        assert.ok(about('alice@example.com', id) <= 1, `alice got ${about('alice@example.com', id)} mails about #${id}`);
      for (const id of alive) assert.equal(about('alice@example.com', id), 1);
      console.log(`# mail after the crash: ${sink.messages.length} delivered, none twice`);
    });
  });
}

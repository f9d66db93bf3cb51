// SMTP slow and down, on SQLite and PostgreSQL: a real `gatehouse serve` process sends its mail through a
// TCP relay that holds every packet 300 ms each way (a slow mail server), then to an SMTP server that is
// stopped (connection refused). Meanwhile real OpenSSH clients wait for approval: each request reaches the
// client and each decision (made over the CLI path) releases it as fast as with mail working. Once the
// SMTP server is back, every mail is delivered, exactly once.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DB_TARGETS } from '../helpers/db.js';
import { testServices, type TestEnv } from '../helpers/services.js';
import { SSHD_SKIP, makeKey, startSshd, type KeyPair, type Running, type Sshd } from '../ssh/peers.js';
import { startSink, waitFor, sleep, type Sink } from '../mail/helpers.js';
import { outboxStats } from '../../src/notify/outbox.js';
import { startRelay, type Relay } from './relay.js';
import { sshExec, startServer, stopServer, type Server } from './server.js';

const ADMIN = { username: 'admin', id: null, channel: 'cli' as const };
const N = 8;
const dev = (i: number) => `web${String(i + 1).padStart(2, '0')}`;

for (const db of DB_TARGETS) {
  describe(`SMTP slow and down (${db.name})`, { skip: db.skip || SSHD_SKIP }, () => {
    let t: TestEnv;
    let sshd: Sshd;
    let sink: Sink;
    let relay: Relay;
    let keys: Record<string, KeyPair>;
    let keyDir: string;
    let server: Server | undefined;
    const clients: Running[] = [];

    before(async () => {
      sshd = await startSshd();
      sink = await startSink();
      relay = await startRelay(sink.port);
      keyDir = mkdtempSync(join(tmpdir(), 'gh-rel-smtp-'));
      keys = { alice: makeKey(keyDir, 'alice'), dave: makeKey(keyDir, 'dave') };
      t = await testServices(db.name, { real: true });
      const s = t.s;
      await s.admin.addUser(ADMIN, { username: 'bob', email: 'bob@example.com', password: 'bob-S3cret-pass' });
      await s.admin.addGroup(ADMIN, 'user', 'ops', { managers: ['bob'], requireApproval: true });
      for (const u of ['alice', 'dave']) {
        await s.admin.addUser(ADMIN, {
          username: u,
          email: `${u}@example.com`,
          password: `${u}-S3cret-pass`,
          manager: 'bob',
          sshKeys: [keys[u].public],
        });
        await s.admin.addMember(ADMIN, 'ops', u);
      }
      await s.admin.addGroup(ADMIN, 'device', 'linux', {});
      for (let i = 0; i < N; i++) {
        await s.admin.addDevice(ADMIN, { name: dev(i), host: '127.0.0.1', protocols: 'ssh', group: 'linux', port: sshd.port });
        await s.admin.addAccount(ADMIN, dev(i), sshd.account, { privateKey: sshd.accountKey.private });
      }
      await s.admin.grantAccess(ADMIN, 'ops', 'linux', 'ssh');
      server = await startServer({
        dir: t.dir,
        env: {
          GATEHOUSE_SECRET_KEY: t.env.GATEHOUSE_SECRET_KEY,
          GATEHOUSE_EVENT_POLL_MS: '100',
          GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${relay.port}`,
          GATEHOUSE_MAIL_FROM: 'gatehouse@gh.test',
          ...(t.env.DATABASE_URL ? { DATABASE_URL: t.env.DATABASE_URL } : {}),
        },
      });
    });

    after(async () => {
      for (const c of clients) c.killAll();
      await stopServer(server);
      await relay?.close();
      await sink?.close();
      await sshd?.stop();
      if (keyDir) rmSync(keyDir, { recursive: true, force: true });
      await t?.cleanup();
    });

    test('SSH waits and decisions are unaffected; every mail delivered once afterwards', async () => {
      const who = (i: number) => (i % 2 ? 'dave' : 'alice');
      const ids: number[] = [];
      const shown: number[] = [];
      const released: number[] = [];
      const step = async (i: number) => {
        const t0 = Date.now();
        const c = sshExec(server!.ssh, keys[who(i)], `${who(i)}@${dev(i)}`, `echo through-${dev(i)}`);
        clients.push(c);
        const id = Number(/#(\d+)/.exec(await c.waitFor(/#\d+/, 60_000))![1]);
        shown.push(Date.now() - t0);
        ids.push(id);
        const t1 = Date.now();
        await t.s.approvals.approve(id, 'bob', { channel: 'cli', comment: 'ok' });
        await c.waitFor(new RegExp(`through-${dev(i)}`), 30_000);
        released.push(Date.now() - t1);
        const run = await c.done;
        assert.equal(run.code, 0, run.stderr);
      };
      for (let i = 0; i < 2; i++) await step(i); // baseline: mail working
      relay.delayMs = 300; // slow
      for (let i = 2; i < 5; i++) await step(i);
      await sink.down(); // down: the SMTP server itself is stopped
      for (let i = 5; i < N; i++) await step(i);
      const fmt = (xs: number[]) => `max ${Math.max(...xs)} ms (${xs.join(', ')})`;
      for (const [phase, a, b] of [
        ['SMTP working', 0, 2],
        ['SMTP slow', 2, 5],
        ['SMTP down', 5, N],
      ] as const)
        console.log(
          `# ${db.name}, ${phase}: request shown to the SSH client ${fmt(shown.slice(a, b))}; decision to command output ${fmt(released.slice(a, b))}`,
        );
      assert.ok(Math.max(...shown, ...released) < 10_000, 'requests and decisions do not wait for mail');
      const o = await outboxStats(t.s);
      console.log(
        `# ${db.name}: while the SMTP server is down ${o.queued + o.sending} mails wait in the outbox (oldest ${o.oldestUnsentSeconds.toFixed(1)} s), ${o.sent} sent`,
      );

      relay.delayMs = 100; // back, still a slow link (100 ms per packet each way)
      await sink.up();
      const t1 = Date.now();
      const about = (addr: string, id: number) =>
        sink.messages.filter((m) => m.rcpt.includes(addr) && new RegExp(`#${id}$`).test(m.parsed.subject ?? '')).length;
      const requester = (i: number) => `${who(i)}@example.com`;
      // The outcome mail always goes; an approver mail only when the request was still waiting when it was
      // built, and then once.
      await waitFor('every outcome mail', () => ids.every((id, i) => about(requester(i), id) >= 1), 120_000, 200).catch((err) => {
        throw new Error(
          `${err.message}: ${ids.map((id, i) => `#${id} ${about(requester(i), id)}`).join(', ')}; ${sink.messages.length} messages`,
        );
      });
      console.log(
        `# ${db.name}: all mail delivered ${Date.now() - t1} ms after the SMTP server came back (through a 100 ms-per-packet link)`,
      );
      relay.delayMs = 0;
      await sleep(1500);
      ids.forEach((id, i) => {
        assert.ok(about('bob@example.com', id) <= 1, `approver mails about #${id}`);
        assert.equal(about(requester(i), id), 1, `outcome mails about #${id}`);
      });
      assert.equal(server!.proc.exitCode, null, 'the server is alive');
      assert.doesNotMatch(server!.log.join(''), /unhandled|uncaught|fatal/i);
    });
  });
}

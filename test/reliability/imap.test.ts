// IMAP down and slow, on SQLite and PostgreSQL: a real `gatehouse serve` process polls a real Dovecot
// mailbox for approval replies through a TCP relay that can refuse connections (IMAP down) or hold every
// packet (IMAP slow). Meanwhile SSH clients that wait for approval are decided over the CLI path and go
// through as usual; a reply that lands in the mailbox while IMAP is unreachable is processed once IMAP is
// back — exactly once, never replayed — and the server neither crashes nor leaks the IMAP password.
// Dovecot itself stopped (SIGTERM) and started again, with a reply delivered to its Maildir meanwhile: the same.
// IMAP hung (connections accepted, then silence, forever): the poller gives up on the dead connection after
// GATEHOUSE_IMAP_TIMEOUT_MS of silence and reconnects, and the server still stops promptly while it hangs.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { DB_TARGETS } from '../helpers/db.js';
import { missing } from '../helpers/peers.js';
import { testServices, type TestEnv } from '../helpers/services.js';
import { SSHD_SKIP, makeKey, startSshd, type KeyPair, type Running, type Sshd } from '../ssh/peers.js';
import { DOVECOT, startDovecot, type Dovecot } from '../mail/dovecot.js';
import { rawMail, replyTo, sleep, startSink, SUBJECT, waitFor, type Sink } from '../mail/helpers.js';
import { PROCESSED_KEYWORD } from '../../src/notify/imap.js';
import { dovecotCtl, type DovecotCtl } from './dovecot-ctl.js';
import { startRelay, type Relay } from './relay.js';
import { sshExec, seedSshOrg, startServer, stopServer, type Server } from './server.js';
import { dbOf } from '../helpers/kysely.js';

const DOVECOT_SKIP = missing('dovecot', DOVECOT, 'apt-get install dovecot-imapd; runs as root');
const DEVICES = ['web01', 'web02', 'web03', 'web04', 'web05', 'web06', 'web07', 'web08'];
const SLOW_MS = 300;

for (const db of DB_TARGETS) {
  describe(`IMAP down and slow (${db.name})`, { skip: db.skip || SSHD_SKIP || DOVECOT_SKIP }, () => {
    let t: TestEnv;
    let sshd: Sshd;
    let sink: Sink;
    let dc: Dovecot;
    let relay: Relay;
    let ctl: DovecotCtl;
    let mailbox: ImapFlow;
    let alice: KeyPair;
    let keyDir: string;
    let server: Server | undefined;
    const clients: Running[] = [];
    const replied: number[] = [];

    before(async () => {
      sshd = await startSshd();
      sink = await startSink();
      dc = await startDovecot();
      relay = await startRelay(dc.port);
      keyDir = mkdtempSync(join(tmpdir(), 'gh-rel-imap-'));
      alice = makeKey(keyDir, 'alice');
      t = await testServices(db.name, { real: true });
      const s = t.s;
      await seedSshOrg(s, { alicePublic: alice.public, sshd, devices: [...DEVICES] });
      ctl = dovecotCtl(dc.port);
      await openMailbox();
      server = await startServer({
        dir: t.dir,
        env: {
          GATEHOUSE_SECRET_KEY: t.env.GATEHOUSE_SECRET_KEY,
          GATEHOUSE_EVENT_POLL_MS: '100',
          GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
          GATEHOUSE_MAIL_FROM: 'gatehouse@gh.test',
          GATEHOUSE_MAIL_REPLY_TO: 'approvals@gh.test',
          GATEHOUSE_IMAP_URL: `imap://${dc.user}:${dc.pass}@127.0.0.1:${relay.port}/INBOX`,
          GATEHOUSE_IMAP_POLL_MS: '200',
          GATEHOUSE_IMAP_TIMEOUT_MS: '3000',
          ...(t.env.DATABASE_URL ? { DATABASE_URL: t.env.DATABASE_URL } : {}),
        },
      });
    });

    /** The test's own IMAP client, straight to Dovecot (reopened after Dovecot restarts). */
    const openMailbox = async () => {
      await mailbox?.logout().catch(() => {});
      mailbox = new ImapFlow({ host: '127.0.0.1', port: dc.port, secure: false, auth: { user: dc.user, pass: dc.pass }, logger: false });
      mailbox.on('error', () => {});
      await mailbox.connect();
    };

    after(async () => {
      for (const c of clients) c.killAll();
      await stopServer(server);
      await mailbox?.logout().catch(() => {});
      await relay?.close();
      await ctl?.cleanup();
      await dc?.stop();
      await sink?.close();
      await sshd?.stop();
      if (keyDir) rmSync(keyDir, { recursive: true, force: true });
      await t?.cleanup();
    });

    const status = async (id: number) => (await t.s.approvals.get(id))!.status;
    /** Each check starts from a healthy link, even when the one before failed half-way. */
    const healthy = async () => {
      await relay.up();
      relay.heal();
      relay.delayMs = 0;
    };
    const decisions = async (id: number) => t.s.store.decisions(id);

    /** An SSH client that waits for approval on `device`: the request's id and how long it took to show. */
    const waiting = async (device: string) => {
      const t0 = Date.now();
      const c = sshExec(server!.ssh, alice, `alice@${device}`, `echo through-${device}`);
      clients.push(c);
      const id = Number(/#(\d+)/.exec(await c.waitFor(/#\d+/, 60_000))![1]);
      return { c, id, ms: Date.now() - t0 };
    };

    /** Approve on the CLI path; the waiting client goes through. Returns ms from the decision to the output. */
    const approveAndRun = async (w: { c: Running; id: number }, device: string) => {
      const t0 = Date.now();
      await t.s.approvals.approve(w.id, 'bob', { channel: 'cli', comment: 'ok' });
      await w.c.waitFor(new RegExp(`through-${device}`), 30_000);
      const ms = Date.now() - t0;
      const run = await w.c.done;
      assert.equal(run.code, 0, run.stderr);
      return ms;
    };

    /** Bob's APPROVE reply to the approver mail about `id`, put straight into the Dovecot mailbox. */
    const replyInMailbox = async (id: number) => {
      const mail = await waitFor(
        `the approver mail about #${id}`,
        () => sink.to('bob@example.com').find((m) => m.parsed.subject === SUBJECT(id)),
        30_000,
        50,
      );
      if (!mailbox.usable) await openMailbox();
      await mailbox.append(
        'INBOX',
        await rawMail(replyTo(mail, 'Bob <bob@example.com>', `APPROVE by mail ${id}`, { messageId: `<rel-imap-${id}@client.test>` })),
      );
      replied.push(id);
    };

    test('IMAP down: waits are decided and go through; a reply that arrived meanwhile is processed once IMAP is back', async () => {
      await relay.down(); // connection refused, and the poller's open connection is cut
      await sleep(1000);
      const w1 = await waiting('web01');
      const ms1 = await approveAndRun(w1, 'web01');
      console.log(`# ${db.name}, IMAP down: request shown to the SSH client after ${w1.ms} ms; decision to command output ${ms1} ms`);

      const w2 = await waiting('web02');
      await replyInMailbox(w2.id);
      await sleep(3000); // several poll attempts against a refused port
      assert.equal(await status(w2.id), 'waiting', 'nothing can read the reply while IMAP is down');
      assert.equal(server!.proc.exitCode, null, 'the server is alive');

      await relay.up();
      const t0 = Date.now();
      await waitFor('the reply approves once IMAP is back', async () => (await status(w2.id)) === 'approved', 60_000, 100);
      const back = Date.now() - t0;
      await w2.c.waitFor(/through-web02/, 30_000);
      const through = Date.now() - t0;
      assert.equal((await w2.c.done).code, 0);
      console.log(
        `# ${db.name}, IMAP back: reply approved ${back} ms after IMAP returned; the waiting SSH client ran its command at ${through} ms`,
      );
      const d = await decisions(w2.id);
      assert.equal(d.length, 1);
      assert.equal(d[0].channel, 'email-reply');
    });

    test('Dovecot stopped: waits are decided and go through; a reply delivered meanwhile is processed once Dovecot runs again', async () => {
      await healthy();
      await sleep(500); // the poller is connected again
      await mailbox.logout().catch(() => {});
      await ctl.stop(); // SIGTERM: open connections get BYE, new ones are refused
      await sleep(1000);
      const w7 = await waiting('web07');
      const ms7 = await approveAndRun(w7, 'web07');
      console.log(`# ${db.name}, Dovecot stopped: request shown to the SSH client after ${w7.ms} ms; decision to command output ${ms7} ms`);
      const w8 = await waiting('web08');
      const mail = await waitFor(
        `the approver mail about #${w8.id}`,
        () => sink.to('bob@example.com').find((m) => m.parsed.subject === SUBJECT(w8.id)),
        30_000,
        50,
      );
      // The MTA still delivers to the Maildir while the IMAP server is stopped.
      ctl.deliver(
        dc.user,
        await rawMail(replyTo(mail, 'Bob <bob@example.com>', `APPROVE by mail ${w8.id}`, { messageId: `<rel-imap-${w8.id}@client.test>` })),
      );
      replied.push(w8.id);
      await sleep(3000);
      assert.equal(await status(w8.id), 'waiting', 'nothing can read the reply while Dovecot is stopped');
      assert.equal(server!.proc.exitCode, null, 'the server is alive');
      await ctl.start();
      const t0 = Date.now();
      await waitFor('the reply approves once Dovecot runs again', async () => (await status(w8.id)) === 'approved', 60_000, 100);
      const ms = Date.now() - t0;
      await w8.c.waitFor(/through-web08/, 30_000);
      assert.equal((await w8.c.done).code, 0);
      console.log(`# ${db.name}, Dovecot started again: reply approved ${ms} ms later`);
      const d = await decisions(w8.id);
      assert.equal(d.length, 1);
      assert.equal(d[0].channel, 'email-reply');
      await openMailbox();
    });

    test('IMAP slow: waits are decided and go through; a reply is processed through the slow link', async () => {
      await healthy();
      relay.delayMs = SLOW_MS;
      const w3 = await waiting('web03');
      const ms3 = await approveAndRun(w3, 'web03');
      console.log(
        `# ${db.name}, IMAP slow (${SLOW_MS} ms per packet each way): request shown after ${w3.ms} ms; decision to command output ${ms3} ms`,
      );

      const w4 = await waiting('web04');
      await replyInMailbox(w4.id);
      const t0 = Date.now();
      await waitFor('the reply approves through the slow link', async () => (await status(w4.id)) === 'approved', 90_000, 100);
      const ms = Date.now() - t0;
      await w4.c.waitFor(/through-web04/, 30_000);
      assert.equal((await w4.c.done).code, 0);
      console.log(`# ${db.name}, IMAP slow: reply in the mailbox to approval ${ms} ms`);
      const d = await decisions(w4.id);
      assert.equal(d.length, 1);
      assert.equal(d[0].channel, 'email-reply');
    });

    test('IMAP hung: waits are decided and go through; the poller drops the dead connection and reads the reply once IMAP answers', async () => {
      await healthy();
      relay.stall(); // the open connection and every new one: accepted, then silence
      const w5 = await waiting('web05');
      const ms5 = await approveAndRun(w5, 'web05');
      console.log(`# ${db.name}, IMAP hung: request shown after ${w5.ms} ms; decision to command output ${ms5} ms`);
      const w6 = await waiting('web06');
      await replyInMailbox(w6.id);
      const tReply = Date.now();
      await sleep(2000);
      assert.equal(await status(w6.id), 'waiting', 'nothing can read the reply while IMAP hangs');
      relay.heal(); // new connections work again; the hung ones stay silent
      const t0 = Date.now();
      await waitFor('the reply approves once IMAP answers again', async () => (await status(w6.id)) === 'approved', 60_000, 100);
      const ms = Date.now() - t0;
      await w6.c.waitFor(/through-web06/, 30_000);
      assert.equal((await w6.c.done).code, 0);
      console.log(
        `# ${db.name}, IMAP hung 2 s then answering: reply approved ${ms} ms after IMAP answered, ${Date.now() - tReply} ms after it reached the mailbox (GATEHOUSE_IMAP_TIMEOUT_MS 3 s here, 30 s by default)`,
      );
      assert.equal((await decisions(w6.id)).length, 1);
    });

    test('afterwards: every reply decided exactly once, none replayed, flagged; no crash, no secret in the log', async () => {
      await healthy();
      const flagged = async () => {
        if (!mailbox.usable) await openMailbox();
        const lock = await mailbox.getMailboxLock('INBOX');
        try {
          let n = 0;
          for await (const m of mailbox.fetch('1:*', { flags: true })) if (m.flags?.has(PROCESSED_KEYWORD)) n++;
          return n;
        } finally {
          lock.release();
        }
      };
      await waitFor('every reply flagged processed', async () => (await flagged()) === replied.length, 30_000, 200);
      await sleep(1500); // more poll passes: nothing is read twice
      for (const id of replied) assert.equal((await decisions(id)).length, 1, `decisions about #${id}`);
      const audit = async (action: string) =>
        (await dbOf(t.s).selectFrom('audit_log').select('id').where('action', '=', action).execute()).length;
      assert.equal(await audit('mail.reply.refused'), 0, 'no reply refused (a replay would be)');
      assert.equal(server!.proc.exitCode, null, 'the server is alive');
      const log = server!.log.join('');
      assert.doesNotMatch(log, /unhandled|uncaught|fatal/i, log.slice(-2000));
      assert.ok(!log.includes(dc.pass), 'the IMAP password is never logged');
      const warnings = (log.match(/imap poll failed/g) ?? []).length;
      console.log(`# ${db.name}: ${warnings} 'imap poll failed; will retry' warnings logged during the outages`);
    });

    test('the server stops promptly while IMAP hangs', async () => {
      await healthy();
      relay.stall();
      await sleep(1500); // a poll pass is now stuck on a silent connection
      const t0 = Date.now();
      await stopServer(server);
      const ms = Date.now() - t0;
      console.log(`# ${db.name}: SIGTERM to exit with IMAP hung: ${ms} ms, exit code ${server!.proc.exitCode}`);
      assert.equal(server!.proc.exitCode, 0);
      assert.ok(ms < 10_000, `stopping took ${ms} ms`);
    });
  });
}

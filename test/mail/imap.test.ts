// Replies through a real Dovecot mailbox, read by the IMAP poller. Skips when Dovecot is absent
// (apt-get install dovecot-imapd), unless GATEHOUSE_TEST_REQUIRE_PEERS=1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { missing } from '../helpers/peers.js';
import { seedOrg } from '../helpers/services.js';
import { PROCESSED_KEYWORD } from '../../src/notify/imap.js';
import { DOVECOT, startDovecot, type Dovecot } from './dovecot.js';
import { fastMailEnv, rawMail, replyTo, sleep, startGateway, startSink, SUBJECT, waitFor, type Gateway, type Sink } from './helpers.js';
import { dbOf } from '../helpers/kysely.js';

const skip = missing('dovecot', DOVECOT, 'apt-get install dovecot-imapd; runs as root');

describe('email reply over IMAP (Dovecot)', { skip }, () => {
  let sink: Sink;
  let gw: Gateway;
  let dc: Dovecot;
  let imap: ImapFlow;
  before(async () => {
    dc = await startDovecot();
    fastMailEnv({ GATEHOUSE_IMAP_URL: `imap://${dc.user}:${dc.pass}@127.0.0.1:${dc.port}/INBOX`, GATEHOUSE_IMAP_POLL_MS: '200' });
    sink = await startSink();
    gw = await startGateway(sink.port, { GATEHOUSE_MAIL_REPLY_TO: 'approvals@gh.test' });
    await seedOrg(gw.g.services);
    imap = new ImapFlow({ host: '127.0.0.1', port: dc.port, secure: false, auth: { user: dc.user, pass: dc.pass }, logger: false });
    await imap.connect();
  });
  after(async () => {
    await imap?.logout().catch(() => {});
    await gw?.stop();
    await sink?.close();
    await dc?.stop();
  });

  const flagsOf = async () => {
    const lock = await imap.getMailboxLock('INBOX');
    try {
      const out: { uid: number; flags: Set<string> }[] = [];
      for await (const m of imap.fetch('1:*', { flags: true, uid: true })) out.push({ uid: m.uid, flags: m.flags ?? new Set() });
      return out;
    } finally {
      lock.release();
    }
  };

  test('APPROVE looks fine, delivered to the mailbox, approves; a restart or a lost flag processes nothing twice', async () => {
    const s = gw.g.services;
    const res = await s.approvals.request({ username: 'alice', device: 'web01', protocol: 'ssh', reason: 'deploy 42', channel: 'ssh' });
    const id = res.outcome === 'waiting' ? res.request.id : -1;
    const mail = await waitFor('the approver mail', () => sink.to('bob@example.com').find((m) => m.parsed.subject === SUBJECT(id)));
    await imap.append(
      'INBOX',
      await rawMail(replyTo(mail, 'Bob <bob@example.com>', 'APPROVE looks fine', { messageId: `<imap-${id}@client.test>` })),
    );
    await waitFor('approved over IMAP', async () => (await s.approvals.get(id))!.status === 'approved', 15_000);
    const d = await s.store.decisions(id);
    assert.equal(d.length, 1);
    assert.equal(d[0].channel, 'email-reply');
    assert.equal(d[0].comment, 'looks fine');
    await waitFor('flagged processed', async () => (await flagsOf()).every((m) => m.flags.has(PROCESSED_KEYWORD) && m.flags.has('\\Seen')));

    // Restart: the poller starts again on the same mailbox and finds nothing to do.
    await gw.restart();
    await sleep(1000);
    const refused = async () =>
      (await dbOf(gw.g.services).selectFrom('audit_log').selectAll().where('action', '=', 'mail.reply.refused').execute()).length;
    assert.equal(await refused(), 0, 'nothing processed again after a restart');

    // A crash after processing but before flagging: the flag is lost, the Message-ID table still knows it.
    const lock = await imap.getMailboxLock('INBOX');
    try {
      await imap.messageFlagsRemove('1:*', [PROCESSED_KEYWORD, '\\Seen']);
    } finally {
      lock.release();
    }
    await waitFor('flagged again', async () => (await flagsOf()).every((m) => m.flags.has(PROCESSED_KEYWORD)), 10_000);
    assert.equal((await gw.g.services.store.decisions(id)).length, 1, 'decided once');
    assert.equal(await refused(), 1, 'the second reading was refused as a replay');
  });
});

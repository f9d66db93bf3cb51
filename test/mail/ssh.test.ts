// The end to end with a real SSH connection: `ssh alice@web01@gateway` waits, bob's mail arrives
// with the exact subject, and the session starts after (1) the Approve link's confirm form, (2) a reply
// "APPROVE looks fine" over SMTP, (3) the same reply delivered to a Dovecot mailbox read over IMAP.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { SSHD_SKIP, startSshd, type Running, type Sshd } from '../ssh/peers.js';
import { startGateway as startSshGateway, type Gw } from '../ssh/gateway.js';
import { missing } from '../helpers/peers.js';
import { DOVECOT, startDovecot, type Dovecot } from './dovecot.js';
import { fastMailEnv, links, mailKnobs, rawMail, replyTo, sendTo, startSink, SUBJECT, waitFor, type Sink } from './helpers.js';

describe('email end to end with a real SSH connection', { skip: SSHD_SKIP }, () => {
  let sshd: Sshd;
  let sink: Sink;
  let dc: Dovecot | null = null;
  let gw: Gw;
  before(async () => {
    sshd = await startSshd();
    sink = await startSink();
    if (DOVECOT) dc = await startDovecot();
    fastMailEnv(dc ? { GATEHOUSE_IMAP_URL: `imap://${dc.user}:${dc.pass}@127.0.0.1:${dc.port}/INBOX`, GATEHOUSE_IMAP_POLL_MS: '200' } : {});
    gw = await startSshGateway(sshd, {
      approval: true,
      env: {
        ...mailKnobs,
        GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
        GATEHOUSE_MAIL_FROM: 'gatehouse@gh.test',
        GATEHOUSE_SMTP_IN_PORT: '0',
      },
    });
  });
  after(async () => {
    await gw?.stop();
    await sink?.close();
    await dc?.stop();
    await sshd?.stop();
  });
  afterEach(async () => {
    for (const r of await gw.s.store.listRequests({ status: 'approved' }))
      await gw.s.approvals.revoke(r.id, 'admin', { channel: 'cli' }).catch(() => {});
  });

  async function waitingSsh(): Promise<{ p: Running; id: number; mail: Awaited<ReturnType<typeof mailFor>> }> {
    const p = gw.ssh('alice@web01', ['echo started-$((40+2))']);
    const id = Number(/[Rr]equest #(\d+)/.exec(await p.waitFor(/[Rr]equest #\d+/))![1]);
    return { p, id, mail: await mailFor(id) };
  }
  const mailFor = (id: number) =>
    waitFor('the approver mail', () => sink.to('bob@example.com').find((m) => m.parsed.subject === SUBJECT(id)));

  test('Approve link: the confirm form starts the waiting SSH session', async () => {
    const { p, id, mail } = await waitingSsh();
    assert.equal(mail.parsed.subject, `Gatehouse - Connection Approval Notification - #${id}`);
    const url = `http://127.0.0.1:${gw.g.webPort}${new URL(links(mail).approve).pathname}`;
    assert.equal((await fetch(url)).status, 200);
    assert.equal(p.stdout(), '', 'GET started nothing');
    const post = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'comment=ok' });
    assert.equal(post.status, 200);
    await p.waitFor(/started-42/);
    assert.equal((await p.done).code, 0);
  });

  test('reply "APPROVE looks fine" over SMTP starts the waiting SSH session', async () => {
    const { p, mail } = await waitingSsh();
    await sendTo(gw.g.smtpInPort!, replyTo(mail, 'Bob Manager <bob@example.com>', 'APPROVE looks fine'));
    await p.waitFor(/started-42/);
    assert.equal((await p.done).code, 0);
  });

  test(
    'reply "APPROVE looks fine" through an IMAP mailbox starts the waiting SSH session',
    { skip: missing('dovecot', DOVECOT, 'apt-get install dovecot-imapd') },
    async () => {
      const { p, mail } = await waitingSsh();
      const imap = new ImapFlow({
        host: '127.0.0.1',
        port: dc!.port,
        secure: false,
        auth: { user: dc!.user, pass: dc!.pass },
        logger: false,
      });
      await imap.connect();
      try {
        await imap.append('INBOX', await rawMail(replyTo(mail, 'bob@example.com', 'APPROVE looks fine')));
      } finally {
        await imap.logout();
      }
      await p.waitFor(/started-42/, 20_000);
      assert.equal((await p.done).code, 0);
    },
  );
});

// Mail that must not decide anything: forged senders, missing or wrong reply codes, decided or expired
// requests, replays, links used twice; and a reason that tries to inject header lines.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, seedOrg } from '../helpers/services.js';
import { mailDb } from '../helpers/kysely.js';
import {
  fastMailEnv,
  links,
  rawMail,
  replyTo,
  sendTo,
  sleep,
  startGateway,
  startSink,
  SUBJECT,
  waitFor,
  type Gateway,
  type Sink,
} from './helpers.js';
import { dbOf } from '../helpers/kysely.js';

fastMailEnv();

describe('refused mail and links', () => {
  let sink: Sink;
  let gw: Gateway;
  const combos = [
    ['alice', 'web01', 'ssh'],
    ['alice', 'web01', 'sftp'],
    ['alice', 'db01', 'ssh'],
    ['dave', 'web01', 'ssh'],
    ['dave', 'web01', 'sftp'],
    ['dave', 'db01', 'ssh'],
    ['alice', 'web02', 'ssh'],
    ['alice', 'web02', 'sftp'],
    ['dave', 'web02', 'ssh'],
    ['dave', 'web02', 'sftp'],
    ['alice', 'web03', 'ssh'],
    ['dave', 'web03', 'ssh'],
  ] as const;
  let next = 0;
  before(async () => {
    sink = await startSink();
    gw = await startGateway(sink.port);
    await seedOrg(gw.g.services);
    await gw.g.services.admin.addDevice(ADMIN, { name: 'web02', host: '127.0.0.1', protocols: 'ssh,sftp', group: 'linux', port: 22 });
    await gw.g.services.admin.addAccount(ADMIN, 'web02', 'root', { password: 'web02-root-secret' });
    await gw.g.services.admin.addDevice(ADMIN, { name: 'web03', host: '127.0.0.1', protocols: 'ssh', group: 'linux', port: 22 });
    await gw.g.services.admin.addAccount(ADMIN, 'web03', 'root', { password: 'web03-root-secret' });
  });
  after(async () => {
    await gw?.stop();
    await sink?.close();
  });

  async function waiting(reason = 'deploy 42') {
    const [username, device, protocol] = combos[next++];
    const res = await gw.g.services.approvals.request({ username, device, protocol, reason, channel: 'ssh' });
    assert.equal(res.outcome, 'waiting');
    const id = res.outcome === 'waiting' ? res.request.id : -1;
    const mail = await waitFor('the approver mail', () => sink.to('bob@example.com').find((m) => m.parsed.subject === SUBJECT(id)));
    return { id, mail };
  }
  const status = async (id: number) => (await gw.g.services.approvals.get(id))!.status;
  const refusals = async (id: number) =>
    (
      await dbOf(gw.g.services)
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'mail.reply.refused')
        .where('target_id', '=', String(id))
        .execute()
    ).map((r) => JSON.parse(r.details).reason as string);
  const explained = (id: number) => sink.to('bob@example.com').filter((m) => m.parsed.subject === `Re: ${SUBJECT(id)}`);

  test('replies that must not decide: non-approver, wrong code, no code, then a replay of the good one', async () => {
    const { id, mail } = await waiting();
    const port = gw.g.smtpInPort!;

    await sendTo(port, replyTo(mail, 'carol@example.com', 'APPROVE sure'));
    await waitFor('refusal audited', async () => (await refusals(id)).length === 1);
    assert.match((await refusals(id))[0], /not an approver/);
    assert.equal(explained(id).length, 0, 'no reply to someone who is not an approver');

    await sendTo(
      port,
      replyTo(mail, 'bob@example.com', 'APPROVE', {
        replyTo: 'approvals+00000000000000000000000000000000@gh.test',
        references: '<gh.' + id + '.00000000000000000000000000000000.1.1@gh.test>',
      }),
    );
    await waitFor('refusal audited', async () => (await refusals(id)).length === 2);
    assert.match((await refusals(id))[1], /does not match/);

    await sendTo(port, replyTo(mail, 'bob@example.com', 'APPROVE', { replyTo: 'approvals@gh.test', references: null }));
    await waitFor('refusal audited', async () => (await refusals(id)).length === 3);
    assert.match((await refusals(id))[2], /no reply code/);

    // A good reply code in the References but a wrong one in the address: refused too.
    await sendTo(port, replyTo(mail, 'bob@example.com', 'APPROVE', { replyTo: 'approvals+11111111111111111111111111111111@gh.test' }));
    await waitFor('refusal audited', async () => (await refusals(id)).length === 4);

    assert.equal(await status(id), 'waiting');
    const answers = await waitFor('explanatory replies to bob', () => explained(id).length === 3 && explained(id));
    assert.match(answers[0].parsed.text!, /was not accepted/);
    assert.equal(answers[0].parsed.headers.get('auto-submitted'), 'auto-replied');

    const good = replyTo(mail, 'bob@example.com', 'APPROVE fine', { messageId: `<replay-test-${id}@client.test>` });
    await sendTo(port, good);
    await waitFor('approved', async () => (await status(id)) === 'approved');
    const before = (await gw.g.services.store.decisions(id)).length;
    await sendTo(port, good);
    await waitFor('replay refused', async () => (await refusals(id)).some((r) => /replayed/.test(r)));
    assert.equal((await gw.g.services.store.decisions(id)).length, before);
  });

  test('a reply to an already decided request, and to an expired one, is refused', async () => {
    const a = await waiting();
    await gw.g.services.approvals.reject(a.id, 'bob', { comment: 'no', channel: 'cli' });
    await sendTo(gw.g.smtpInPort!, replyTo(a.mail, 'bob@example.com', 'APPROVE changed my mind'));
    await waitFor('refusal', async () => (await refusals(a.id)).some((r) => /is rejected/.test(r)));
    assert.equal(await status(a.id), 'rejected');

    const b = await waiting();
    await dbOf(gw.g.services)
      .updateTable('approval_requests')
      .set({ expires_at: Date.now() - 1000 })
      .where('id', '=', b.id)
      .execute();
    await sendTo(gw.g.smtpInPort!, replyTo(b.mail, 'bob@example.com', 'APPROVE'));
    await waitFor('refusal', async () => (await refusals(b.id)).some((r) => /expired/.test(r)));
    assert.equal(await status(b.id), 'expired');
  });

  test('links: GET changes nothing, a link works once, stale and unknown links get a clear page', async () => {
    const { id, mail } = await waiting();
    const { approve, reject } = links(mail);
    const path = (u: string) => `${gw.web}${new URL(u).pathname}`;
    const form = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'comment=' } as const;
    for (const u of [approve, reject]) assert.equal((await fetch(path(u))).status, 200);
    const used = await mailDb(gw.g.services).selectFrom('mail_link_tokens').select('used_at').where('request_id', '=', id).execute();
    assert.ok(
      used.every((t) => t.used_at === null),
      'GET used no token',
    );
    assert.equal(await status(id), 'waiting');

    assert.equal((await fetch(path(approve), form)).status, 200);
    assert.equal(await status(id), 'approved');
    const again = await fetch(path(approve), form);
    assert.equal(again.status, 410);
    assert.match(await again.text(), /already used/);
    const other = await fetch(path(reject), form);
    assert.equal(other.status, 410);
    assert.match(await other.text(), /approved/);
    const unknown = await fetch(`${gw.web}/email/approval/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`);
    assert.equal(unknown.status, 404);
    assert.match(await unknown.text(), /not valid/);
    assert.equal(await status(id), 'approved');
  });

  test("links with approval.email.link.requires.login ask for the approver's own login", async () => {
    await gw.g.services.admin.setParam({ username: 'admin', id: null, channel: 'cli' }, 'approval.email.link.requires.login', 'true');
    try {
      const { id, mail } = await waiting();
      const url = `${gw.web}${new URL(links(mail).approve).pathname}`;
      assert.match(await (await fetch(url)).text(), /type="password"/);
      const post = (body: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      assert.equal((await post('comment=x')).status, 401);
      assert.equal((await post('username=bob&password=wrong')).status, 401);
      assert.equal(
        (await post('username=carol&password=S3cret-pass')).status,
        401,
        "another user cannot use bob's link, and learns nothing of their password",
      );
      assert.equal(await status(id), 'waiting');
      assert.equal((await post('username=bob&password=S3cret-pass&comment=ok')).status, 200);
      assert.equal(await status(id), 'approved');

      // Signed in to the console: the approver's own session is enough; someone else's is refused.
      const second = await waiting();
      const url2 = `${gw.web}${new URL(links(second.mail).approve).pathname}`;
      const login = async (username: string) => {
        const r = await fetch(`${gw.web}/api/v1/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username, password: 'S3cret-pass' }),
        });
        assert.equal(r.status, 200);
        return r.headers.get('set-cookie')!.split(';')[0];
      };
      const carol = await login('carol');
      assert.equal((await fetch(url2, { headers: { cookie: carol } })).status, 403);
      const bob = await login('bob');
      const page = await (await fetch(url2, { headers: { cookie: bob } })).text();
      assert.match(page, /Signed in to the console as bob/);
      assert.doesNotMatch(page, /type="password"/);
      const ok = await fetch(url2, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: bob },
        body: 'comment=',
      });
      assert.equal(ok.status, 200);
      assert.equal(await status(second.id), 'approved');

      // Guessing the password through a link: five are checked, the next kills the link.
      const third = await waiting();
      const url3 = `${gw.web}${new URL(links(third.mail).approve).pathname}`;
      const post3 = (body: string) =>
        fetch(url3, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      for (let i = 0; i < 5; i++) assert.equal((await post3(`username=bob&password=guess${i}`)).status, 401);
      assert.match(await (await post3('username=bob&password=guess5')).text(), /no longer works/);
      assert.equal((await post3('username=bob&password=S3cret-pass')).status, 410);
      assert.equal(await status(third.id), 'waiting');
    } finally {
      await gw.g.services.admin.setParam({ username: 'admin', id: null, channel: 'cli' }, 'approval.email.link.requires.login', 'false');
    }
  });

  test('header injection: a reason with CRLF + Bcc stays in the body, escaped', async () => {
    const evil = 'deploy\r\nBcc: evil@attacker.test\r\nSubject: hijack <b>bold</b>';
    const { mail } = await waiting(evil);
    await sleep(300);
    assert.equal(sink.to('evil@attacker.test').length, 0, 'nothing went to the injected address');
    assert.deepEqual(mail.rcpt, ['bob@example.com']);
    const head = mail.raw.split(/\r?\n\r?\n/)[0];
    assert.doesNotMatch(head, /evil@attacker\.test/i);
    assert.doesNotMatch(head, /hijack/);
    assert.equal(mail.parsed.headers.get('bcc'), undefined);
    assert.match(mail.parsed.text!, /Reason: +deploy\\r\\nBcc: evil@attacker\.test\\r\\nSubject: hijack <b>bold<\/b>/);
    assert.match(String(mail.parsed.html), /deploy\\r\\nBcc: evil@attacker\.test\\r\\nSubject: hijack &lt;b&gt;bold&lt;\/b&gt;/);
  });

  test('raw replay of the same bytes through the listener is refused the second time', async () => {
    const { id, mail } = await waiting();
    const raw = await rawMail(replyTo(mail, 'bob@example.com', 'REJECT no', { messageId: `<raw-${id}@client.test>` }));
    await sendTo(gw.g.smtpInPort!, { envelope: { from: 'bob@example.com', to: [mail.parsed.replyTo!.value[0].address!] }, raw });
    await waitFor('rejected', async () => (await status(id)) === 'rejected');
    await sendTo(gw.g.smtpInPort!, { envelope: { from: 'bob@example.com', to: [mail.parsed.replyTo!.value[0].address!] }, raw });
    await waitFor('replay refused', async () => (await refusals(id)).some((r) => /replayed/.test(r)));
  });
});

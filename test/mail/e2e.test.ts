// End to end against a real SMTP sink: a request waits, the approver's mail arrives with the exact
// subject, and the request is decided by the Approve link's confirm form, or by a reply over SMTP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, seedOrg } from '../helpers/services.js';
import type { ApprovalRequest } from '../../src/core/types.js';
import { fastMailEnv, links, replyTo, sendTo, startGateway, startSink, SUBJECT, waitFor, type Gateway, type Sink } from './helpers.js';
import { requestOf } from '../../src/core/events.js';

fastMailEnv();

describe('email end to end (SMTP sink, gateway started with start(env))', () => {
  let sink: Sink;
  let gw: Gateway;
  before(async () => {
    sink = await startSink();
    gw = await startGateway(sink.port);
    await seedOrg(gw.g.services);
    await gw.g.services.admin.setParam(ADMIN, 'instance.name', 'Acme PAM');
  });
  after(async () => {
    await gw?.stop();
    await sink?.close();
  });

  /** Requests access and resolves when the bus reports the request decided. */
  async function waitingRequest(username: string, device: string, reason = 'deploy 42') {
    const s = gw.g.services;
    let decided: (r: ApprovalRequest) => void = () => {};
    const done = new Promise<ApprovalRequest>((resolve) => (decided = resolve));
    let id = -1;
    const unsubscribe = s.bus.subscribe((e) => {
      const r = requestOf(e);
      if (r && r.id === id && r.status !== 'waiting') decided(r);
    });
    const res = await s.approvals.request({ username, device, protocol: 'ssh', reason, clientAddr: '192.0.2.7', channel: 'ssh' });
    assert.equal(res.outcome, 'waiting');
    id = res.outcome === 'waiting' ? res.request.id : -1;
    return { id, decided: done.finally(unsubscribe) };
  }

  test('the Approve link: GET shows a confirm page and changes nothing; POST approves', async () => {
    const { id, decided } = await waitingRequest('alice', 'web01');
    const mail = await waitFor('the approver mail', () =>
      sink.to('bob@example.com').find((m) => m.parsed.subject === SUBJECT(id, 'Acme PAM')),
    );
    assert.equal(mail.parsed.subject, `Acme PAM - Connection Approval Notification - #${id}`);
    assert.ok(mail.parsed.html, 'an HTML part');
    for (const want of ['alice', 'alice@example.com', 'web01', 'root', 'ssh', '192.0.2.7', 'deploy 42', 'APPROVE'])
      assert.match(mail.parsed.text!, new RegExp(want));
    assert.match(mail.parsed.replyTo!.value[0].address!, /^approvals\+[0-9a-f]{32}@gh\.test$/);
    const { approve } = links(mail);
    assert.ok(approve.startsWith(gw.g.services.config.publicUrl.replace(/\/$/, '')) || approve.includes('/email/approval/'));
    const url = `${gw.web}${new URL(approve).pathname}`;

    for (let i = 0; i < 3; i++) {
      const page = await fetch(url);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<form method="post"/);
    }
    assert.equal((await gw.g.services.approvals.get(id))!.status, 'waiting', 'GET changes nothing');

    const post = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'comment=ok+from+mail',
    });
    assert.equal(post.status, 200, await post.clone().text());
    const r = await decided;
    assert.equal(r.status, 'approved');
    const d = await gw.g.services.store.decisions(id);
    assert.equal(d[0].channel, 'email-link');
    assert.equal(d[0].comment, 'ok from mail');
    // The requester hears about it, with the grant window.
    const note = await waitFor('the requester mail', () =>
      sink.to('alice@example.com').find((m) => m.parsed.subject === SUBJECT(id, 'Acme PAM')),
    );
    assert.match(note.parsed.text!, /was approved/);
    assert.match(note.parsed.text!, /from \d{4}-.* until \d{4}-/);
    const metrics = await (await fetch(`${gw.web}/metrics`)).text();
    assert.match(metrics, /^gatehouse_mail_outbox\{status="sent"\} [1-9]/m);
    assert.match(metrics, /^gatehouse_mail_outbox_oldest_unsent_seconds /m);
  });

  test('a reply "APPROVE looks fine" over SMTP approves the waiting request', async () => {
    const { id, decided } = await waitingRequest('dave', 'web01');
    const mail = await waitFor('the approver mail', () =>
      sink.to('bob@example.com').find((m) => m.parsed.subject === SUBJECT(id, 'Acme PAM')),
    );
    await sendTo(gw.g.smtpInPort!, replyTo(mail, 'Bob <bob@example.com>', 'APPROVE looks fine'));
    const r = await decided;
    assert.equal(r.status, 'approved');
    const d = await gw.g.services.store.decisions(id);
    assert.equal(d[0].channel, 'email-reply');
    assert.equal(d[0].comment, 'looks fine');
  });

  test('a reply "REJECT not now" rejects; the requester is told, with the comment', async () => {
    const { id, decided } = await waitingRequest('alice', 'db01');
    const mail = await waitFor('the approver mail', () =>
      sink.to('bob@example.com').find((m) => m.parsed.subject === SUBJECT(id, 'Acme PAM')),
    );
    await sendTo(gw.g.smtpInPort!, replyTo(mail, 'bob@example.com', 'reject: not now'));
    assert.equal((await decided).status, 'rejected');
    const note = await waitFor('the requester mail', () =>
      sink.to('alice@example.com').find((m) => m.parsed.subject === SUBJECT(id, 'Acme PAM')),
    );
    assert.match(note.parsed.text!, /was rejected/);
    assert.match(note.parsed.text!, /not now/);
  });
});

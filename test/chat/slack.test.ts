// Slack approvals against a local fake Slack (fake-slack.ts) and a real Gatehouse on SQLite: approver DMs
// in Block Kit, an approve click decides and every message is updated, a request decided in the console
// updates the message and a second click says "already approved by …", forged signatures, replayed
// timestamps, unknown and ineligible users are refused and audited, a click while Slack cannot say who
// clicked decides nothing and says why, a second-factor approver gets a link,
// Reject opens a modal whose submission carries the comment, a delegate gets the approver's DM and decides, 20 parallel clicks decide once, escalation
// DMs the new approvers, and expiry updates every message and tells the requester.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type Server } from '../api/helpers.js';
import { ADMIN } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { setSlack } from '../../src/notify/chat/settings.js';
import { blockActions, buttons, sendSigned, shown, startFakeSlack, viewSubmission, type FakeSlack } from './fake-slack.js';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const USERS = {
  'bob@example.com': 'UBOB0001',
  'alice@example.com': 'UALICE01',
  'carol@example.com': 'UCAROL01',
  'erin@example.com': 'UERIN001',
  'nobody@example.com': 'UNOBODY1',
  'admin@example.com': 'UADMIN01',
};

describe('Slack approvals', () => {
  let srv: Server;
  let slack: FakeSlack;
  let endpoint: string;
  const s = () => srv.running.services;
  // Each test asks for something not yet granted: an approved request grants access, and a later ask is allowed.
  const ask = async (username: string, device: string, protocol: 'ssh' | 'sftp') => {
    const r = await s().approvals.request({ username, device, protocol, reason: 'deploy <b>&', channel: 'ssh' });
    assert.equal(r.outcome, 'waiting');
    return r.outcome === 'waiting' ? r.request.id : 0;
  };
  const dm = (user: string, id: number) =>
    waitFor(`DM to ${user} about #${id}`, () => slack.dmsTo(user).find((m) => shown(m).includes(`#${id}`)), 15_000);
  const audits = async (action: string) => {
    const { dbOf } = await import('../helpers/kysely.js');
    return dbOf(s()).selectFrom('audit_log').selectAll().where('action', '=', action).execute();
  };

  before(async () => {
    slack = await startFakeSlack(USERS);
    srv = await startServer('sqlite');
    endpoint = `${srv.base}/api/v1/chat/slack/interactions`;
    await setSlack(s(), ADMIN, { botToken: slack.token, signingSecret: SECRET, apiUrl: slack.url });
  });
  after(async () => {
    await srv?.stop();
    await slack?.close();
  });

  test('an approve click decides; every message is updated; the requester hears; a second click says already approved', async () => {
    const id = await ask('alice', 'web01', 'ssh');
    const m = await dm('UBOB0001', id);
    const text = shown(m);
    for (const want of ['alice', 'web01', 'root', 'ssh', 'deploy &lt;b&gt;&amp;', 'Expires', 'user-group ops', '/approvals/'])
      assert.ok(text.includes(want), `the message shows ${want}: ${text}`);
    assert.deepEqual(buttons(m), ['gatehouse_approve', 'gatehouse_reject', 'gatehouse_open']);
    const r = await sendSigned(
      endpoint,
      SECRET,
      blockActions(slack, { user: 'UBOB0001', action: 'gatehouse_approve', requestId: id, message: m }),
    );
    assert.equal(r.status, 200);
    assert.equal((await s().store.getRequest(id))?.status, 'approved');
    await waitFor('message updated', () => m.updates > 0 && shown(m).includes('Approved by bob in Slack'), 15_000);
    assert.deepEqual(buttons(m), ['gatehouse_open'], 'no decision buttons once decided');
    await waitFor('ephemeral answer', () => slack.answers.some((a) => a.text.includes(`You approved request #${id}`)), 10_000);
    const out = await dm('UALICE01', id);
    assert.match(shown(out), /Approved by bob/);
    const decisions = await s().store.decisions(id);
    assert.equal(decisions[0].channel, 'slack');
    slack.answers.length = 0;
    await sendSigned(endpoint, SECRET, blockActions(slack, { user: 'UBOB0001', action: 'gatehouse_approve', requestId: id, message: m }));
    await waitFor('already answer', () => slack.answers.find((a) => /already approved by bob in Slack/.test(a.text)), 10_000);
    assert.deepEqual(slack.problems, []);
  });

  test('a request decided in the console updates the message, and a click then says already approved', async () => {
    const id = await ask('alice', 'web01', 'sftp');
    const m = await dm('UBOB0001', id);
    await s().approvals.approve(id, 'bob', { channel: 'web' });
    await waitFor('message updated', () => /Approved by bob in the console at \d\d:\d\d UTC/.test(shown(m)), 15_000);
    slack.answers.length = 0;
    await sendSigned(endpoint, SECRET, blockActions(slack, { user: 'UBOB0001', action: 'gatehouse_approve', requestId: id, message: m }));
    await waitFor('already answer', () => slack.answers.find((a) => a.text.includes('already approved by bob in the console')), 10_000);
  });

  test('forged signature, replayed timestamp, unknown and ineligible users are refused and audited', async () => {
    const id = await ask('alice', 'db01', 'ssh');
    const m = await dm('UBOB0001', id);
    const click = blockActions(slack, { user: 'UBOB0001', action: 'gatehouse_approve', requestId: id, message: m });
    const forged = await sendSigned(endpoint, 'not-the-signing-secret-00000000', click);
    assert.equal(forged.status, 401);
    const old = await sendSigned(endpoint, SECRET, click, { ts: Math.floor(Date.now() / 1000) - 600 });
    assert.equal(old.status, 401);
    assert.match(old.text, /too old/);
    const noSig = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'payload=%7B%7D',
    });
    assert.equal(noSig.status, 401);
    const big = await sendSigned(endpoint, SECRET, null, { body: `payload=${'x'.repeat(2 * 1024 * 1024)}` });
    assert.equal(big.status, 413, 'an oversized body is refused before it is read whole');
    slack.answers.length = 0;
    await sendSigned(endpoint, SECRET, blockActions(slack, { user: 'UNOBODY1', action: 'gatehouse_approve', requestId: id }));
    await sendSigned(endpoint, SECRET, blockActions(slack, { user: 'UCAROL01', action: 'gatehouse_approve', requestId: id }));
    await sendSigned(endpoint, SECRET, blockActions(slack, { user: 'UALICE01', action: 'gatehouse_approve', requestId: id }));
    assert.equal((await s().store.getRequest(id))?.status, 'waiting', 'nothing decided it');
    await waitFor('three answers', () => slack.answers.length >= 3, 10_000);
    const said = slack.answers.map((a) => a.text).join('\n');
    assert.match(said, /not linked to a Gatehouse user/);
    assert.match(said, /cannot approve your own request/);
    const why = (await audits('chat.refused')).map((r) => JSON.parse(r.details ?? '{}').why);
    for (const w of ['bad signature', 'stale timestamp', 'no timestamp', 'unknown user', 'forbidden', 'self_approval'])
      assert.ok(why.includes(w), `audited: ${w} (got ${why.join(', ')})`);
    await s().approvals.cancel(id, 'alice', 'ssh');
  });

  test('when Slack cannot say who clicked, nothing is decided and the answer names the outage, not "not linked"', async () => {
    const id = await ask('alice', 'db01', 'ssh');
    const m = await dm('UBOB0001', id);
    slack.answers.length = 0;
    slack.failing.add('users.info');
    try {
      await sendSigned(endpoint, SECRET, blockActions(slack, { user: 'UBOB0001', action: 'gatehouse_approve', requestId: id, message: m }));
      const a = await waitFor('the answer', () => slack.answers[0], 10_000);
      assert.match(a.text, /could not ask Slack who you are, so nothing was decided/);
      assert.doesNotMatch(a.text, /not linked/);
      assert.equal((await s().store.getRequest(id))?.status, 'waiting');
      const refused = (await audits('chat.refused')).map((r) => JSON.parse(r.details ?? '{}'));
      const lookup = refused.find((d) => d.why === 'user lookup failed');
      assert.ok(lookup, 'audited as a failed lookup');
      assert.doesNotMatch(JSON.stringify(lookup), new RegExp(slack.token), 'the bot token stays out of the audit');
    } finally {
      slack.failing.delete('users.info');
    }
    await s().approvals.cancel(id, 'alice', 'ssh');
  });

  test('Reject opens a modal; its submission carries the comment', async () => {
    const id = await ask('alice', 'db01', 'ssh');
    const m = await dm('UBOB0001', id);
    const r = await sendSigned(
      endpoint,
      SECRET,
      blockActions(slack, { user: 'UBOB0001', action: 'gatehouse_reject', requestId: id, message: m }),
    );
    assert.equal(r.status, 200);
    const v = await waitFor('modal opened', () => slack.views.find((x) => x.view.private_metadata === String(id)), 10_000);
    assert.equal((await s().store.getRequest(id))?.status, 'waiting', 'the click alone decides nothing');
    const sub = await sendSigned(endpoint, SECRET, viewSubmission('UBOB0001', v.view, 'not during the freeze'));
    assert.equal(sub.status, 200);
    assert.deepEqual(JSON.parse(sub.text), { response_action: 'clear' });
    const after = await s().store.getRequest(id);
    assert.equal(after?.status, 'rejected');
    assert.equal(after?.decisionComment, 'not during the freeze');
    await waitFor(
      'message shows the rejection',
      () => shown(m).includes('Rejected by bob in Slack') && shown(m).includes('not during the freeze'),
      15_000,
    );
  });

  test('20 parallel clicks decide once', async () => {
    const id = await ask('dave', 'web01', 'ssh');
    const m = await dm('UBOB0001', id);
    slack.answers.length = 0;
    const clicks = Array.from({ length: 20 }, () =>
      sendSigned(endpoint, SECRET, blockActions(slack, { user: 'UBOB0001', action: 'gatehouse_approve', requestId: id, message: m })),
    );
    assert.ok((await Promise.all(clicks)).every((r) => r.status === 200));
    await waitFor('20 answers', () => slack.answers.length >= 20, 20_000);
    assert.equal(slack.answers.filter((a) => a.text.includes('You approved')).length, 1);
    assert.equal((await s().store.decisions(id)).length, 1);
    assert.equal((await audits('approval.approve')).filter((a) => a.target_id === String(id)).length, 1);
  });

  test('with approval.decision.requires.passkey on, approvers get a link, not a decision', async () => {
    await s().admin.setParam(ADMIN, 'approval.decision.requires.passkey', 'true');
    const id = await ask('dave', 'db01', 'ssh');
    const m = await dm('UBOB0001', id);
    assert.deepEqual(buttons(m), ['gatehouse_open']);
    assert.match(shown(m), /second factor or a passkey/);
    slack.answers.length = 0;
    await sendSigned(endpoint, SECRET, blockActions(slack, { user: 'UBOB0001', action: 'gatehouse_approve', requestId: id, message: m }));
    await waitFor('link answer', () => slack.answers.find((a) => a.text.includes('/approvals/')), 10_000);
    assert.equal((await s().store.getRequest(id))?.status, 'waiting');
    await s().admin.setParam(ADMIN, 'approval.decision.requires.passkey', 'false');
  });

  test("whoever holds an approver's rights now gets the approver's DM, and their click decides", async () => {
    const p = await s().policy.current();
    const bob = { username: 'bob', id: p.usersByName.get('bob')!.id, channel: 'cli' as const };
    const d = await s().delegations.delegate(bob, {
      to: 'erin',
      period: (n) => ({ startsAt: n, endsAt: n + 3600_000 }),
      reason: 'holiday',
    });
    const { dbOf } = await import('../helpers/kysely.js');
    try {
      const id = await ask('alice', 'db01', 'ssh');
      await dm('UBOB0001', id);
      const m = await dm('UERIN001', id);
      assert.deepEqual(buttons(m), ['gatehouse_approve', 'gatehouse_reject', 'gatehouse_open']);
      await sendSigned(endpoint, SECRET, blockActions(slack, { user: 'UERIN001', action: 'gatehouse_approve', requestId: id, message: m }));
      assert.equal((await s().store.getRequest(id))?.status, 'approved');
      assert.equal((await s().store.decisions(id))[0].channel, 'slack');
      await s().approvals.revoke(id, 'bob', { channel: 'cli', proof: 'operator' });
    } finally {
      await dbOf(s()).updateTable('delegations').set({ revoked_at: Date.now() }).where('id', '=', d.id).execute();
    }
  });

  test('an approver who must prove a second factor gets a link, not a decision', async () => {
    await s().directoryStore.setApproversNeedSecondFactor(true);
    try {
      const id = await ask('dave', 'web01', 'sftp');
      const m = await dm('UBOB0001', id);
      assert.deepEqual(buttons(m), ['gatehouse_open']);
      slack.answers.length = 0;
      await sendSigned(endpoint, SECRET, blockActions(slack, { user: 'UBOB0001', action: 'gatehouse_approve', requestId: id, message: m }));
      await waitFor('link answer', () => slack.answers.find((a) => /second factor.*\/approvals\//.test(a.text)), 10_000);
      assert.equal((await s().store.getRequest(id))?.status, 'waiting');
    } finally {
      await s().directoryStore.setApproversNeedSecondFactor(false);
    }
  });

  test('escalation DMs the new approvers; expiry updates every message and tells the requester', async () => {
    await s().admin.setUser(ADMIN, 'admin', { email: 'admin@example.com' });
    const id = await ask('alice', 'db01', 'ssh');
    const bobs = await dm('UBOB0001', id);
    await s().approvals.escalate(id, 'bob', 'web');
    const admins = await dm('UADMIN01', id);
    assert.deepEqual(buttons(admins), ['gatehouse_approve', 'gatehouse_reject', 'gatehouse_open']);
    await waitFor('bob’s DM shows the escalation', () => shown(bobs).includes('(escalated)'), 15_000);
    const { dbOf } = await import('../helpers/kysely.js');
    await dbOf(s())
      .updateTable('approval_requests')
      .set({ expires_at: Date.now() - 1000 })
      .where('id', '=', id)
      .execute();
    await s().approvals.expireDue();
    for (const m of [bobs, admins]) await waitFor('shows expired', () => shown(m).includes('Expired at'), 15_000);
    assert.deepEqual(buttons(bobs), ['gatehouse_open']);
    const out = await waitFor('alice hears', () => slack.dmsTo('UALICE01').find((m) => shown(m).includes(`#${id} `)), 15_000);
    assert.match(shown(out), /Expired at/);
    assert.deepEqual(slack.problems, []);
  });
});

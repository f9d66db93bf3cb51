// Which events send which mail: reminders only after approval.attempt.reuse.seconds, the next level of a
// workflow and an escalation notify the new approvers, a delegate is mailed with the approver they act
// for, requesters hear of approved, revoked and expired.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startNotify, type RunningNotify } from '../../src/notify/index.js';
import { mailDb } from '../helpers/kysely.js';
import { ADMIN, seedOrg, testServices, type TestEnv } from '../helpers/services.js';
import { fastMailEnv, sleep, startSink, SUBJECT, waitFor, type Sink } from './helpers.js';

fastMailEnv();

describe('mail for each approval event', () => {
  let t: TestEnv;
  let sink: Sink;
  let n: RunningNotify;
  before(async () => {
    sink = await startSink();
    t = await testServices('sqlite');
    await seedOrg(t.s);
    await t.s.admin.addWorkflow(ADMIN, 'prod-db', 'ops', 'db', ['group-manager,escalate=5', 'group-members:dba']);
    t.s.config.smtpUrl = `smtp://127.0.0.1:${sink.port}`;
    await t.s.bus.start();
    n = await startNotify(t.s);
  });
  after(async () => {
    await n?.close();
    await t?.cleanup();
    await sink?.close();
  });

  const mails = (to: string, id: number) => sink.to(to).filter((m) => m.parsed.subject === SUBJECT(id));
  const req = (username: string, device: string) =>
    t.s.approvals.request({ username, device, protocol: 'ssh', reason: 'events test', channel: 'ssh' });

  test('a repeat attempt reminds the approver only once the last mail is older than the reuse window', async () => {
    const r = await req('alice', 'web01');
    const id = r.outcome === 'waiting' ? r.request.id : -1;
    await waitFor('first mail', () => mails('bob@example.com', id).length === 1);
    await req('alice', 'web01');
    await sleep(400);
    assert.equal(mails('bob@example.com', id).length, 1, 'no reminder inside approval.attempt.reuse.seconds');
    t.clock.advance(301_000);
    await req('alice', 'web01');
    const both = await waitFor('reminder', () => mails('bob@example.com', id).length === 2 && mails('bob@example.com', id));
    assert.match(both[1].parsed.text!, /Reminder: a connection is still waiting/);

    await t.s.approvals.approve(id, 'bob', { comment: 'go', channel: 'cli' });
    const ok = await waitFor('approved mail', () => mails('alice@example.com', id)[0]);
    assert.match(ok.parsed.text!, /was approved/);
    assert.match(ok.parsed.text!, /Outcome: +approved by .*bob\)? at /);
    await t.s.approvals.revoke(id, 'bob', { comment: 'done now', channel: 'cli' });
    const rev = await waitFor('revoked mail', () => mails('alice@example.com', id)[1]);
    assert.match(rev.parsed.text!, /was revoked/);
    assert.match(rev.parsed.text!, /done now/);
  });

  test("the next level of a workflow notifies its approvers; the first level's links die", async () => {
    const r = await req('alice', 'db01');
    const id = r.outcome === 'waiting' ? r.request.id : -1;
    await waitFor('level 1 mail', () => mails('bob@example.com', id).length === 1);
    await t.s.approvals.approve(id, 'bob', { comment: 'level 1 ok', channel: 'cli' });
    for (const u of ['frank', 'gina', 'hank']) {
      const m = await waitFor(`${u}'s mail`, () => mails(`${u}@example.com`, id)[0]);
      assert.match(m.parsed.text!, /previous level approved/);
      assert.match(m.parsed.text!, /Level: +2 of 2/);
    }
    const tokens = await mailDb(t.s).selectFrom('mail_link_tokens').selectAll().where('request_id', '=', id).execute();
    assert.ok(
      tokens.filter((x) => x.level === 0).every((x) => x.dead_at !== null),
      'level 1 links are dead',
    );
    assert.ok(tokens.filter((x) => x.level === 1).every((x) => x.dead_at === null));
  });

  test("whoever holds an approver's rights now is mailed with them (not the requester); the link is theirs", async () => {
    const p = await t.s.policy.current();
    const bob = { username: 'bob', id: p.usersByName.get('bob')!.id, channel: 'cli' as const };
    const carolId = p.usersByName.get('carol')!.id;
    await t.s.delegations.delegate(bob, { to: 'carol', period: (n) => ({ startsAt: n, endsAt: n + 3600_000 }), reason: 'holiday' });
    await t.s.delegations.delegate(bob, { to: 'alice', period: (n) => ({ startsAt: n, endsAt: n + 3600_000 }), reason: null });
    const r = await req('alice', 'web01');
    const id = r.outcome === 'waiting' ? r.request.id : -1;
    await waitFor('the approver mail', () => mails('bob@example.com', id).length === 1);
    const m = await waitFor("the delegate's mail", () => mails('carol@example.com', id)[0]);
    assert.match(m.parsed.text!, /waiting for your approval/);
    assert.match(m.parsed.text!.replace(/\s+/g, ' '), /you are asked as the delegate of bob until \d{4}-/);
    const tokens = await mailDb(t.s).selectFrom('mail_link_tokens').selectAll().where('request_id', '=', id).execute();
    assert.ok(
      tokens.some((x) => x.approver_id === carolId),
      "the delegate's links are made out to the delegate",
    );
    await sleep(300);
    assert.equal(mails('alice@example.com', id).length, 0, 'a requester holding the rights is not asked to decide their own request');
    await t.s.approvals.approve(id, 'carol', { comment: 'covering for bob', channel: 'cli' });
    await t.s.approvals.revoke(id, 'bob', { channel: 'cli' });
  });

  test('escalation notifies the approvers it adds; expiry tells the requester', async () => {
    const r = await req('dave', 'db01');
    const id = r.outcome === 'waiting' ? r.request.id : -1;
    await waitFor('level 1 mail', () => mails('bob@example.com', id).length === 1);
    t.clock.advance(6 * 60_000);
    assert.equal(await t.s.approvals.escalateDue(), 1);
    for (const u of ['frank', 'gina', 'hank']) {
      const m = await waitFor(`${u}'s mail`, () => mails(`${u}@example.com`, id)[0]);
      assert.match(m.parsed.text!, /escalated to you/);
    }
    assert.equal(mails('bob@example.com', id).length, 1, 'the existing approver is not mailed again');
    t.clock.advance(31 * 60_000);
    await t.s.approvals.expireDue();
    const m = await waitFor('expired mail', () => mails('dave@example.com', id)[0]);
    assert.match(m.parsed.text!, /expired/);
  });
});

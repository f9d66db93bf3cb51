// approval.decision.requires.passkey on the mail channels, with a real SMTP sink and the gateway's SMTP
// listener: an email reply is refused naming the parameter; the email link's confirm page asks for a passkey,
// refuses an assertion made for another request (and keeps the link), and decides with the right one.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, seedOrg } from '../helpers/services.js';
import { dbOf } from '../helpers/kysely.js';
import {
  fastMailEnv,
  freePort,
  links,
  replyTo,
  sendTo,
  startGateway,
  startSink,
  SUBJECT,
  waitFor,
  type Gateway,
  type Sink,
} from '../mail/helpers.js';
import { decisionScope } from '../../src/core/passkeys.js';
import type { Services } from '../../src/services.js';
import { SoftAuthenticator } from './soft-authenticator.js';
import { SKIP } from '../web/browser.js';
import { launchForPasskeys, virtualAuthenticator } from './chromium.js';

fastMailEnv();
const PARAM = 'approval.decision.requires.passkey';

describe('passkeys on the mail channels', () => {
  let sink: Sink;
  let gw: Gateway;
  let s: Services;
  let key: SoftAuthenticator;
  let local: string;
  const bob = async () => (await s.policy.current()).usersByName.get('bob')!;

  before(async () => {
    sink = await startSink();
    const port = await freePort();
    gw = await startGateway(sink.port, { GATEHOUSE_WEB_PORT: String(port), GATEHOUSE_PUBLIC_URL: `http://localhost:${port}` });
    local = `http://localhost:${port}`;
    s = gw.g.services;
    await seedOrg(s);
    key = new SoftAuthenticator(s.passkeys.rp.id, s.passkeys.rp.origin);
    await s.passkeys.register(await bob(), 'bob-key', key.register(await s.passkeys.registrationOptions(await bob())) as never);
    await s.admin.setParam(ADMIN, PARAM, 'true');
  });
  after(async () => {
    await gw?.stop();
    await sink?.close();
  });

  let combo = 0;
  async function waiting(username = 'alice') {
    const [device, protocol] = (
      [
        ['web01', 'ssh'],
        ['web01', 'sftp'],
        ['db01', 'ssh'],
      ] as const
    )[combo++ % 3];
    const res = await s.approvals.request({ username, device, protocol, reason: 'deploy 42', channel: 'ssh' });
    if (res.outcome !== 'waiting') throw new Error('expected a waiting request');
    const id = res.request.id;
    const mail = await waitFor('the approver mail', () => sink.to('bob@example.com').find((m) => m.parsed.subject === SUBJECT(id)));
    return { id, mail };
  }
  const path = (url: string) => new URL(url).pathname;

  test('an email reply is refused, naming the parameter; nothing is decided', async () => {
    const { id, mail } = await waiting();
    await sendTo(gw.g.smtpInPort!, replyTo(mail, 'bob@example.com', 'APPROVE looks fine'));
    const refusals = async () =>
      (
        await dbOf(s)
          .selectFrom('audit_log')
          .selectAll()
          .where('action', '=', 'mail.reply.refused')
          .where('target_id', '=', String(id))
          .execute()
      ).map((r) => JSON.parse(r.details).reason as string);
    await waitFor('refusal audited', async () => (await refusals()).length === 1);
    assert.match((await refusals())[0], /approval\.decision\.requires\.passkey is on: .*an email reply cannot carry/);
    assert.equal((await s.approvals.get(id))!.status, 'waiting');
    const answer = await waitFor('the explanation to bob', () =>
      sink.to('bob@example.com').find((m) => m.parsed.subject === `Re: ${SUBJECT(id)}`),
    );
    assert.match(answer.parsed.text ?? '', /approval\.decision\.requires\.passkey/);
  });

  test("the link's page asks for the passkey; another request's assertion is refused; the right one decides", async () => {
    const a = await waiting();
    const b = await waiting();
    const approveB = path(links(b.mail).approve);
    const page = await fetch(gw.web + approveB);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /name="passkey"/);
    assert.match(html, /<script src="\/email\/passkey.js"><\/script>/);
    const js = await fetch(`${gw.web}/email/passkey.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);

    const post = (url: string, form: Record<string, string>) =>
      fetch(gw.web + url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      });
    // No assertion: refused before anything is claimed.
    const none = await post(approveB, { comment: '' });
    assert.equal(none.status, 403);
    assert.match(await none.text(), /Passkey needed/);
    // An assertion made for request A (same action) on B's link: refused, and the link still works.
    const forA = key.assert(await s.passkeys.assertionOptions(await bob(), 'decide', decisionScope('approve', a.id)));
    const wrong = await post(approveB, { passkey: JSON.stringify(forA) });
    assert.equal(wrong.status, 403);
    assert.match(await wrong.text(), /another action or request/);
    // The page's own options route: a challenge for B's approve.
    const opts = await fetch(`${gw.web}${approveB}/passkey`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(opts.status, 200);
    const ok = await post(approveB, {
      passkey: JSON.stringify(key.assert((await opts.json()) as { challenge: string })),
      comment: 'with my key',
    });
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.match(await ok.text(), /approved/);
    assert.equal((await s.approvals.get(b.id))!.status, 'approved');
    const [rec] = await s.adminStore.listAudit({ limit: 1, action: 'approval.approve', targetType: 'approval', targetId: String(b.id) });
    assert.equal(rec.channel, 'email-link');
    assert.deepEqual(rec.details.passkey, { name: 'bob-key', credentialId: key.id });
    // A's assertion was never spent, but the key has signed a later one since: its counter gives it away.
    const late = await post(path(links(a.mail).approve), { passkey: JSON.stringify(forA) });
    assert.equal(late.status, 403);
    assert.match(await late.text(), /counter did not move forward/);
    assert.equal((await s.approvals.get(a.id))!.status, 'waiting');
  });

  test('in Chromium: the confirm page asks the authenticator for the passkey, then decides', { skip: SKIP }, async () => {
    const { id, mail } = await waiting('dave');
    const browser = await launchForPasskeys();
    try {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await virtualAuthenticator(ctx, page, key);
      await page.goto(local + path(links(mail).approve));
      await page.getByRole('button', { name: `Approve request #${id}` }).click();
      await page.getByRole('heading', { name: 'Approved' }).waitFor({ timeout: 15_000 });
      assert.equal((await s.approvals.get(id))!.status, 'approved');
      const [rec] = await s.adminStore.listAudit({ limit: 1, action: 'approval.approve', targetType: 'approval', targetId: String(id) });
      assert.equal((rec.details.passkey as { name: string }).name, 'bob-key');
    } finally {
      await browser.close();
    }
  });
});

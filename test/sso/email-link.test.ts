// Email-link approvals with approval.email.link.requires.login and SSO: the confirm page offers "Sign in
// with <name>", the provider sends the approver back to the same page, and the link decides. With
// login.password.enabled = false the page offers no password and a posted password is refused.
// After SSO, a group's second factor still applies (the console's ticket step).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from 'otplib';
import { flow } from '../../bench/lib/oidc.js';
import { PW } from '../../bench/lib/api.js';
import { directoryOf } from '../../src/directory/index.js';
import { createToken } from '../../src/notify/tokens.js';
import { ADMIN, USERS, startSso, visit, type SsoRig } from './helpers.js';

describe('SSO on the email-link confirm page, and the second factor after SSO', () => {
  let rig: SsoRig;
  let requestId = 0;
  before(async () => {
    rig = await startSso('sqlite');
    const s = rig.srv.running.services;
    await s.admin.setParam(ADMIN, 'approval.email.link.requires.login', 'true');
    const r = await s.approvals.request({ username: 'alice', device: 'web01', protocol: 'ssh', channel: 'cli', reason: 'deploy 42' });
    if (r.outcome === 'allowed') throw new Error('expected a request');
    requestId = r.request.id;
  });
  after(async () => rig?.stop());

  const post = (token: string, fields: Record<string, string>, cookie?: string) =>
    fetch(`${rig.srv.base}/email/approval/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
      body: new URLSearchParams(fields).toString(),
    });

  test('password off: no password on the page, a posted password is refused', async () => {
    const s = rig.srv.running.services;
    const bob = (await s.policy.current()).usersByName.get('bob')!;
    const token = await createToken(s.mail, requestId, bob.id, 'approve', 0, Date.now());
    await s.admin.setParam(ADMIN, 'login.password.enabled', 'false');
    try {
      const page = await (await fetch(`${rig.srv.base}/email/approval/${token}`)).text();
      assert.match(page, /Sign in with Test IdP/);
      assert.doesNotMatch(page, /type="password"/);
      const res = await post(token, { username: 'bob', password: PW });
      assert.equal(res.status, 403);
      assert.match(await res.text(), /Password sign-in is off/);
      assert.equal((await s.approvals.get(requestId))!.status, 'waiting');
    } finally {
      await s.admin.setParam(ADMIN, 'login.password.enabled', 'true');
    }
  });

  test('Sign in with the provider comes back to the confirm page, and the link decides', async () => {
    const s = rig.srv.running.services;
    const bob = (await s.policy.current()).usersByName.get('bob')!;
    const token = await createToken(s.mail, requestId, bob.id, 'approve', 0, Date.now());
    const page = await (await fetch(`${rig.srv.base}/email/approval/${token}`)).text();
    const href = /href="(\/api\/v1\/sso\/login\?return=[^"]+)"/.exec(page)![1].replace(/&amp;/g, '&');
    const back = await visit(await flow(rig.srv.base + href, 'bob', USERS.bob.password));
    assert.equal(back.status, 302, back.text);
    assert.equal(back.location, `/email/approval/${token}`);
    const signed = await (await fetch(rig.srv.base + back.location, { headers: { cookie: back.cookie! } })).text();
    assert.match(signed, /Signed in to the console as bob/);
    const res = await post(token, {}, back.cookie!);
    assert.equal(res.status, 200, await res.text());
    assert.equal((await s.approvals.get(requestId))!.status, 'approved');
  });

  test("a group's second factor still applies after SSO: the callback hands over a ticket, not a session", async () => {
    const s = rig.srv.running.services;
    const alice = (await s.policy.current()).usersByName.get('alice')!;
    const totp = directoryOf(s).totp;
    const secret = (await totp.begin(alice)).secret;
    await totp.confirm(alice, await generate({ secret, epoch: Math.floor(Date.now() / 1000) - 30 }));
    await directoryOf(s).directory.store.setSecondFactorGroup((await s.policy.current()).userGroupsByName.get('ops')!.id, true, Date.now());
    const r = await visit(await rig.callbackFor('alice', '/connect'));
    assert.equal(r.status, 302);
    assert.equal(r.cookie, null);
    const m = /^\/connect#sso-second-factor=([\w-]+)&enrol=0&passkey=0&totp=1$/.exec(r.location ?? '');
    assert.ok(m, r.location ?? '');
    const res = await fetch(`${rig.srv.base}/api/v1/session/second-factor`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ticket: m[1], code: await generate({ secret }) }),
    });
    assert.equal(res.status, 200, await res.text());
    assert.ok(res.headers.getSetCookie().some((c) => c.startsWith('gh_session=')));
  });
});

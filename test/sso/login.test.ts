// OpenID Connect login against a real provider (oidc-provider on 127.0.0.1): the code flow with PKCE,
// state and nonce; users matched, created and grouped from claims; refused answers (tampered state, a
// replayed code, a wrong audience, an expired token); a provider that is down; the password switch.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { login } from '../../bench/lib/api.js';
import { flow } from '../../bench/lib/oidc.js';
import { ssoOf } from '../../src/sso/index.js';
import { ADMIN, startSso, visit, type SsoRig } from './helpers.js';

describe('SSO login (OpenID Connect, oidc-provider)', () => {
  let rig: SsoRig;
  before(async () => {
    rig = await startSso('sqlite');
  });
  after(async () => {
    await rig?.stop();
  });

  test('a matched user signs in and lands on the validated return target with a console session', async () => {
    const cb = await rig.callbackFor('alice', '/approvals/7?x=1');
    const r = await visit(cb);
    assert.equal(r.status, 302, r.text);
    assert.equal(r.location, '/approvals/7?x=1');
    assert.ok(r.cookie);
    const me = await fetch(`${rig.srv.base}/api/v1/session`, { headers: { cookie: r.cookie! } });
    assert.equal(((await me.json()) as { user: { username: string } }).user.username, 'alice');
    // The same callback again: the transaction is gone (single use) and the code was spent.
    const again = await visit(cb);
    assert.equal(again.status, 403);
    assert.match(again.text, /unknown, already used or expired/);
    assert.equal(again.cookie, null);
  });

  test('return targets off this origin fall back to /', async () => {
    for (const bad of ['https://evil.example/', '//evil.example/x', '/\\evil.example', '/ok\r\nSet-Cookie: x=1', 'javascript:alert(1)']) {
      const r = await visit(await rig.callbackFor('alice', bad));
      assert.equal(r.status, 302);
      assert.equal(r.location, '/', bad);
    }
  });

  test('a tampered state is refused and leaves no session', async () => {
    const got = await rig.callbackFor('alice');
    const cb = new URL(got.url);
    cb.searchParams.set('state', cb.searchParams.get('state')!.slice(0, -2) + 'xx');
    const r = await visit(cb.href, got.cookie);
    assert.equal(r.status, 403);
    assert.equal(r.cookie, null);
    assert.match(r.text, /Sign-in refused/);
  });

  test('a callback URL opened in another browser (login CSRF) is refused', async () => {
    const got = await rig.callbackFor('alice');
    const r = await visit(got.url);
    assert.equal(r.status, 403);
    assert.equal(r.cookie, null);
    assert.match(r.text, /started in another browser/);
  });

  test('the break-glass account never signs in through SSO', async () => {
    rig.idp.users.set('root', { password: 'provider-pw', claims: { preferred_username: 'admin' } });
    const r = await visit(await flow(rig.loginUrl(), 'root', 'provider-pw'));
    assert.equal(r.status, 403);
    assert.match(r.text, /break-glass account/);
  });

  test('a validly signed ID token for another audience, or expired beyond 60 s, is refused; 30 s of skew is tolerated', async () => {
    try {
      rig.idp.tamper = (c) => ({ ...c, aud: 'someone-else' });
      let r = await visit(await rig.callbackFor('alice'));
      assert.equal(r.status, 403, r.text);
      assert.equal(r.cookie, null);
      assert.match(r.text, /aud/, r.text);
      const now = Math.floor(Date.now() / 1000);
      rig.idp.tamper = (c) => ({ ...c, iat: now - 600, exp: now - 120 });
      r = await visit(await rig.callbackFor('alice'));
      assert.equal(r.status, 403, r.text);
      assert.equal(r.cookie, null);
      assert.match(r.text, /exp/, r.text);
      rig.idp.tamper = (c) => ({ ...c, exp: Math.floor(Date.now() / 1000) - 30 });
      r = await visit(await rig.callbackFor('alice'));
      assert.equal(r.status, 302, r.text);
      assert.ok(r.cookie);
    } finally {
      rig.idp.tamper = null;
    }
  });

  test('an unknown user is refused without --create-users, then created with groups and manager from the claims', async () => {
    let r = await visit(await rig.callbackFor('newbie'));
    assert.equal(r.status, 403);
    assert.match(r.text, /no Gatehouse user &#39;newbie&#39;/);
    const sso = ssoOf(rig.srv.running.services);
    await sso.configure(ADMIN, { createUsers: true, syncGroups: true, managerClaim: 'manager' });
    r = await visit(await rig.callbackFor('newbie'));
    assert.equal(r.status, 302, r.text);
    const p = await rig.srv.running.services.policy.current();
    const u = p.usersByName.get('newbie')!;
    assert.equal(u.source, 'sso');
    assert.equal(u.displayName, 'New Person');
    assert.equal(p.usersById.get(u.managerId!)?.username, 'bob');
    assert.ok(p.userGroupsByName.get('ops')!.memberIds.includes(u.id));
    // SSO owns the profile: a local edit is refused.
    await assert.rejects(rig.srv.running.services.admin.setUser(ADMIN, 'newbie', { email: 'x@example.com' }), /owns/);
    // The claim drops the group: the membership SSO made goes; nothing else is touched.
    rig.idp.users.get('newbie')!.claims.groups = [];
    r = await visit(await rig.callbackFor('newbie'));
    assert.equal(r.status, 302);
    const p2 = await rig.srv.running.services.policy.current();
    assert.ok(!p2.userGroupsByName.get('ops')!.memberIds.includes(u.id));
  });

  test('the provider subject is bound on first login: another subject with the same username is refused', async () => {
    rig.idp.users.set('alice2', { password: 'provider-pw', claims: { preferred_username: 'alice' } });
    const r = await visit(await flow(rig.loginUrl(), 'alice2', 'provider-pw'));
    assert.equal(r.status, 403);
    assert.match(r.text, /bound to another provider account/);
  });

  test('20 parallel callbacks with one code give at most one session', async () => {
    const cb = await rig.callbackFor('alice');
    const rs = await Promise.all(Array.from({ length: 20 }, () => visit(cb)));
    assert.equal(rs.filter((r) => r.cookie).length, 1, rs.map((r) => r.status).join(','));
    assert.ok(rs.every((r) => r.status === 302 || r.status === 403));
  });

  test('the leaver: an admin ends every console session and API token of a user', async () => {
    const a = await visit(await rig.callbackFor('alice'));
    const web = await login(rig.srv.base, 'alice');
    const tok = await web.post('/api/v1/tokens', { name: 'script' });
    assert.equal(tok.status, 201);
    const admin = await login(rig.srv.base, 'admin');
    const out = await admin.post('/api/v1/users/alice/sign-out', {});
    assert.equal(out.status, 200, out.text);
    assert.ok(out.body.sessions >= 2 && out.body.tokens >= 1, out.text);
    const heads: Record<string, string>[] = [{ cookie: a.cookie! }, { cookie: web.cookie! }, { authorization: `Bearer ${tok.body.token}` }];
    for (const h of heads) assert.equal((await fetch(`${rig.srv.base}/api/v1/session`, { headers: h })).status, 401);
    const bob = await login(rig.srv.base, 'bob');
    assert.equal((await bob.post('/api/v1/users/alice/sign-out', {})).status, 403);
    const audit = await admin.get('/api/v1/audit?action=user.sign-out');
    assert.equal(audit.status, 200);
    assert.ok(JSON.stringify(audit.body).includes('alice'));
  });

  test('password login off: only the break-glass account may use a password; the login page says SSO', async () => {
    const admin = await login(rig.srv.base, 'admin');
    assert.equal((await admin.put('/api/v1/params/login.password.enabled', { value: 'false' })).status, 200);
    try {
      await assert.rejects(login(rig.srv.base, 'bob'), /403/);
      await login(rig.srv.base, 'admin');
      const st = await (await fetch(`${rig.srv.base}/api/v1/sso/status`)).json();
      assert.deepEqual(st, { sso: { name: 'Test IdP' }, passwordLogin: false });
    } finally {
      await admin.put('/api/v1/params/login.password.enabled', { value: 'true' });
    }
  });

  test('admin API: settings without the secret, a dry run; others are refused', async () => {
    const admin = await login(rig.srv.base, 'admin');
    const v = await admin.get('/api/v1/sso/config');
    assert.equal(v.status, 200);
    assert.ok(!v.text.includes(rig.idp.clientSecret));
    assert.equal(v.body.clientSecretSet, true);
    const t = await admin.post('/api/v1/sso/config/test', {});
    assert.equal(t.status, 200, t.text);
    assert.equal(t.body.issuer, rig.idp.issuer);
    const bob = await login(rig.srv.base, 'bob');
    assert.equal((await bob.get('/api/v1/sso/config')).status, 403);
    assert.equal((await bob.put('/api/v1/sso/config', { name: 'x' })).status, 403);
  });

  test('a provider that is down fails closed with a clear page; admin password login still works', async () => {
    const sso = ssoOf(rig.srv.running.services);
    const old = (await sso.view())!.settings.issuer;
    await sso.configure(ADMIN, { issuer: 'http://127.0.0.1:9/', timeoutSeconds: 2 });
    try {
      const r = await visit(rig.loginUrl('/'));
      assert.equal(r.status, 503);
      assert.match(r.text, /Sign-in unavailable/);
      assert.match(r.text, /could not be discovered/);
      await login(rig.srv.base, 'admin');
    } finally {
      await sso.configure(ADMIN, { issuer: old });
    }
  });
});

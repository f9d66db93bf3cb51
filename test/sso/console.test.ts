// The console's login through a real provider in Chromium: "Sign in with <name>", the provider's form, and
// back on the page the user started from; refused answers (tampered state, a wrong audience, an expired
// token, a replayed code) and a provider that is down end on a clear page with nobody signed in, while
// the admin's password login still works; login.password.enabled = false folds the password form away.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PW } from '../../bench/lib/api.js';
import { ssoOf } from '../../src/sso/index.js';
import { SKIP, axe, ensureConsoleBuilt, launch, logIn, shot } from '../web/browser.js';
import { ADMIN, USERS, startSso, type SsoRig } from './helpers.js';

describe('console SSO login in Chromium', { skip: SKIP }, () => {
  let rig: SsoRig;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const fresh = async (): Promise<Page> => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    contexts.push(ctx);
    return ctx.newPage();
  };
  /** From the console's login page on `path` through the provider's form; returns the callback URL seen. */
  const viaProvider = async (page: Page, path: string, user = 'alice'): Promise<string> => {
    let callback = '';
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/sso/callback')) callback = r.url();
    });
    await page.goto(rig.srv.base + path);
    await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
    await page.getByLabel('Provider username').fill(user);
    await page.getByLabel('Provider password').fill(USERS[user].password);
    await page.getByRole('button', { name: 'Sign in at provider' }).click();
    await page.waitForURL((u) => u.origin === rig.srv.base && !u.pathname.startsWith('/api/v1/sso/login'));
    return callback;
  };

  before(async () => {
    ensureConsoleBuilt();
    rig = await startSso('sqlite');
    browser = await launch();
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await rig?.stop();
  });

  test('Sign in with the provider lands signed in on the page the user started from; the code cannot be replayed', async () => {
    const page = await fresh();
    await page.goto(rig.srv.base + '/sessions');
    await page.getByRole('link', { name: 'Sign in with Test IdP' }).waitFor();
    assert.deepEqual(await axe(page), []);
    await shot(page, 'sso-login-page');
    const cb = await viaProvider(page, '/sessions');
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/sessions');
    assert.ok(cb.includes('code='), cb);
    const other = await fresh();
    await other.goto(cb);
    await other.getByRole('heading', { name: 'Sign-in refused' }).waitFor();
    assert.match(await other.content(), /already used or expired/);
    await other.goto(rig.srv.base + '/');
    await other.getByRole('link', { name: 'Sign in with Test IdP' }).waitFor();
  });

  test('a tampered state, a wrong audience and an expired token end on the refusal page, signed out', async () => {
    // Playwright cannot rewrite a redirect's target, so the provider's answer is fetched and the state changed.
    const cb = new URL((await rig.callbackFor('alice')).url);
    cb.searchParams.set('state', 'x' + (cb.searchParams.get('state') ?? '').slice(1));
    const page = await fresh();
    await page.goto(cb.href);
    await page.getByRole('heading', { name: 'Sign-in refused' }).waitFor();
    const now = () => Math.floor(Date.now() / 1000);
    for (const tamper of [
      (c: Record<string, unknown>) => ({ ...c, aud: 'another-client' }),
      (c: Record<string, unknown>) => ({ ...c, exp: now() - 120 }),
    ]) {
      rig.idp.tamper = tamper;
      try {
        const p = await fresh();
        await viaProvider(p, '/');
        await p.getByRole('heading', { name: 'Sign-in refused' }).waitFor();
        await p.goto(rig.srv.base + '/');
        await p.getByRole('link', { name: 'Sign in with Test IdP' }).waitFor();
        assert.equal(await p.getByRole('button', { name: 'Log out' }).count(), 0);
      } finally {
        rig.idp.tamper = null;
      }
    }
  });

  test('a provider that is down: a clear page; the admin still logs in with the password', async () => {
    const sso = ssoOf(rig.srv.running.services);
    const issuer = (await sso.view())!.settings.issuer;
    await sso.configure(ADMIN, { issuer: 'http://127.0.0.1:9', timeoutSeconds: 2 });
    try {
      const page = await fresh();
      await page.goto(rig.srv.base + '/');
      await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
      await page.getByRole('heading', { name: 'Sign-in unavailable' }).waitFor();
      await shot(page, 'sso-provider-down');
      await page.getByRole('link', { name: 'Back to the login page' }).click();
      await logIn(page, rig.srv.base, 'admin', PW);
    } finally {
      await sso.configure(ADMIN, { issuer });
    }
  });

  test('password login off: the form is folded behind the break-glass link; the admin unfolds it and logs in', async () => {
    await rig.srv.running.services.admin.setParam(ADMIN, 'login.password.enabled', 'false');
    try {
      const page = await fresh();
      await page.goto(rig.srv.base + '/');
      const fold = page.getByRole('button', { name: 'Break-glass sign-in with a password' });
      await fold.waitFor();
      assert.equal(await page.getByLabel('Password').count(), 0);
      await fold.click();
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel('Password').fill(PW);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('button', { name: 'Log out' }).waitFor();
      await page.goto(rig.srv.base + '/params?tab=sso');
      await page.getByRole('heading', { name: 'Single sign-on' }).waitFor();
      // The heading shows before the saved settings arrive ("Not configured" until then): wait for them.
      await page.waitForFunction('document.body.innerText.includes("Sign in with Test IdP")', undefined, { timeout: 15_000 });
      assert.deepEqual(await axe(page), []);
    } finally {
      await rig.srv.running.services.admin.setParam(ADMIN, 'login.password.enabled', 'true');
    }
  });
});

// Passkeys in the console with Chromium's virtual authenticator (CDP WebAuthn): bob enrols one, logs in
// with it as the second factor, and with approval.decision.requires.passkey on approves alice's waiting
// ssh (which then runs). The assertion the console sent is captured and replayed at the API: refused for
// another request; a fresh one fired 20 times in parallel decides once; an API token is refused.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SSHD_SKIP, startSshd, type Sshd } from '../ssh/peers.js';
import { ADMIN, startGateway, type Gw } from '../ssh/gateway.js';
import { freePort } from '../mail/helpers.js';
import { SKIP, axe, ensureConsoleBuilt, logIn, shot } from '../web/browser.js';
import { launchForPasskeys, virtualAuthenticator } from './chromium.js';

const PARAM = 'approval.decision.requires.passkey';
const BOB = 'bob-S3cret-pass';

describe('console passkeys with a virtual authenticator and a real ssh', { skip: SKIP || SSHD_SKIP }, () => {
  let sshd: Sshd;
  let gw: Gw;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  let base: string;
  let csrf = '';
  let captured: unknown;

  const waitingIds = async (n: number) => {
    for (let i = 0; i < 200; i++) {
      const rs = await gw.s.store.listRequests({ status: 'waiting', limit: 10 });
      if (rs.length >= n) return rs.map((r) => r.id);
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error('no waiting request appeared');
  };
  /** bob's console session, from Node: the cookie the browser holds and the CSRF token it sent. */
  const asBob = async (method: string, path: string, body?: unknown) => {
    const cookie = (await ctx.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { cookie, 'x-csrf-token': csrf, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: res.status,
      json: (await res.json().catch(() => null)) as { error?: { code: string; message: string } } & Record<string, unknown>,
    };
  };
  /** A fresh assertion from the virtual authenticator for `action` on request `id` (options from the API). */
  const freshAssertion = async (id: number, action: string) => {
    const opts = await asBob('POST', `/approvals/${id}/passkey-options`, { action });
    assert.equal(opts.status, 200, JSON.stringify(opts.json));
    // A string runs in the page as is (the test's TypeScript has no DOM types).
    return page.evaluate(`(async (o) => {
      const bin = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4)), (c) => c.charCodeAt(0));
      const b64 = (b) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
      const c = await navigator.credentials.get({ publicKey: { challenge: bin(o.challenge), rpId: o.rpId, userVerification: 'required',
        allowCredentials: o.allowCredentials.map((a) => ({ type: 'public-key', id: bin(a.id) })) } });
      const r = c.response;
      return { id: c.id, rawId: b64(c.rawId), type: c.type, clientExtensionResults: {},
        response: { clientDataJSON: b64(r.clientDataJSON), authenticatorData: b64(r.authenticatorData), signature: b64(r.signature) } };
    })(${JSON.stringify(opts.json)})`);
  };

  before(async () => {
    ensureConsoleBuilt();
    sshd = await startSshd();
    // WebAuthn needs a domain as the relying party (not an IP): the console is reached as localhost.
    const port = await freePort();
    gw = await startGateway(sshd, { env: { GATEHOUSE_WEB_PORT: String(port), GATEHOUSE_PUBLIC_URL: `http://localhost:${port}` } });
    base = `http://localhost:${port}`;
    await gw.s.admin.grantAccess(ADMIN, 'ops', 'db', 'ssh,sftp');
    browser = await launchForPasskeys();
    ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await ctx.newPage();
    await virtualAuthenticator(ctx, page);
    page.on('request', (r) => {
      const h = r.headers()['x-csrf-token'];
      if (h) csrf = h;
    });
  });
  after(async () => {
    await ctx?.close().catch(() => {});
    await browser?.close();
    await gw?.stop();
    await sshd?.stop();
  });

  const logInWithPassword = async () => {
    await page.goto(base + '/');
    await page.getByLabel('Username').fill('bob');
    await page.getByLabel('Password').fill(BOB);
    await page.getByRole('button', { name: 'Log in' }).click();
  };

  test('enrol a passkey on the Passkeys page', async () => {
    await logInWithPassword();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await page.goto(`${base}/passkeys`);
    await page.getByRole('heading', { level: 1, name: 'Passkeys' }).waitFor();
    await page.getByLabel('Passkey name (which device or key)').fill('bob-laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByRole('cell', { name: 'bob-laptop', exact: true }).waitFor();
    const bob = (await gw.s.policy.current()).usersByName.get('bob')!;
    const mine = await gw.s.passkeys.list(bob.id);
    assert.deepEqual(
      mine.map((p) => p.name),
      ['bob-laptop'],
    );
    const [rec] = await gw.s.adminStore.listAudit({ limit: 1, action: 'passkey.enrolled' });
    assert.equal(rec.actor, 'bob');
    await shot(page, 'passkeys-enrolled');
  });

  test('an admin sees who has a passkey (axe-clean page)', async () => {
    // axe is injected inline, so this context bypasses the CSP; bob's context keeps it enforced.
    const c = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    try {
      const admin = await c.newPage();
      await logIn(admin, base, 'admin', 'admin-pass-123');
      await admin.goto(`${base}/passkeys`);
      const holders = admin.getByRole('region', { name: 'Users with a passkey' });
      await holders.getByRole('cell', { name: 'bob', exact: true }).waitFor();
      assert.deepEqual(await axe(admin), [], 'axe: no serious or critical violations');
    } finally {
      await c.close();
    }
  });

  test('log in with the passkey as the second factor', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await logInWithPassword();
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    const [rec] = await gw.s.adminStore.listAudit({ limit: 1, action: 'auth.login' });
    assert.equal(rec.actor, 'bob');
    assert.equal(rec.details.secondFactor, 'passkey');
    assert.equal((rec.details.passkey as { name: string }).name, 'bob-laptop');
  });

  test("with the parameter on, bob approves with his passkey and alice's ssh goes through", async () => {
    await gw.s.admin.setParam(ADMIN, PARAM, 'true');
    await page.goto(`${base}/approval-requests`);
    await page.getByRole('heading', { level: 1, name: 'Approval Requests' }).waitFor();
    const ssh = gw.ssh('alice@web01', ['echo connected-with-passkey'], { timeoutMs: 60_000 });
    const [id] = await waitingIds(1);
    const row = page.locator(`[data-id="${id}"]`);
    await row.waitFor({ timeout: 10_000 });
    const sent = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith(`/api/v1/approvals/${id}/approve`));
    await row.getByRole('button', { name: `Approve request ${id}` }).click();
    captured = (await sent).postDataJSON().passkey;
    assert.ok(captured, 'the console sent an assertion');
    await ssh.waitFor(/connected-with-passkey/, 20_000);
    const r = await ssh.done;
    assert.equal(r.code, 0, r.stderr);
    const [rec] = await gw.s.adminStore.listAudit({ limit: 1, action: 'approval.approve', targetType: 'approval', targetId: String(id) });
    assert.equal(rec.channel, 'web');
    assert.equal((rec.details.passkey as { name: string }).name, 'bob-laptop');
  });

  test('the captured assertion replayed: refused for another request and for the same one', async () => {
    const res = await gw.s.approvals.request({ username: 'alice', device: 'db01', protocol: 'ssh', channel: 'cli', reason: 'second' });
    assert.equal(res.outcome, 'waiting');
    const b = res.outcome === 'waiting' ? res.request.id : 0;
    const other = await asBob('POST', `/approvals/${b}/approve`, { passkey: captured });
    assert.equal(other.status, 403);
    assert.equal(other.json.error?.code, 'passkey_required');
    assert.match(other.json.error?.message ?? '', /approval\.decision\.requires\.passkey is on/);
    const none = await asBob('POST', `/approvals/${b}/approve`, {});
    assert.equal(none.status, 403);
    assert.equal((await gw.s.approvals.get(b))!.status, 'waiting');
  });

  test('a fresh assertion: refused for reject when made for approve; 20 parallel replays decide once', async () => {
    const [b] = await waitingIds(1);
    const one = await freshAssertion(b, 'approve');
    const reject = await asBob('POST', `/approvals/${b}/reject`, { comment: 'no', passkey: one });
    assert.equal(reject.status, 403);
    assert.match(reject.json.error?.message ?? '', /another action or request/);
    const all = await Promise.all(Array.from({ length: 20 }, () => asBob('POST', `/approvals/${b}/approve`, { passkey: one })));
    const statuses = all.map((a) => a.status);
    assert.equal(statuses.filter((x) => x === 200).length, 1, statuses.join(','));
    for (const a of all) if (a.status !== 200) assert.equal(a.json.error?.code, 'passkey_required');
    assert.equal((await gw.s.approvals.get(b))!.status, 'approved');
  });

  test('an API token cannot decide: refused with a message naming the parameter', async () => {
    const tok = await asBob('POST', '/tokens', { name: 'script' });
    assert.equal(tok.status, 201, JSON.stringify(tok.json));
    const res = await gw.s.approvals.request({ username: 'alice', device: 'db01', protocol: 'sftp', channel: 'cli', reason: 'third' });
    assert.equal(res.outcome, 'waiting');
    const c = res.outcome === 'waiting' ? res.request.id : 0;
    const r = await fetch(`${base}/api/v1/approvals/${c}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tok.json.token as string}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(r.status, 403);
    const body = (await r.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'passkey_required');
    assert.match(body.error.message, /approval\.decision\.requires\.passkey is on: .*an API token/);
    assert.equal((await gw.s.approvals.get(c))!.status, 'waiting');
  });
});

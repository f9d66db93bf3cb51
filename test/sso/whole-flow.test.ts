// The whole flow with real peers: alice signs in to SSH through the printed link, in Chromium through the
// OpenID Provider (oidc-provider), her stock ssh (in tmux) then waits for approval, and bob approves in
// the console with his passkey (Chromium's virtual authenticator) while approval.decision.requires.passkey
// is on. The command runs on the device.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { login } from '../../bench/lib/api.js';
import { freePort } from '../../bench/lib/net.js';
import { startOidc, type OidcPeer } from '../../bench/lib/oidc.js';
import { ssoOf } from '../../src/sso/index.js';
import { SSHD_SKIP, startSshd, type Sshd } from '../ssh/peers.js';
import { ADMIN, startGateway, type Gw } from '../ssh/gateway.js';
import { TMUX_SKIP, Tmux } from '../ssh/tmux.js';
import { SKIP, ensureConsoleBuilt, shot } from '../web/browser.js';
import { launchForPasskeys, virtualAuthenticator } from '../passkeys/chromium.js';
import { USERS } from './helpers.js';

const LINK = /Open (http:\/\/\S+\/sso\/ssh\/[A-Z]{4}-[A-Z]{4}) to sign in, then press Enter/;

describe('whole flow: SSO user over ssh, approved with a passkey in the console', { skip: SKIP || SSHD_SKIP || TMUX_SKIP }, () => {
  let sshd: Sshd;
  let gw: Gw;
  let idp: OidcPeer;
  let browser: Browser;
  let base: string;
  const contexts: BrowserContext[] = [];
  let term: Tmux | undefined;

  const context = async (): Promise<{ ctx: BrowserContext; page: Page }> => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(ctx);
    return { ctx, page: await ctx.newPage() };
  };

  before(async () => {
    ensureConsoleBuilt();
    sshd = await startSshd();
    // WebAuthn needs a domain as the relying party: the console is reached as localhost.
    const port = await freePort();
    base = `http://localhost:${port}`;
    gw = await startGateway(sshd, { env: { GATEHOUSE_WEB_PORT: String(port), GATEHOUSE_PUBLIC_URL: base } });
    idp = await startOidc(`${base}/api/v1/sso/callback`, USERS);
    await ssoOf(gw.s).configure(ADMIN, { issuer: idp.issuer, clientId: idp.clientId, name: 'Test IdP' }, idp.clientSecret);
    const admin = await login(`http://127.0.0.1:${port}`, 'admin', 'admin-pass-123');
    assert.equal((await admin.put('/api/v1/ssh-sso/groups/ops', { method: 'sso' })).status, 200);
    browser = await launchForPasskeys();
  });
  after(async () => {
    term?.kill();
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await idp?.stop();
    await gw?.stop();
    await sshd?.stop();
  });

  test('link → provider → ssh waits → passkey approval in the console → the command runs', { timeout: 240_000 }, async () => {
    // bob enrols a passkey, then the parameter is turned on.
    const bob = await context();
    await virtualAuthenticator(bob.ctx, bob.page);
    await bob.page.goto(base + '/');
    await bob.page.getByLabel('Username').fill('bob');
    await bob.page.getByLabel('Password').fill('bob-S3cret-pass');
    await bob.page.getByRole('button', { name: 'Log in' }).click();
    await bob.page.getByRole('button', { name: 'Log out' }).waitFor();
    await bob.page.goto(`${base}/passkeys`);
    await bob.page.getByLabel('Passkey name (which device or key)').fill('bob-phone');
    await bob.page.getByRole('button', { name: 'Add a passkey' }).click();
    await bob.page.getByRole('cell', { name: 'bob-phone', exact: true }).waitFor();
    await gw.s.admin.setParam(ADMIN, 'approval.decision.requires.passkey', 'true');

    // alice's stock ssh prints the link; she signs in at the provider and confirms.
    term = new Tmux();
    const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    const args = ['-p', String(gw.port), ...gw.opts(['-o', 'BatchMode=no']), 'alice@web01@127.0.0.1', 'echo whole-flow-$((40+2))'];
    term.start(`ssh ${args.map(q).join(' ')}; echo "[ssh exited $?]"`, 220, 40);
    const url = LINK.exec(await term.waitFor(LINK))![1];
    const alice = await context();
    await alice.page.goto(url);
    await alice.page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
    await alice.page.getByLabel('Provider username').fill('alice');
    await alice.page.getByLabel('Provider password').fill(USERS.alice.password);
    await alice.page.getByRole('button', { name: 'Sign in at provider' }).click();
    await alice.page.getByRole('button', { name: 'Sign in to SSH' }).click();
    await alice.page.getByText('Signed in. Go back to your terminal and press Enter.').waitFor();
    const [sso] = await gw.s.adminStore.listAudit({ limit: 1, action: 'auth.login' });
    assert.equal(sso.actor, 'alice');
    assert.equal(sso.details.method, 'sso');
    term.keys('Enter');

    // The ssh waits for approval; bob approves from the inbox with his passkey.
    const id = Number(/Request #(\d+)/.exec(await term.waitFor(/Request #\d+/))![1]);
    await bob.page.goto(`${base}/approval-requests`);
    const row = bob.page.locator(`[data-id="${id}"]`);
    await row.getByRole('button', { name: `Approve request ${id}` }).click();
    await term.waitFor(/whole-flow-42/);
    await term.waitFor(/\[ssh exited 0\]/);
    await shot(bob.page, 'whole-flow-approved');
    const [rec] = await gw.s.adminStore.listAudit({ limit: 1, action: 'approval.approve', targetType: 'approval', targetId: String(id) });
    assert.equal(rec.actor, 'bob');
    assert.equal((rec.details.passkey as { name: string }).name, 'bob-phone');
    const [used] = await gw.s.adminStore.listAudit({ limit: 1, action: 'ssh.sso.used' });
    assert.equal(used.actor, 'alice');
  });
});

// The console in a real browser: an admin turns on managerial approval in the user-group wizard, a
// user's connection waits, the manager sees it appear live and approves (then rejects) with a comment,
// and My Approvals shows the outcome with the Approver Manager. Screenshots and axe-core on every
// main page, at 1280 px and phone width; keyboard-only login and decisions.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { generate } from 'otplib';
import { directoryOf } from '../../src/directory/index.js';
import { seedOrg } from '../helpers/services.js';
import { PW, startServer, type Server } from '../api/helpers.js';
import { SKIP, axe, ensureConsoleBuilt, launch, shot, logIn } from './browser.js';
import { CONSOLE_PATHS } from '../../src/api/console-fallback.js';

test("the server's console fallback covers every path in the console's routes", () => {
  const routes = readFileSync(new URL('../../web/src/routes.tsx', import.meta.url), 'utf8');
  const firsts = new Set([...routes.matchAll(/page\('([a-z-]+)[/']/g)].map((m) => m[1]));
  assert.ok(firsts.size >= 10, [...firsts].join(' '));
  assert.deepEqual([...firsts].sort(), [...CONSOLE_PATHS].sort());
});

describe('console in Chromium', { skip: SKIP }, () => {
  let srv: Server;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  const open = async (username: string, viewport = { width: 1280, height: 900 }): Promise<Page> => {
    const ctx = await browser.newContext({ viewport, bypassCSP: true, timezoneId: 'America/New_York', locale: 'en-US' });
    contexts.push(ctx);
    const page = await ctx.newPage();
    await logIn(page, srv.base, username, PW);
    return page;
  };
  const go = async (page: Page, path: string, heading: string) => {
    await page.goto(srv.base + path);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  };
  const request = async (reason: string) => {
    const r = await srv.running.services.approvals.request({ username: 'alice', device: 'web01', protocol: 'ssh', reason, channel: 'ssh' });
    assert.equal(r.outcome, 'waiting');
    return r.outcome === 'waiting' ? r.request.id : 0;
  };

  before(async () => {
    ensureConsoleBuilt();
    srv = await startServer('sqlite', {}, { seed: false });
    await seedOrg(srv.running.services, { opsApproval: false });
    browser = await launch();
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await srv?.stop();
  });

  test('admin turns on managerial approval in the wizard; the manager approves live with a comment; My Approvals shows it', async () => {
    const admin = await open('admin');
    await go(admin, '/users/groups', 'User Groups');
    await admin.getByRole('button', { name: 'Action for group ops' }).click();
    await admin.getByRole('menuitem', { name: 'Edit Group' }).click();
    await admin.getByRole('button', { name: 'Next' }).click();
    await admin.getByRole('button', { name: 'Next' }).click();
    await admin.getByRole('heading', { name: 'Require Connection Approval' }).waitFor();
    const toggle = admin.getByLabel('Required Managerial Approval from the Group Manager');
    assert.equal(await toggle.isChecked(), false);
    await toggle.check();
    await shot(admin, 'user-group-wizard');
    await admin.getByRole('button', { name: 'Save' }).click();
    await admin.getByRole('cell', { name: 'Required' }).waitFor();
    const p = await srv.running.services.policy.current();
    assert.equal(p.userGroupsByName.get('ops')!.requireApproval, true);
    assert.equal((await srv.running.services.approvals.decide('alice', 'web01', 'ssh')).outcome, 'approval-required');

    const bob = await open('bob');
    await go(bob, '/approval-requests', 'Approval Requests');
    await bob.getByText('Nothing waits for you.').waitFor();
    const id = await request('deploy 42');
    // Appears without reload (SSE).
    const row = bob.locator(`[data-id="${id}"]`);
    await row.waitFor({ timeout: 5000 });
    assert.match(await row.innerText(), /alice[\s\S]*web01[\s\S]*deploy 42/);
    await shot(bob, 'approval-requests');
    await row.getByLabel(`Comment on request ${id}`).fill('go ahead');
    await row.getByRole('button', { name: `Approve request ${id}` }).click();
    await row.waitFor({ state: 'detached' });
    const r = await srv.running.services.approvals.get(id);
    assert.deepEqual([r!.status, r!.decisionComment], ['approved', 'go ahead']);
    assert.equal((await srv.running.services.approvals.decide('alice', 'web01', 'ssh')).outcome, 'allowed', 'the connection may start');
    await bob.getByRole('button', { name: 'History' }).click();
    await bob.locator(`[data-id="${id}"]`).getByText('approved').waitFor();

    const alice = await open('alice');
    await go(alice, '/my-approvals', 'My Approvals');
    const mine = alice.locator(`tr[data-id="${id}"]`);
    await mine.getByText('Approved', { exact: true }).waitFor();
    assert.match(await mine.locator('.approver-manager').innerText(), /bob/);
    assert.match(await mine.innerText(), /go ahead/);
    await shot(alice, 'my-approvals');
  });

  test('reject: the manager rejects with a comment and the requester sees it live', async () => {
    // Revoke the earlier grant so a new request is needed.
    const s = srv.running.services;
    const prior = await s.store.listRequests({ status: 'approved', limit: 10 });
    for (const r of prior) await s.approvals.revoke(r.id, 'bob', { channel: 'cli' });
    const alice = await open('alice');
    await go(alice, '/my-approvals', 'My Approvals');
    const bob = await open('bob');
    await go(bob, '/approval-requests', 'Approval Requests');
    const id = await request('hotfix 43');
    const row = bob.locator(`[data-id="${id}"]`);
    await row.waitFor();
    const mine = alice.locator(`tr[data-id="${id}"]`);
    await mine.getByText('Waiting', { exact: true }).waitFor();
    assert.match(await mine.locator('.approver-manager').innerText(), /bob/, 'Approver Manager while waiting');
    await row.getByLabel(`Comment on request ${id}`).fill('not during the freeze');
    await row.getByRole('button', { name: `Reject request ${id}` }).click();
    await mine.getByText('Rejected', { exact: true }).waitFor({ timeout: 5000 });
    assert.match(await mine.innerText(), /not during the freeze/);
    assert.equal((await s.approvals.get(id))!.status, 'rejected');
  });

  test('the requester cancels from My Approvals', async () => {
    const alice = await open('alice');
    await go(alice, '/my-approvals', 'My Approvals');
    const id = await request('try again');
    const mine = alice.locator(`tr[data-id="${id}"]`);
    await mine.waitFor();
    await mine.getByRole('button', { name: `Cancel request ${id}` }).click();
    await mine.getByText('Cancelled', { exact: true }).waitFor();
  });

  test('Connect: the exact ssh command, and request ahead makes a reservation', async () => {
    await srv.running.services.admin.setGroup({ username: 'admin', id: null, channel: 'cli' }, 'user', 'ops', { requireApproval: true });
    const alice = await open('alice');
    await go(alice, '/connect', 'Connect');
    const row = alice.locator('tr[data-id="web01"]');
    const port = srv.running.services.config.sshPort;
    await row.getByText(`ssh -p ${port} alice@web01@127.0.0.1`, { exact: true }).waitFor();
    await row.getByRole('button', { name: 'Request ahead for web01' }).click();
    const start = new Date(Date.now() + 2 * 3600_000);
    const local = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await alice.getByLabel('Start (your time zone)').fill(local(start));
    await alice.getByLabel('End (your time zone)').fill(local(new Date(start.getTime() + 3600_000)));
    await alice.getByLabel('Reason').fill('maintenance window');
    await alice.getByRole('button', { name: 'Request', exact: true }).click();
    const msg = await alice.getByRole('status').filter({ hasText: 'Request #' }).innerText();
    const id = Number(/Request #(\d+) is waiting/.exec(msg)?.[1]);
    const r = await srv.running.services.approvals.get(id);
    assert.deepEqual([r!.kind, r!.status, r!.reason], ['reservation', 'waiting', 'maintenance window']);
    // RDP: the .rdp file once approved (a one-time ticket in loadbalanceinfo).
    const s = srv.running.services;
    const A = { username: 'admin', id: null, channel: 'cli' as const };
    await s.admin.addDevice(A, { name: 'win01', host: '127.0.0.1', protocols: 'rdp', group: 'linux' });
    await s.admin.addAccount(A, 'win01', 'Administrator', { password: 'win01-admin-secret' });
    await s.admin.grantAccess(A, 'ops', 'linux', 'ssh,sftp,rdp');
    await alice.reload();
    const get = alice.getByRole('button', { name: 'Get the .rdp file for win01' });
    await get.click();
    const waits = await alice.getByRole('status').filter({ hasText: 'waits for' }).innerText();
    const rdpId = Number(/Request #(\d+)/.exec(waits)?.[1]);
    await s.approvals.approve(rdpId, 'bob', { channel: 'cli' });
    const [download] = await Promise.all([alice.waitForEvent('download'), get.click()]);
    assert.equal(download.suggestedFilename(), 'win01.rdp');
    const file = readFileSync((await download.path())!, 'utf8');
    assert.match(file, /full address:s:/);
    assert.match(file, /loadbalanceinfo:s:gh1\./);
    assert.ok(!file.includes('win01-admin-secret'));
  });

  test("a device's page shows its pinned SSH host key; account secrets are write-only", async () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGg0c3Rrw2V5Zm9ydGhlY29uc29sZXRlc3QwMTIzNDU2';
    await srv.running.services.admin.setDevice({ username: 'admin', id: null, channel: 'cli' }, 'web01', { hostKey: key });
    const admin = await open('admin');
    await go(admin, '/devices/inventory/web01', 'Device web01');
    await admin.getByText(key).waitFor();
    const form = admin.getByRole('form', { name: 'Add or replace an account' });
    await form.getByLabel('Account name').fill('deploy');
    await form.getByLabel('Password', { exact: true }).fill('deploy-secret-value');
    await form.getByRole('button', { name: 'Save account' }).click();
    await admin.getByRole('cell', { name: 'deploy', exact: true }).waitFor();
    assert.ok(!(await admin.content()).includes('deploy-secret-value'));
    assert.ok(!(await admin.content()).includes('web01-root-secret'));
  });

  test('a group that requires a second factor: enrolment with a QR code at console login, then the code', async () => {
    const s = srv.running.services;
    const dba = (await s.policy.current()).userGroupsByName.get('dba')!;
    await directoryOf(s).directory.store.setSecondFactorGroup(dba.id, true, s.clock.now());
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(ctx);
    const page = await ctx.newPage();
    await page.goto(srv.base + '/');
    await page.getByLabel('Username').fill('frank');
    await page.getByLabel('Password').fill(PW);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('img', { name: 'QR code for the authenticator app' }).waitFor();
    const secret = (await page.locator('code.wrap').innerText()).trim();
    const code = page.getByLabel('Code from your authenticator app (or a recovery code)');
    await code.fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByText('wrong code').waitFor();
    await code.fill(await generate({ secret }));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Recovery codes' }).waitFor();
    await shot(page, 'second-factor-recovery-codes');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Username').fill('frank');
    await page.getByLabel('Password').fill(PW);
    await page.getByRole('button', { name: 'Log in' }).click();
    await code.waitFor();
    assert.equal(await page.getByRole('img', { name: 'QR code for the authenticator app' }).count(), 0, 'enrolled: only the code is asked');
    await directoryOf(s).directory.store.setSecondFactorGroup(dba.id, false, s.clock.now());
  });

  test('server validation errors show next to their field', async () => {
    const admin = await open('admin');
    await go(admin, '/users', 'Users');
    await admin.getByRole('button', { name: 'Add user' }).click();
    await admin.getByLabel('Username', { exact: true }).fill('newbie');
    await admin.getByLabel('Email').fill('not-an-email');
    await admin.getByLabel('Password', { exact: true }).fill('longenough');
    await admin.getByRole('button', { name: 'Save' }).click();
    const email = admin.getByLabel('Email');
    await admin.getByText('Email must be an email address').waitFor();
    assert.equal(await email.getAttribute('aria-invalid'), 'true');
    const described = await email.getAttribute('aria-describedby');
    assert.match(await admin.locator(`[id="${described!.split(' ').pop()}"]`).innerText(), /must be an email address/);
    await go(admin, '/params', 'System Parameters');
    const field = admin.getByLabel('Value of approval.reason.min.length');
    await field.fill('0');
    await admin.getByRole('button', { name: 'Save approval.reason.min.length' }).click();
    await admin.getByText('0 is out of range: enter a whole number from 1 to 1000').waitFor();
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
  });

  test('keyboard only: log in, skip to content, reach the navigation, approve a request', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(ctx);
    const page = await ctx.newPage();
    await page.goto(srv.base + '/');
    await page.getByLabel('Username').waitFor();
    await page.keyboard.press('Tab');
    await page.keyboard.type('bob');
    await page.keyboard.press('Tab');
    await page.keyboard.type(PW);
    await page.keyboard.press('Enter');
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate<string | undefined>('document.activeElement?.textContent'), 'Skip to content');
    const labels: string[] = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      labels.push((await page.evaluate<string>("document.activeElement?.textContent ?? ''")) || '');
    }
    for (const l of ['My Approvals', 'Approval Requests', 'Connect', 'Sessions'])
      assert.ok(labels.includes(l), `Tab reaches ${l}: ${labels.join(' | ')}`);
    await page.goto(`${srv.base}/#/approval-requests`);
    const id = await request('keyboard');
    const comment = page.getByLabel(`Comment on request ${id}`);
    await comment.waitFor();
    await comment.focus();
    await page.keyboard.type('typed');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate<string | null>("document.activeElement?.getAttribute('aria-label')"), `Approve request ${id}`);
    await page.keyboard.press('Enter');
    await page.locator(`article[data-id="${id}"]`).waitFor({ state: 'detached' });
    assert.equal((await srv.running.services.approvals.get(id))!.decisionComment, 'typed');
  });

  test('deep links: a page and its tab load from the URL, survive a reload, and Back steps through them', async () => {
    // The console's paths answer index.html; the API, assets and unknown paths keep their JSON 404.
    for (const path of ['/approval-requests', '/devices/inventory/web01', '/users/groups', '/sessions?state=past']) {
      const r = await fetch(srv.base + path);
      assert.equal(r.status, 200, path);
      assert.match(r.headers.get('content-type') ?? '', /^text\/html/, path);
    }
    for (const path of ['/api/v1/nope', '/api/v1/users/nobody/x', '/nope', '/assets/nope.js', '/usersx']) {
      const r = await fetch(srv.base + path);
      assert.equal(r.status, 404, path);
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/, path);
    }
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(ctx);
    const page = await ctx.newPage();
    const path = () => new URL(page.url()).pathname + new URL(page.url()).search;
    const heading = (name: string) => page.getByRole('heading', { level: 1, name }).waitFor();
    // Signed out, the link shows the login form and then the page and tab it named.
    await page.goto(`${srv.base}/approval-requests?tab=decided`);
    await page.getByLabel('Username').fill('bob');
    await page.getByLabel('Password').fill(PW);
    await page.getByRole('button', { name: 'Log in' }).click();
    await heading('Approval Requests');
    await page.getByRole('region', { name: 'Requests I decided' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'History' }).getAttribute('aria-pressed'), 'true');
    await page.getByRole('button', { name: 'Waiting for me' }).click();
    await page.getByRole('region', { name: 'Requests waiting for me' }).waitFor();
    assert.equal(path(), '/approval-requests');
    await page.goBack();
    await page.getByRole('region', { name: 'Requests I decided' }).waitFor();
    assert.equal(path(), '/approval-requests?tab=decided');
    await page.reload();
    await page.getByRole('region', { name: 'Requests I decided' }).waitFor();
    await page.getByRole('link', { name: 'My Approvals' }).click();
    await heading('My Approvals');
    assert.equal(path(), '/my-approvals');
    await page.goBack();
    await heading('Approval Requests');
    assert.equal(path(), '/approval-requests?tab=decided');
    // An old hash link lands on its path.
    await page.goto(`${srv.base}/#/sessions`);
    await heading('Sessions');
    assert.equal(path(), '/sessions');
    assert.equal(await page.getByRole('link', { name: 'Sessions' }).getAttribute('aria-current'), 'page');
    await page.evaluate("location.hash = '#/tokens'");
    await heading('API Tokens');
    assert.equal(path(), '/tokens');

    const admin = await open('admin');
    await go(admin, '/devices/inventory?tab=rules', 'Inventory');
    await admin.getByRole('region', { name: 'Access rules' }).waitFor();
    await admin.getByRole('button', { name: 'Devices', exact: true }).click();
    await admin.getByRole('link', { name: 'web01', exact: true }).click();
    await admin.getByRole('heading', { level: 1, name: 'Device web01' }).waitFor();
    assert.equal(new URL(admin.url()).pathname, '/devices/inventory/web01');
    assert.equal(await admin.getByRole('link', { name: 'Devices › Inventory' }).getAttribute('aria-current'), 'page');
    await admin.goBack();
    await admin.getByRole('region', { name: 'Devices' }).waitFor();
    await admin.goBack();
    await admin.getByRole('region', { name: 'Access rules' }).waitFor();
  });

  const PAGES: [string, string][] = [
    ['/users', 'Users'],
    ['/users/groups', 'User Groups'],
    ['/devices/inventory', 'Inventory'],
    ['/devices/inventory/web01', 'Device web01'],
    ['/workflows', 'Approval Workflows'],
    ['/params', 'System Parameters'],
    ['/my-approvals', 'My Approvals'],
    ['/approval-requests', 'Approval Requests'],
    ['/connect', 'Connect'],
    ['/sessions', 'Sessions'],
    ['/audit', 'Audit Log'],
    ['/tokens', 'API Tokens'],
    ['/passkeys', 'Passkeys'],
  ];

  test('every main page: screenshot at 1280 px and phone width, no serious axe-core violation, no horizontal overflow on a phone', async () => {
    const s = srv.running.services;
    await s.admin.addGroup({ username: 'admin', id: null, channel: 'cli' }, 'user', 'admins', { managers: ['bob'] });
    await s.admin.addMember({ username: 'admin', id: null, channel: 'cli' }, 'admins', 'admin');
    await s.admin.grantAccess({ username: 'admin', id: null, channel: 'cli' }, 'admins', 'linux', 'ssh,sftp');
    await s.admin.addWorkflow({ username: 'admin', id: null, channel: 'cli' }, 'prod-db', 'dba', 'db', [
      'group-manager',
      'group-members:ops,quorum=2,escalate=30',
    ]);
    await s.approvals.request({ username: 'admin', device: 'web01', protocol: 'ssh', reason: 'admin work', channel: 'web' });
    const found: string[] = [];
    for (const [viewport, tag] of [
      [{ width: 1280, height: 900 }, 'desktop'],
      [{ width: 390, height: 844 }, 'phone'],
    ] as const) {
      const page = await open('admin', viewport);
      if (tag === 'phone') {
        assert.equal(
          await page.getByRole('link', { name: 'Users', exact: true }).isVisible(),
          false,
          'the navigation folds away on a phone',
        );
        await page.getByRole('button', { name: 'Menu' }).click();
        assert.equal(await page.getByRole('link', { name: 'Users', exact: true }).isVisible(), true);
      }
      for (const [hash, heading] of PAGES) {
        await go(page, hash, heading);
        await page.waitForTimeout(250);
        await shot(page, `${tag}-${hash.slice(1).replace(/\//g, '-')}`);
        for (const v of await axe(page)) found.push(`${tag} ${hash}: ${v}`);
        if (tag === 'phone') {
          const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
          assert.ok(overflow <= 1, `${hash} overflows a phone screen by ${overflow}px`);
        }
      }
      if (tag === 'desktop') {
        await go(page, '/audit', 'Audit Log');
        const t = page.locator('time').first();
        await t.waitFor();
        assert.match((await t.getAttribute('title'))!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/, 'UTC on hover');
        const iso = (await t.getAttribute('datetime'))!;
        const shown = await t.innerText();
        const expected = new Date(iso).toLocaleString('en-US', { timeZone: 'America/New_York', dateStyle: 'medium', timeStyle: 'short' });
        assert.equal(shown, expected, "shown in the viewer's time zone");
      }
    }
    await shot(await open('alice'), 'desktop-connect-user');
    assert.deepEqual(found, []);
  });
});

// The story end to end with real peers: an admin turns on managerial approval for a user group
// in the console's wizard; alice's real `ssh` through the gateway waits; bob (the group manager) sees
// the request appear live in Approval Requests and approves with a comment; the ssh session starts and
// My Approvals shows `approved` with the Approver Manager. Then the same for reject.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SSHD_SKIP, startSshd, type Sshd } from '../ssh/peers.js';
import { PASSWORD, startGateway, type Gw } from '../ssh/gateway.js';
import { SKIP, ensureConsoleBuilt, launch, shot, logIn } from './browser.js';

const PASSWORDS: Record<string, string> = { admin: 'admin-pass-123', bob: 'bob-S3cret-pass', alice: PASSWORD };

describe('console + real ssh: the manager approves and rejects a waiting connection', { skip: SKIP || SSHD_SKIP }, () => {
  let sshd: Sshd;
  let gw: Gw;
  let browser: Browser;
  let base: string;
  const contexts: BrowserContext[] = [];

  const open = async (username: string): Promise<Page> => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(ctx);
    const page = await ctx.newPage();
    await logIn(page, base, username, PASSWORDS[username]);
    return page;
  };
  const go = async (page: Page, hash: string, heading: string) => {
    await page.goto(`${base}/#${hash}`);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  };
  /** The request alice's waiting ssh created. */
  const waitingId = async () => {
    for (let i = 0; i < 100; i++) {
      const [r] = await gw.s.store.listRequests({ status: 'waiting', limit: 1 });
      if (r) return r.id;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error('no waiting request appeared');
  };

  before(async () => {
    ensureConsoleBuilt();
    sshd = await startSshd();
    gw = await startGateway(sshd, { approval: false });
    base = `http://127.0.0.1:${gw.g.webPort}`;
    browser = await launch();
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await gw?.stop();
    await sshd?.stop();
  });

  test('approve: the ssh session starts; My Approvals shows approved and the Approver Manager', async () => {
    const admin = await open('admin');
    await go(admin, '/users/groups', 'User Groups');
    await admin.getByRole('button', { name: 'Action for group ops' }).click();
    await admin.getByRole('menuitem', { name: 'Edit Group' }).click();
    await admin.getByRole('button', { name: 'Next' }).click();
    await admin.getByRole('button', { name: 'Next' }).click();
    await admin.getByLabel('Required Managerial Approval from the Group Manager').check();
    await admin.getByRole('button', { name: 'Save' }).click();
    await admin.getByRole('cell', { name: 'Required' }).waitFor();

    const bob = await open('bob');
    await go(bob, '/approval-requests', 'Approval Requests');
    await bob.getByText('Nothing waits for you.').waitFor();

    const ssh = gw.ssh('alice@web01', ['echo connected-through-gatehouse'], { timeoutMs: 60_000 });
    const id = await waitingId();
    const row = bob.locator(`[data-id="${id}"]`);
    await row.waitFor({ timeout: 5000 });
    assert.equal(ssh.proc.exitCode, null, 'ssh is still waiting');
    await shot(bob, 'ssh-wait-approval-requests');
    await row.getByLabel(`Comment on request ${id}`).fill('go ahead');
    const t0 = Date.now();
    await row.getByRole('button', { name: `Approve request ${id}` }).click();
    await ssh.waitFor(/connected-through-gatehouse/, 10_000);
    const ms = Date.now() - t0;
    const r = await ssh.done;
    assert.equal(r.code, 0, r.stderr);
    process.stdout.write(`# console approve click -> ssh session output: ${ms} ms\n`);
    assert.ok(ms < 3000, `the waiting ssh learned of the decision in ${ms} ms`);

    const alice = await open('alice');
    await go(alice, '/my-approvals', 'My Approvals');
    const mine = alice.locator(`tr[data-id="${id}"]`);
    await mine.getByText('Approved', { exact: true }).waitFor();
    // One name in every channel: what the waiting ssh printed is what the console shows.
    assert.match(r.stderr, /Approver Manager: Bob Manager \(bob\)/);
    assert.equal((await mine.locator('.approver-manager').innerText()).trim(), 'Bob Manager (bob)');
    assert.match(await mine.innerText(), /go ahead/);
    await shot(alice, 'ssh-wait-my-approvals');
  });

  test('reject: the waiting ssh is refused with the comment; My Approvals shows rejected', async () => {
    for (const r of await gw.s.store.listRequests({ status: 'approved', limit: 10 }))
      await gw.s.approvals.revoke(r.id, 'bob', { channel: 'cli' });
    const alice = await open('alice');
    await go(alice, '/my-approvals', 'My Approvals');
    const bob = await open('bob');
    await go(bob, '/approval-requests', 'Approval Requests');
    const ssh = gw.ssh('alice@web01', ['echo should-not-run'], { timeoutMs: 60_000 });
    const id = await waitingId();
    const mine = alice.locator(`tr[data-id="${id}"]`);
    await mine.getByText('Waiting', { exact: true }).waitFor();
    assert.match(await mine.locator('.approver-manager').innerText(), /bob/);
    const row = bob.locator(`[data-id="${id}"]`);
    await row.waitFor();
    await row.getByLabel(`Comment on request ${id}`).fill('not during the freeze');
    await row.getByRole('button', { name: `Reject request ${id}` }).click();
    const r = await ssh.done;
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stdout, /should-not-run/);
    assert.match(r.stdout + r.stderr, /not during the freeze/);
    await mine.getByText('Rejected', { exact: true }).waitFor({ timeout: 5000 });
  });
});

// The approver's inbox and the request page in Chromium, at a laptop's 1280x800 and a phone's 390x844:
// bob logs in and lands on the inbox, sees the count in the navigation and the tab title, decides
// without scrolling (the decision buttons lie inside the viewport, no sideways scroll) and the card
// confirms "Approved by you · hh:mm"; the request page shows route, history, recent requests and a
// live countdown; keys j/k/a/r; a required Reject comment; axe stays clean.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import type { Protocol } from '../../src/core/types.js';
import { seedOrg } from '../helpers/services.js';
import { PW, login, startServer, type Server } from '../api/helpers.js';
import { SKIP, axe, ensureConsoleBuilt, launch, shot, logIn } from './browser.js';
import { SSHD_SKIP, startSshd, type Sshd } from '../ssh/peers.js';
import { startGateway, type Gw } from '../ssh/gateway.js';

const SIZES = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
];
const ADMIN = { username: 'admin', id: null, channel: 'cli' as const };

describe('approver inbox and request page in Chromium', { skip: SKIP }, () => {
  let srv: Server;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  const open = async (username: string, viewport: { width: number; height: number }, path = '/'): Promise<Page> => {
    const ctx = await browser.newContext({ viewport, locale: 'en-US', bypassCSP: true });
    contexts.push(ctx);
    const page = await ctx.newPage();
    await logIn(page, srv.base, username, PW, path);
    return page;
  };
  const s = () => srv.running.services;
  const ask = async (reason: string, device = 'web01', protocol: Protocol = 'ssh') => {
    const r = await s().approvals.request({ username: 'alice', device, protocol, reason, channel: 'ssh', clientAddr: '203.0.113.7' });
    assert.equal(r.outcome, 'waiting', reason);
    return r.outcome === 'waiting' ? r.request.id : 0;
  };
  /** Nothing waits and nothing is granted: each test starts from an empty inbox. */
  const clear = async () => {
    for (const r of await s().store.listRequests({ status: 'waiting', limit: 100 })) await s().approvals.cancel(r.id, 'alice', 'cli');
    for (const r of await s().store.listRequests({ status: 'approved', limit: 100 }))
      await s().approvals.revoke(r.id, 'bob', { channel: 'cli' });
  };
  const inView = async (page: Page, l: Locator, what: string) => {
    const b = await l.boundingBox();
    const v = page.viewportSize()!;
    assert.ok(b, `${what} is visible`);
    assert.ok(
      b.x >= 0 && b.y >= 0 && b.x + b.width <= v.width && b.y + b.height <= v.height,
      `${what} inside ${v.width}x${v.height}: ${JSON.stringify(b)}`,
    );
  };
  const noSideScroll = async (page: Page) => {
    const [sw, w] = await page.evaluate<[number, number]>('[document.documentElement.scrollWidth, innerWidth]');
    assert.ok(sw <= w, `no horizontal scrolling: ${sw} > ${w}`);
  };
  const axeClean = async (page: Page, name: string) => assert.deepEqual(await axe(page), [], `axe on ${name}`);

  before(async () => {
    ensureConsoleBuilt();
    srv = await startServer('sqlite', {}, { seed: false });
    await seedOrg(srv.running.services, { opsApproval: true });
    browser = await launch();
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await srv?.stop();
  });

  for (const size of SIZES) {
    const tag = `${size.width}x${size.height}`;

    test(`${tag}: bob lands on the inbox with the count, decides without scrolling, the card confirms`, async () => {
      await clear();
      await s().admin.setParam(ADMIN, 'approval.reject.comment.required', 'false');
      const first = await ask('deploy 42');
      const second = await ask('copy the logs', 'web01', 'sftp');
      const bob = await open('bob', size);
      await bob.waitForURL(/\/approval-requests$/);
      await bob.getByRole('heading', { level: 1, name: 'Approval Requests' }).waitFor();
      await bob.waitForFunction('document.title.startsWith("(2) ")');
      const badge = size.width > 760 ? bob.locator('nav .badge') : bob.locator('.menu-toggle .badge');
      assert.match(await badge.innerText(), /^2/);

      const card = bob.locator(`article[data-id="${first}"]`);
      await card.waitFor();
      const text = await card.innerText();
      for (const want of ['alice', 'root', 'web01', 'SSH', 'deploy 42']) assert.ok(text.includes(want), `${want} in ${text}`);
      assert.match(text, /(min|s) .*left|h \d+ min left/);
      const approve = card.getByRole('button', { name: `Approve request ${first}` });
      await inView(bob, approve, 'Approve');
      await inView(bob, card.getByRole('button', { name: `Reject request ${first}` }), 'Reject');
      await noSideScroll(bob);
      await axeClean(bob, `inbox ${tag}`);
      await shot(bob, `inbox-${tag}`);

      await card.getByLabel(`Comment on request ${first}`).fill('go ahead');
      await approve.click();
      const done = bob.locator(`[data-decided="${first}"]`);
      await done.waitFor();
      assert.match(await done.innerText(), /Approved by you · \d{1,2}:\d\d/);
      await card.waitFor({ state: 'detached' });
      await bob.waitForFunction('document.title.startsWith("(1) ")');
      const r = (await s().approvals.get(first))!;
      assert.deepEqual([r.status, r.decisionComment], ['approved', 'go ahead']);

      // A parameter makes the comment required to reject: the card says so and sends nothing without one.
      await s().admin.setParam(ADMIN, 'approval.reject.comment.required', 'true');
      await bob.reload();
      const other = bob.locator(`article[data-id="${second}"]`);
      await other.getByRole('button', { name: `Reject request ${second}` }).click();
      await other.getByRole('alert').getByText('A comment is required to reject').waitFor();
      assert.equal((await s().approvals.get(second))!.status, 'waiting');
      await inView(bob, other.getByRole('button', { name: `Reject request ${second}` }), 'Reject');
      await other.getByLabel(`Comment on request ${second}`).fill('use the log shipper');
      await other.getByRole('button', { name: `Reject request ${second}` }).click();
      assert.match(await bob.locator(`[data-decided="${second}"]`).innerText(), /Rejected by you · \d{1,2}:\d\d/);
      await bob.getByText('Nothing waits for you.').waitFor();
      await bob.waitForFunction('!document.title.startsWith("(")');
      assert.equal(await badge.count(), 0);
      await axeClean(bob, `inbox after decisions ${tag}`);
    });

    test(`${tag}: the request page shows route, history, recent requests and a live countdown; one action`, async () => {
      await clear();
      await s().admin.setParam(ADMIN, 'approval.reject.comment.required', 'false');
      const old = await ask('earlier try');
      await s().approvals.reject(old, 'bob', { channel: 'cli', comment: 'not now' });
      const id = await ask('rotate keys');
      const bob = await open('bob', size, `/approvals/${id}`);
      await bob.getByRole('heading', { level: 1, name: `Approval request #${id}` }).waitFor();
      const approve = bob.getByRole('button', { name: `Approve request ${id}` });
      await inView(bob, approve, 'Approve on the request page');
      await noSideScroll(bob);
      const page = await bob.locator('main').innerText();
      for (const want of ['203.0.113.7', 'rotate keys', 'Level 1', 'May approve: bob', 'requested by alice'])
        assert.ok(page.includes(want), `${want} on the page`);
      const recent = bob.getByRole('region', { name: "alice's recent requests for web01" });
      await recent.getByText(`#${old}`).waitFor();
      assert.match(await recent.innerText(), /rejected[\s\S]*not now/i);
      const cd = bob.locator('.countdown');
      const t0 = await cd.innerText();
      await bob.waitForFunction(`document.querySelector('.countdown')?.textContent !== ${JSON.stringify(t0)}`, undefined, {
        timeout: 5000,
      });
      await axeClean(bob, `request page ${tag}`);
      await shot(bob, `request-page-${tag}`);
      await bob.keyboard.press('a');
      await bob.getByText(/Approved by you · \d{1,2}:\d\d/).waitFor();
      assert.equal((await s().approvals.get(id))!.status, 'approved');
      await bob.getByRole('region', { name: 'History' }).getByText('level 1 approved by bob').waitFor();
      assert.equal(await approve.count(), 0, 'no second decision');
    });
  }

  test('keys in the inbox: j / k move, a approves, r rejects', async () => {
    await clear();
    const ids = [await ask('one'), await ask('two', 'web01', 'sftp'), await ask('three', 'db01')];
    const bob = await open('bob', SIZES[0], '/approval-requests');
    const card = (id: number) => bob.locator(`article[data-id="${id}"]`);
    await card(ids[2]).waitFor();
    // Newest first: three, two, one.
    const current = async () => bob.locator('article[aria-current="true"]').getAttribute('data-id');
    assert.equal(await current(), String(ids[2]));
    await bob.keyboard.press('j');
    assert.equal(await current(), String(ids[1]));
    await bob.keyboard.press('j');
    await bob.keyboard.press('k');
    assert.equal(await current(), String(ids[1]));
    await bob.keyboard.press('a');
    await bob
      .locator(`[data-decided="${ids[1]}"]`)
      .getByText(/Approved by you/)
      .waitFor();
    await card(ids[1]).waitFor({ state: 'detached' });
    await bob.keyboard.press('r');
    await bob
      .locator(`[data-decided]`)
      .getByText(/Rejected by you/)
      .waitFor();
    const statuses = await Promise.all(ids.map(async (id) => (await s().approvals.get(id))!.status));
    assert.equal(statuses.filter((x) => x === 'waiting').length, 1, statuses.join(' '));
    assert.deepEqual(statuses.filter((x) => x !== 'waiting').sort(), ['approved', 'rejected']);
    // Typing a comment never triggers a key.
    const left = ids.find((_, i) => statuses[i] === 'waiting')!;
    await card(left).getByLabel(`Comment on request ${left}`).fill('ja');
    assert.equal((await s().approvals.get(left))!.status, 'waiting');
  });

  test('notifications: asked only on the button; a new request is announced once allowed', async () => {
    await clear();
    const bob = await open('bob', SIZES[0], '/approval-requests');
    await bob.getByText('Nothing waits for you.').waitFor();
    assert.equal(await bob.evaluate<string>('Notification.permission'), 'default', 'never prompted on its own');
    const ctx = await browser.newContext({ viewport: SIZES[0], permissions: ['notifications'], bypassCSP: true });
    contexts.push(ctx);
    await ctx.addInitScript(
      'window.__notes = []; const N = window.Notification; window.Notification = class extends N { constructor(t, o) { super(t, o); window.__notes.push(t); } };',
    );
    const page = await ctx.newPage();
    await page.goto(srv.base + '/approval-requests');
    await page.getByLabel('Username').fill('bob');
    await page.getByLabel('Password').fill(PW);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('Browser notifications on').waitFor();
    const id = await ask('page me');
    await page.waitForFunction(`window.__notes.length > 0`, undefined, { timeout: 5000 });
    assert.match((await page.evaluate<string[]>('window.__notes'))[0], new RegExp(`#${id} from alice`));
  });
  test('API: GET /approvals/:id carries recent requests; Reject needs a comment when the parameter says so', async () => {
    await clear();
    await s().admin.setParam(ADMIN, 'approval.reject.comment.required', 'true');
    const id = await ask('api check');
    const bob = await login(srv.base, 'bob');
    const one = await bob.get(`/api/v1/approvals/${id}`);
    assert.equal(one.status, 200, one.text);
    assert.equal(one.body.clientAddress, '203.0.113.7');
    assert.equal(one.body.rejectCommentRequired, true);
    assert.ok(Array.isArray(one.body.recent) && one.body.recent.length > 0, one.text);
    assert.ok(one.body.recent.every((x: { id: number; status: string }) => x.id !== id && typeof x.status === 'string'));
    const bare = await bob.post(`/api/v1/approvals/${id}/reject`, {});
    assert.equal(bare.status, 400, bare.text);
    assert.equal(bare.body.error.field, 'comment');
    assert.equal((await s().approvals.get(id))!.status, 'waiting');
    assert.equal((await bob.post(`/api/v1/approvals/${id}/reject`, { comment: 'no' })).status, 200);
    // Someone who may not see the request still gets 403, as before.
    const dave = await login(srv.base, 'dave');
    assert.equal((await dave.get(`/api/v1/approvals/${id}`)).status, 403);
    await s().admin.setParam(ADMIN, 'approval.reject.comment.required', 'false');
  });
});

// The "done when": with a real ssh client waiting, bob logs in, sees the badge, decides from
// the inbox without scrolling at both sizes, and alice's session goes through.
describe('the whole flow with a real ssh client waiting', { skip: SKIP || SSHD_SKIP }, () => {
  let sshd: Sshd;
  let gw: Gw;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  before(async () => {
    ensureConsoleBuilt();
    sshd = await startSshd();
    gw = await startGateway(sshd, { approval: true });
    browser = await launch();
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await gw?.stop();
    await sshd?.stop();
  });

  for (const size of SIZES)
    test(`${size.width}x${size.height}: badge, one click in the inbox, the ssh session runs`, async () => {
      for (const r of await gw.s.store.listRequests({ status: 'approved', limit: 10 }))
        await gw.s.approvals.revoke(r.id, 'bob', { channel: 'cli' });
      const ssh = gw.ssh('alice@web01', ['echo through-the-inbox'], { timeoutMs: 60_000 });
      let id = 0;
      for (let i = 0; i < 200 && !id; i++) {
        id = (await gw.s.store.listRequests({ status: 'waiting', limit: 1 }))[0]?.id ?? 0;
        if (!id) await new Promise((res) => setTimeout(res, 50));
      }
      assert.ok(id, 'the waiting ssh made a request');
      const ctx = await browser.newContext({ viewport: size, bypassCSP: true });
      contexts.push(ctx);
      const bob = await ctx.newPage();
      await bob.goto(`http://127.0.0.1:${gw.g.webPort}/`);
      await bob.getByLabel('Username').fill('bob');
      await bob.getByLabel('Password').fill('bob-S3cret-pass');
      await bob.getByRole('button', { name: 'Log in' }).click();
      await bob.waitForURL(/\/approval-requests$/);
      await bob.waitForFunction('document.title.startsWith("(1) ")');
      const approve = bob.locator(`article[data-id="${id}"]`).getByRole('button', { name: `Approve request ${id}` });
      await approve.waitFor();
      const b = (await approve.boundingBox())!;
      assert.ok(b.x >= 0 && b.y >= 0 && b.x + b.width <= size.width && b.y + b.height <= size.height, JSON.stringify(b));
      assert.equal(ssh.proc.exitCode, null, 'ssh is still waiting');
      await approve.click();
      await ssh.waitFor(/through-the-inbox/, 10_000);
      assert.equal((await ssh.done).code, 0);
      await bob
        .locator(`[data-decided="${id}"]`)
        .getByText(/Approved by you/)
        .waitFor();
    });
});

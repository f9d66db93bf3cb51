// The story in a real browser (Debian's Chromium, which resolves *.localhost to loopback): alice
// opens a device's web console, signs in, sees the waiting page; bob approves through the API and the
// page continues by itself; a reload passes without a new approval; bob revokes and the next request
// shows "access ended" while an open websocket is cut within 1 s. Then a rejection with its comment.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import WebSocket from 'ws';
import { SKIP, launch, shot } from '../web/browser.js';
import { PW, api, consoleLogin, nodeUpstream, startGw, type Gw, type NodeUpstream } from './helpers.js';
import { dbOf } from '../helpers/kysely.js';

describe('http proxy in a browser: wait, approve, reload, revoke, reject', { skip: SKIP }, () => {
  let up: NodeUpstream;
  let gw: Gw;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  const signIn = async (page: Page, path: string) => {
    await page.goto(`http://${gw.host('app')}${path}`);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(PW.alice);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  const heading = async (page: Page) => (await page.getByRole('heading', { level: 1 }).textContent()) ?? '';
  const waitingId = async (page: Page) => {
    await page.getByRole('heading', { name: /Waiting for approval #\d+ from Bob Manager/ }).waitFor({ timeout: 10_000 });
    return Number(/#(\d+)/.exec(await heading(page))![1]);
  };
  const requests = async () =>
    (await dbOf(gw.s).selectFrom('approval_requests').select('id').where('protocol', '=', 'http').execute()).length;

  before(async () => {
    up = await nodeUpstream();
    gw = await startGw({ approval: true, nodePort: up.port });
    browser = await launch();
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await gw?.stop();
    await up?.close();
  });

  test('approve: the waiting page continues by itself; reload passes; revoke ends access and cuts the websocket', async () => {
    const ctx = await browser.newContext();
    contexts.push(ctx);
    const page = await ctx.newPage();
    await signIn(page, '/hello');
    const id = await waitingId(page);
    assert.match((await page.locator('#status').textContent()) ?? '', /expires in/);
    await shot(page, 'http-waiting');
    assert.equal(up.seen.length, 0, 'nothing reached the device while waiting');

    const bob = await consoleLogin(gw, 'bob');
    const t0 = Date.now();
    const ok = await api(gw, bob, 'POST', `/approvals/${id}/approve`, { comment: 'go ahead' });
    assert.equal(ok.status, 200);
    await page.getByText('hello from upstream').waitFor({ timeout: 5000 });
    assert.ok(Date.now() - t0 < 5000);
    assert.equal(new URL(page.url()).pathname, '/hello');

    await page.reload();
    await page.getByText('hello from upstream').waitFor();
    assert.equal(await requests(), 1, 'no new approval request');
    const seen = up.seen.at(-1)!;
    assert.equal(seen.headers.authorization, `Basic ${Buffer.from('operator:app-Secret-pw').toString('base64')}`);
    assert.ok(!String(seen.headers.cookie ?? '').includes('__gh_http'), "the proxy's cookie never reaches the device");

    // A websocket opened with the browser's cookie.
    const cookies = await ctx.cookies(`http://${gw.host('app')}/`);
    const gh = cookies.find((c) => c.name === '__gh_http')!;
    assert.ok(gh.httpOnly, 'HttpOnly');
    assert.equal(gh.sameSite, 'Lax');
    assert.equal(gh.domain, 'app.localhost', 'scoped to the device host');
    const ws = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}/`, { headers: { host: gw.host('app'), cookie: `__gh_http=${gh.value}` } });
    await new Promise((res, rej) => (ws.once('open', res), ws.once('error', rej)));
    const closed = new Promise<number>((res) => ws.once('close', () => res(Date.now())));

    const t1 = Date.now();
    const rv = await api(gw, bob, 'POST', `/approvals/${id}/revoke`, { comment: 'done for today' });
    assert.equal(rv.status, 200);
    assert.ok((await closed) - t1 < 1000, 'the websocket closed within 1 s');
    await page.reload();
    await page.getByRole('heading', { name: 'Access ended' }).waitFor();
    assert.match((await page.locator('#reason').textContent()) ?? '', /revoked: done for today/);
    await shot(page, 'http-access-ended');

    const row = await dbOf(gw.s).selectFrom('sessions').selectAll().where('protocol', '=', 'http').executeTakeFirstOrThrow();
    assert.equal(row.approval_id, id);
    assert.ok(row.ended_at !== null);
    assert.match(String(row.end_reason), /revoked/);
  });

  test('reject: the page shows the comment and the configured message; asking again makes a new request', async () => {
    await gw.s.admin.setParam(
      { username: 'admin', id: null, channel: 'cli' },
      'http.proxy.approval.rejected.message',
      'No access to {device} for now.',
    );
    const ctx = await browser.newContext();
    contexts.push(ctx);
    const page = await ctx.newPage();
    await signIn(page, '/');
    // Access ended for alice on this host (in any browser) until she asks again.
    await page.getByRole('heading', { name: 'Access ended' }).waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Request access again' }).click();
    const id = await waitingId(page);
    const bob = await consoleLogin(gw, 'bob');
    assert.equal((await api(gw, bob, 'POST', `/approvals/${id}/reject`, { comment: 'use the staging box' })).status, 200);
    await page.getByRole('heading', { name: `Request #${id} rejected` }).waitFor({ timeout: 5000 });
    const text = (await page.locator('#outcome').textContent()) ?? '';
    assert.match(text, /No access to app for now\./);
    assert.match(text, /use the staging box/);
    await page.reload();
    await page.getByRole('heading', { name: `Request #${id} rejected` }).waitFor();
    await page.getByRole('button', { name: 'Ask again' }).click();
    const id2 = await waitingId(page);
    assert.notEqual(id2, id);
    await page.getByRole('button', { name: 'Cancel request' }).click();
    await page.getByRole('heading', { name: `Request #${id2} cancelled` }).waitFor();
    assert.equal((await gw.s.approvals.get(id2))?.status, 'cancelled');
  });
});

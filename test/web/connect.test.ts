// The Connect page in a real browser: an admin with no access rule is pointed at adding one (a link),
// and a user whose request already waits sees it where she would connect.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { seedOrg } from '../helpers/services.js';
import { PW, startServer, type Server } from '../api/helpers.js';
import { SKIP, axe, ensureConsoleBuilt, launch, logIn } from './browser.js';

describe('Connect page in Chromium', { skip: SKIP }, () => {
  let srv: Server;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  const open = async (username: string): Promise<Page> => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
    contexts.push(ctx);
    const page = await ctx.newPage();
    await logIn(page, srv.base, username, PW);
    await page.goto(srv.base + '/connect');
    await page.getByRole('heading', { level: 1, name: 'Connect' }).waitFor();
    return page;
  };

  before(async () => {
    ensureConsoleBuilt();
    srv = await startServer('sqlite', {}, { seed: false });
    browser = await launch();
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await srv?.stop();
  });

  test('an admin with no access rule is told to add one, with a link to where rules are made', async () => {
    const page = await open('admin');
    const link = page.getByRole('link', { name: 'add an access rule' });
    await link.waitFor();
    assert.equal(await link.getAttribute('href'), '/devices/inventory');
    assert.equal(await page.getByText('ask an administrator').count(), 0);
    assert.deepEqual(await axe(page), []);
  });

  test('a request that already waits shows on the way in it was made for', async () => {
    await seedOrg(srv.running.services);
    const r = await srv.running.services.approvals.request({
      username: 'alice',
      device: 'web01',
      protocol: 'ssh',
      reason: 'deploy 42',
      channel: 'ssh',
    });
    assert.equal(r.outcome, 'waiting');
    const id = r.outcome === 'waiting' ? r.request.id : 0;
    const page = await open('alice');
    await page.getByText(`#${id}`, { exact: true }).waitFor();
    assert.match((await page.locator('main').textContent()) ?? '', new RegExp(`request #${id} is already waiting`));
    assert.deepEqual(await axe(page), []);
  });
});

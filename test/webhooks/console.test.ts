// The Webhooks page in Chromium at 1280x800 against a real gateway and a receiver on 127.0.0.1: an admin
// adds a webhook (the secret shown once; plain http refused next to the URL unless allowed), pings it
// and sees the response code, sees an approval's delivery in the log, removes it; axe stays clean.
// The API under /api/v1/webhooks is for administrators only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { seedOrg } from '../helpers/services.js';
import { login, PW, startServer, type Server } from '../api/helpers.js';
import { SKIP, axe, ensureConsoleBuilt, launch, logIn, shot } from '../web/browser.js';
import { ok, startReceiver, type Receiver } from './receiver.js';

describe('Webhooks page in Chromium', { skip: SKIP }, () => {
  let srv: Server;
  let browser: Browser;
  let rcv: Receiver;
  before(async () => {
    ensureConsoleBuilt();
    srv = await startServer('sqlite', {}, { seed: false });
    await seedOrg(srv.running.services, { opsApproval: true });
    rcv = await startReceiver(ok);
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await rcv?.close();
    await srv?.stop();
  });

  test('add, ping, see deliveries, remove; axe clean', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', bypassCSP: true });
    const page: Page = await ctx.newPage();
    await logIn(page, srv.base, 'admin', PW);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
    await page.getByText('No webhooks yet.').waitFor();
    assert.deepEqual(await axe(page), [], 'axe on the empty page');

    await page.getByLabel('Name').fill('ticketing');
    await page.getByLabel('URL').fill(rcv.url);
    await page.getByLabel('Events').fill('approval.*');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /plain http is allowed only/ })
      .waitFor();
    assert.deepEqual(await axe(page), [], 'axe with the error shown');
    await page.getByLabel('Allow plain http to this machine').check();
    await page.getByRole('button', { name: 'Add webhook' }).click();
    const secret = await page.getByRole('status').filter({ hasText: 'Signing secret for ticketing' }).locator('code.wrap').innerText();
    assert.match(secret, /^whsec_/);
    await page.locator('tr[data-id="ticketing"]').waitFor();

    await page.getByRole('button', { name: 'Test webhook ticketing' }).click();
    await page.getByText('Ping to ticketing: 200 (delivered)').waitFor();
    assert.equal(rcv.got.at(-1)?.event, 'ping');

    await srv.running.services.approvals.request({ username: 'alice', device: 'web01', protocol: 'ssh', reason: 'deploy', channel: 'ssh' });
    const row = page.getByRole('row').filter({ hasText: 'approval.created' });
    // The delivery shows up queued or sending first; Refresh until its answer is recorded.
    for (let i = 0; i < 30 && !/Delivered/.test((await row.count()) ? await row.innerText() : ''); i++) {
      await page.waitForTimeout(500);
      await page.getByRole('button', { name: 'Refresh' }).click();
    }
    assert.match(await row.innerText(), /ticketing[\s\S]*Delivered[\s\S]*200[\s\S]*1/);
    assert.deepEqual(await axe(page), [], 'axe with webhooks and deliveries');
    await shot(page, 'webhooks');

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Remove webhook ticketing' }).click();
    await page.getByText('No webhooks yet.').waitFor();
    await ctx.close();
  });

  test('the API is for administrators only', async () => {
    const bob = await login(srv.base, 'bob');
    assert.equal((await bob.get('/api/v1/webhooks')).status, 403);
    assert.equal((await bob.get('/api/v1/webhooks/deliveries')).status, 403);
    assert.equal((await bob.post('/api/v1/webhooks', { name: 'x', url: 'https://example.com/' })).status, 403);
    const admin = await login(srv.base, 'admin');
    const add = await admin.post('/api/v1/webhooks', { name: 'api', url: 'https://example.com/hook', events: ['session.*'] });
    assert.equal(add.status, 201, add.text);
    assert.equal(add.headers.get('cache-control'), 'no-store');
    const list = await admin.get('/api/v1/webhooks');
    assert.ok(!list.text.includes(add.body.secret));
    assert.ok(list.body.events.includes('approval.created'));
    assert.equal((await admin.post('/api/v1/webhooks', { name: 'api', url: 'https://example.com/hook' })).status, 409);
    assert.equal((await admin.post('/api/v1/webhooks', { name: 'bad', url: 'https://example.com/', extra: 1 })).status, 400);
    assert.equal((await admin.del('/api/v1/webhooks/api')).status, 200);
    assert.equal((await admin.del('/api/v1/webhooks/api')).status, 404);
  });
});

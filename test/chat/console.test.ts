// The Chat Approvals page in Chromium at 1280x800 against a real gateway: an admin sets up Slack (a bad
// token is refused next to its field), sees the callback URL and the outbox, never sees the token again,
// turns Slack off; axe stays clean. The settings API is for administrators only and never returns a secret.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { login, PW, startServer, type Server } from '../api/helpers.js';
import { SKIP, axe, ensureConsoleBuilt, launch, logIn, shot } from '../web/browser.js';

const TOKEN = 'xoxb-1111-2222-consoletoken';
const SECRET = 'abcdef0123456789abcdef0123456789';

describe('Chat Approvals page in Chromium', { skip: SKIP }, () => {
  let srv: Server;
  let browser: Browser;
  before(async () => {
    ensureConsoleBuilt();
    srv = await startServer('sqlite');
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await srv?.stop();
  });

  test('set up Slack, see the callback URL, turn it off; axe clean', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', bypassCSP: true });
    const page: Page = await ctx.newPage();
    await logIn(page, srv.base, 'admin', PW);
    await page.getByRole('link', { name: 'Chat Approvals' }).click();
    await page.getByRole('heading', { level: 1, name: 'Chat Approvals' }).waitFor();
    assert.deepEqual(await axe(page), [], 'axe on the empty page');
    const slack = page.getByRole('form', { name: 'Set up Slack' });
    await slack.getByLabel('Bot token').fill('not-a-token');
    await slack.getByLabel('Signing secret').fill(SECRET);
    await slack.getByRole('button', { name: 'Save Slack settings' }).click();
    await slack
      .getByRole('alert')
      .filter({ hasText: /Slack bot token/ })
      .waitFor();
    assert.deepEqual(await axe(page), [], 'axe with the error shown');
    await slack.getByLabel('Bot token').fill(TOKEN);
    await slack.getByLabel('Channel (optional)').fill('#approvals');
    await slack.getByRole('button', { name: 'Save Slack settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Slack settings saved.' }).waitFor();
    const state = page.locator('[aria-label="slack status"]');
    await state.getByText('also posting to #approvals').waitFor();
    assert.match(await state.innerText(), /\/api\/v1\/chat\/slack\/interactions/);
    assert.ok(!(await page.content()).includes(TOKEN), 'the token is never shown again');
    assert.deepEqual(await axe(page), [], 'axe with Slack on');
    await shot(page, 'chat');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Turn Slack off' }).click();
    await page.getByRole('status').filter({ hasText: 'slack approvals are off.' }).waitFor();
    await ctx.close();
  });

  test('the settings API is for administrators only and never returns a secret', async () => {
    const bob = await login(srv.base, 'bob');
    assert.equal((await bob.get('/api/v1/chat')).status, 403);
    assert.equal((await bob.put('/api/v1/chat/slack', { botToken: TOKEN, signingSecret: SECRET })).status, 403);
    const admin = await login(srv.base, 'admin');
    const set = await admin.put('/api/v1/chat/slack', { botToken: TOKEN, signingSecret: SECRET });
    assert.equal(set.status, 200, set.text);
    assert.ok(!set.text.includes(TOKEN) && !set.text.includes(SECRET));
    const mm = await admin.put('/api/v1/chat/mattermost', { url: 'http://example.com', botToken: 'abcdefghijklmnopqrstuvwxyz' });
    assert.equal(mm.status, 400, 'plain http only to this machine');
    assert.equal((await admin.put('/api/v1/chat/slack', { botToken: TOKEN, signingSecret: SECRET, extra: 1 })).status, 400);
    assert.equal((await admin.del('/api/v1/chat/slack')).status, 200);
    assert.equal((await admin.del('/api/v1/chat/slack')).status, 404);
  });
});

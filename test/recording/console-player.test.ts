// The console plays a session recording (asciinema-player) and shows the approvals report, in Debian's
// Chromium, after a real ssh -tt session through the gateway.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launch as launchClient, SSHD_SKIP, startSshd, type Sshd } from '../ssh/peers.js';
import { startGateway, type Gw } from '../ssh/gateway.js';
import { SKIP as CHROMIUM_SKIP, ensureConsoleBuilt, launch, shot } from '../web/browser.js';
import { dbOf } from '../helpers/kysely.js';

describe('console: recordings and reports', { skip: SSHD_SKIP || CHROMIUM_SKIP }, () => {
  let sshd: Sshd;
  let gw: Gw;
  let browser: Browser;
  before(async () => {
    ensureConsoleBuilt();
    sshd = await startSshd();
    gw = await startGateway(sshd, { approval: false });
    browser = await launch();
    const p = launchClient('ssh', ['-tt', '-p', String(gw.port), ...gw.opts(), 'alice@web01@127.0.0.1']);
    await p.waitFor(/[#$] /);
    p.write('echo played-$((6*7))\n');
    await p.waitFor(/played-42/);
    p.write('exit\n');
    await p.done;
    for (let i = 0; i < 100; i++) {
      const row = await dbOf(gw.s).selectFrom('sessions').select('ended_at').orderBy('id', 'desc').limit(1).executeTakeFirst();
      if (row?.ended_at) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    await sshd?.stop();
  });

  test('an admin plays the recording of a past session in the Sessions page', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(String(e)));
    const base = `http://127.0.0.1:${gw.g.webPort}`;
    await page.goto(base + '/');
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('admin-pass-123');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    // The console picks the landing page after login; let it settle before going elsewhere.
    await page.waitForURL((u) => u.pathname !== '/');
    await page.goto(`${base}/#/sessions`);
    await page.getByRole('button', { name: 'Past', exact: true }).click();
    await page
      .getByRole('button', { name: /^Play the recording of session \d+$/ })
      .first()
      .click();
    const player = page.getByTestId('player');
    await player.waitFor();
    // No bypassCSP: the player must work under the console's own Content-Security-Policy.
    await player
      .getByText(/played-42/)
      .first()
      .waitFor({ timeout: 15_000 })
      .catch((err: Error) => {
        throw new Error(`${err.message}\nbrowser errors: ${problems.join(' | ')}`);
      });
    assert.match((await player.textContent()) ?? '', /played-42/);
    await shot(page, 'console-session-recording');

    await page.goto(`${base}/#/reports`);
    await page.getByRole('heading', { level: 1, name: 'Reports' }).waitFor();
    await page.getByRole('region', { name: 'Most requested devices' }).getByText('No requests in this period.').waitFor();
    await shot(page, 'console-reports');

    // A live session, watched read-only as it happens.
    const live = launchClient('ssh', ['-tt', '-p', String(gw.port), ...gw.opts(), 'alice@web01@127.0.0.1']);
    await live.waitFor(/[#$] /);
    await page.goto(`${base}/#/sessions`);
    await page
      .getByRole('button', { name: /^Watch the recording of session \d+$/ })
      .first()
      .click();
    await page.getByTestId('player').waitFor();
    live.write('echo watched-$((7*6))x\n');
    await live.waitFor(/watched-42x/);
    await page
      .getByTestId('player')
      .getByText(/watched-42x/)
      .first()
      .waitFor({ timeout: 15_000 });
    await shot(page, 'console-session-live');
    live.write('exit\n');
    await live.done;
    await page.close();
  });
});

// Sessions → Statements in Chromium: a PostgreSQL session recorded through the gateway (a stock driver,
// simple and extended protocol) lists its statements with row counts and redacted parameters, at desktop
// and phone widths, axe clean. The session's own user, not an admin, gets 403 from the API and no
// Statements button in the console. An admin's Kill ends a live one, and psql says why.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { dbOf } from '../helpers/kysely.js';
import { waitFor } from '../helpers/wait.js';
import { login } from '../api/helpers.js';
import { ALICE_PW, PG_PEER_SKIP, launchPsql, startDevice, startGateway, type Device, type Gw } from '../postgres/peer.js';
import { SKIP, axe, ensureConsoleBuilt, launch, logIn, shot } from './browser.js';

const ADMIN_PW = 'admin-pass-123';
const SECRET = 'card-4111-1111';

describe('console: Sessions → Statements of a PostgreSQL session', { skip: PG_PEER_SKIP || SKIP }, () => {
  let dev: Device;
  let gw: Gw;
  let browser: Browser;
  let base: string;
  let sessionId = 0;

  before(async () => {
    ensureConsoleBuilt();
    dev = await startDevice();
    gw = await startGateway(dev, { approval: false, env: { GATEHOUSE_MYSQL_PORT: '0' } });
    base = `http://127.0.0.1:${gw.g.webPort}`;
    const c = new pg.Client({
      host: '127.0.0.1',
      port: gw.port,
      user: 'alice@pgdb01',
      password: ALICE_PW,
      database: 'app',
      ssl: { rejectUnauthorized: false },
    });
    await c.connect();
    await c.query('select generate_series(1, 3) as n');
    await c.query('select $1::text as card', [SECRET]);
    await c.end();
    sessionId = await waitFor(
      'the ended postgres session',
      async () =>
        (
          await dbOf(gw.s)
            .selectFrom('sessions')
            .select('id')
            .where('protocol', '=', 'postgres')
            .where('ended_at', 'is not', null)
            .executeTakeFirst()
        )?.id,
      20_000,
      50,
    );
    const written = async () => (await gw.s.statements.forSession(sessionId, 0, 10)).some((r) => r.kind === 'execute');
    await waitFor('the statements written', written, 10_000, 50);
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    dev?.stop();
  });

  const open = async (username: string, password: string, w = 1280, h = 800): Promise<Page> => {
    const ctx = await browser.newContext({ viewport: { width: w, height: h }, bypassCSP: true });
    const page = await ctx.newPage();
    await logIn(page, base, username, password);
    await page.goto(`${base}/sessions?state=past`);
    await page.getByRole('region', { name: 'Past sessions' }).getByText(`#${sessionId}`, { exact: true }).waitFor();
    return page;
  };

  for (const [w, h] of [
    [1280, 800],
    [390, 844],
  ] as const) {
    test(`an admin reads the statements with row counts, parameters redacted (${w}x${h}, axe clean)`, async () => {
      const page = await open('admin', ADMIN_PW, w, h);
      try {
        await page.getByRole('button', { name: `Statements of session ${sessionId}` }).click();
        const table = page.getByRole('region', { name: `Statements of session ${sessionId}` });
        const series = table.getByRole('row').filter({ hasText: 'select generate_series(1, 3) as n' });
        await series.waitFor();
        assert.equal((await series.locator('td[data-label="Kind"]').textContent())?.trim(), 'query');
        assert.equal((await series.locator('td[data-label="Rows"]').textContent())?.trim(), '3');
        assert.equal((await series.locator('td[data-label="Parameters"]').textContent())?.trim(), '—');
        const exec = table.getByRole('row').filter({ hasText: 'select $1::text as card' }).filter({ hasText: 'execute' });
        assert.equal(await exec.count(), 1);
        assert.equal((await exec.locator('td[data-label="Parameters"]').textContent())?.trim(), '["[redacted]"]');
        assert.equal((await exec.locator('td[data-label="Rows"]').textContent())?.trim(), '1');
        assert.ok(!((await page.locator('body').textContent()) ?? '').includes(SECRET), 'the parameter value is not shown');
        await page.getByText(`Session #${sessionId}: alice on pgdb01 as app_rw`).waitFor();
        const wide = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
        assert.ok((wide as number) <= 1, `the page does not scroll sideways (${wide}px)`);
        await shot(page, `db-statements-${w}x${h}`);
        assert.deepEqual(await axe(page), []);
      } finally {
        await page.context().close();
      }
    });
  }

  test("the session's own user, not an admin, cannot read its statements", async () => {
    const alice = await login(base, 'alice', ALICE_PW);
    const r = await alice.get(`/api/v1/sessions/${sessionId}/statements`);
    assert.equal(r.status, 403);
    assert.ok(!r.text.includes(SECRET) && !r.text.includes('generate_series'));
    const admin = await login(base, 'admin', ADMIN_PW);
    const ok = await admin.get(`/api/v1/sessions/${sessionId}/statements`);
    assert.equal(ok.status, 200);
    assert.ok(
      ok.body.items.some((i: { statement: string }) => i.statement.includes('generate_series')),
      ok.text,
    );

    const page = await open('alice', ALICE_PW);
    try {
      assert.equal(await page.getByRole('button', { name: /^Statements of session/ }).count(), 0);
      assert.deepEqual(await axe(page), []);
    } finally {
      await page.context().close();
    }
  });

  test('an admin kills a live PostgreSQL session from the console; psql is told why', async () => {
    const p = launchPsql(gw.port, 'alice@pgdb01', ALICE_PW, ['-c', 'select pg_sleep(60)'], { timeoutMs: 90_000 });
    const live = await waitFor(
      'the live postgres session',
      async () =>
        (
          await dbOf(gw.s)
            .selectFrom('sessions')
            .select('id')
            .where('protocol', '=', 'postgres')
            .where('ended_at', 'is', null)
            .executeTakeFirst()
        )?.id,
      20_000,
      50,
    );
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
    try {
      const page = await ctx.newPage();
      await logIn(page, base, 'admin', ADMIN_PW);
      await page.goto(`${base}/sessions`);
      await page.getByRole('button', { name: `Kill session ${live}` }).click();
      const r = await p.done;
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /FATAL: +Gatehouse: ended by admin/);
    } finally {
      p.kill();
      await ctx.close();
    }
  });
});

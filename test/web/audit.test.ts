// The audit log reads like a page, not a dump: details as label: value with people named as everywhere
// ("Display Name (username)") and times local; the filters offer what the log holds (GET /audit/values),
// at 1280x800 and 390x844, axe clean. The API side too: values for admins only, the export unchanged.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { ADMIN } from '../helpers/services.js';
import { PW, login, startServer, type Server } from '../api/helpers.js';
import { SKIP, axe, ensureConsoleBuilt, launch, logIn, shot } from './browser.js';

const BOB = 'Bob Manager (bob)';

type Field = { label: string; value: string; kind: string };
type Rec = { action: string; actor: string; actorName: string; details: Record<string, unknown>; fields: Field[] };

describe('audit log: readable details and known filter values', () => {
  let srv: Server;
  let requestId = 0;

  before(async () => {
    srv = await startServer('sqlite');
    const s = srv.running.services;
    await s.admin.setUser(ADMIN, 'bob', { displayName: 'Bob Manager' });
    const r = await s.approvals.request({ username: 'alice', device: 'web01', protocol: 'ssh', reason: 'deploy 42', channel: 'ssh' });
    assert.equal(r.outcome, 'waiting');
    requestId = r.outcome === 'waiting' ? r.request.id : 0;
    await s.approvals.approve(requestId, 'bob', { comment: 'ok, go', channel: 'web', proof: 'operator' });
  });
  after(async () => srv?.stop());

  test('records carry the actor by name and the details as fields; values list what the log holds', async () => {
    const admin = await login(srv.base, 'admin');
    const list = await admin.get('/api/v1/audit?action=approval.approve');
    assert.equal(list.status, 200);
    const rec = (list.body.items as Rec[]).find((x) => x.action === 'approval.approve')!;
    assert.ok(rec, JSON.stringify(list.body));
    assert.equal(rec.actor, 'bob', 'the stored actor stays the username');
    assert.equal(rec.actorName, BOB);
    const comment = rec.fields.find((f) => f.label === 'Comment');
    assert.deepEqual(comment, { label: 'Comment', value: 'ok, go', kind: 'text' });
    const end = rec.fields.find((f) => f.label === 'Grant ends');
    assert.equal(end?.kind, 'time');
    assert.ok(!Number.isNaN(Date.parse(end!.value)), end?.value);
    assert.ok(
      rec.fields.every((f) => !f.value.startsWith('{')),
      'no raw JSON in a field',
    );

    const values = await admin.get('/api/v1/audit/values');
    assert.equal(values.status, 200);
    assert.ok(values.body.actions.includes('approval.approve'), values.body.actions.join(','));
    assert.ok(values.body.actors.some((a: { value: string; label: string }) => a.value === 'bob' && a.label === BOB));
    assert.ok(values.body.channels.includes('ssh'));
    assert.ok(values.body.targetTypes.includes('approval'));
    assert.ok(values.body.devices.some((d: { label: string }) => d.label === 'web01'));

    const alice = await login(srv.base, 'alice');
    assert.equal((await alice.get('/api/v1/audit/values')).status, 403, 'administrators only');

    const exported = await admin.get('/api/v1/audit/export?format=json&action=approval.approve');
    assert.equal(exported.status, 200);
    const rows = (typeof exported.body === 'string' ? JSON.parse(exported.body) : exported.body) as Record<string, unknown>[];
    assert.ok(rows.length >= 1);
    assert.ok(!('fields' in rows[0]) && !('actorName' in rows[0]), 'the export keeps the stored form');
  });

  for (const [w, h] of [
    [1280, 800],
    [390, 844],
  ] as const) {
    test(`console at ${w}x${h}: details as fields, filters offer known values, axe clean`, { skip: SKIP }, async () => {
      ensureConsoleBuilt();
      const browser: Browser = await launch();
      try {
        const ctx = await browser.newContext({ viewport: { width: w, height: h }, bypassCSP: true });
        const page = await ctx.newPage();
        await logIn(page, srv.base, 'admin', PW);
        await page.goto(srv.base + '/audit');
        const table = page.getByRole('region', { name: 'Audit records' });
        await table.getByText('approval.approve', { exact: true }).first().waitFor();

        const actor = page.getByLabel('Actor');
        await page.locator('#audit-actor option', { hasText: BOB }).waitFor({ state: 'attached' });
        await actor.selectOption('bob');
        await page.getByRole('button', { name: 'Filter' }).click();
        await page.waitForURL((u) => u.searchParams.get('actor') === 'bob');
        const row = table.locator('tr', { hasText: 'approval.approve' }).first();
        await row.waitFor();
        assert.match((await row.textContent()) ?? '', /Bob Manager \(bob\)/);
        assert.equal(await row.locator('dl.audit-fields dt', { hasText: 'Comment' }).count(), 1);
        assert.equal((await row.locator('dl.audit-fields dd', { hasText: 'ok, go' }).count()) > 0, true);
        assert.equal((await row.locator('dl.audit-fields time').count()) > 0, true, 'a time field shows as a local time');
        assert.doesNotMatch((await table.textContent()) ?? '', /\{"/, 'no raw JSON');

        // The device filter offers the devices by name and puts the choice in the URL.
        await page.locator('#audit-device option', { hasText: 'web01' }).waitFor({ state: 'attached' });
        await page.getByLabel('Device').selectOption({ label: 'web01' });
        await page.getByRole('button', { name: 'Filter' }).click();
        await page.waitForURL((u) => u.searchParams.get('targetType') === 'device' && !!u.searchParams.get('targetId'));
        const actions = await page
          .locator('#audit-actions option')
          .evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value));
        assert.ok(actions.includes('approval.') && actions.includes('approval.approve'), actions.join(','));

        const wide = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
        assert.ok((wide as number) <= 1, `the page does not scroll sideways (${wide}px)`);
        await shot(page, `audit-${w}x${h}`);
        assert.deepEqual(await axe(page), []);
      } finally {
        await browser.close();
      }
    });
  }
});

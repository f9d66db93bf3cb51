// The console's mail settings through the API: saved (password sealed, never returned), audited without
// the password, and the outbox state shown.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, type Running } from '../../src/main.js';

describe('mail settings API', () => {
  let dir: string;
  let g: Running;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-mailset-'));
    g = await start({
      GATEHOUSE_DATA_DIR: dir,
      GATEHOUSE_WEB_PORT: '0',
      GATEHOUSE_SSH_PORT: '0',
      GATEHOUSE_RDP_PORT: '0',
      GATEHOUSE_POSTGRES_PORT: '0',
      GATEHOUSE_MYSQL_PORT: '0',
      GATEHOUSE_HTTP_PROXY_PORT: '0',
      GATEHOUSE_LOG_LEVEL: 'silent',
      GATEHOUSE_ADMIN_PASSWORD: 'Adm1n-pass-word',
    });
  });
  after(async () => {
    await g?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('save, read back without the password, audit without it', async () => {
    const base = `http://127.0.0.1:${g.webPort}/api/v1`;
    const login = await fetch(`${base}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'Adm1n-pass-word' }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    const { csrfToken } = (await login.json()) as { csrfToken: string };
    const headers = { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken };
    const res = await fetch(`${base}/mail-settings`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({
        host: 'mail.example.com',
        port: 587,
        security: 'starttls',
        user: 'gh',
        password: 'Mail-S3cret-pw',
        from: 'gh@example.com',
      }),
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.ok(!text.includes('Mail-S3cret-pw'));
    const view = JSON.parse(text) as { settings: Record<string, unknown>; outbox: { queued: number } };
    assert.deepEqual(view.settings, {
      host: 'mail.example.com',
      port: 587,
      security: 'starttls',
      user: 'gh',
      from: 'gh@example.com',
      hasPassword: true,
    });
    assert.equal(typeof view.outbox.queued, 'number');
    const bad = await fetch(`${base}/mail-settings`, { method: 'PUT', headers, body: JSON.stringify({ from: 'a@b\r\nBcc: x@y' }) });
    assert.equal(bad.status, 400);
    const audit = await g.services.adminStore.listAudit({ limit: 5, action: 'mail.settings' });
    assert.equal(audit.length, 1);
    assert.equal(audit[0].details.password, '(changed)');
    assert.ok(!JSON.stringify(audit).includes('Mail-S3cret-pw'));
  });
});

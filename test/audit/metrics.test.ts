// /metrics read by a Prometheus text-format parser; the values change as the test acts.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { start, type Running } from '../../src/main.js';
import { seedOrg } from '../helpers/services.js';

type Family = {
  name: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string }[];
};
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

describe('/metrics', () => {
  let dir: string;
  let g: Running;
  let base: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-metrics-'));
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
      GATEHOUSE_EVENT_POLL_MS: '50',
    });
    base = `http://127.0.0.1:${g.webPort}`;
    await seedOrg(g.services);
  });
  after(async () => {
    await g?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const scrape = async () => {
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    return parse(await res.text());
  };
  const value = (fams: Family[], name: string, labels: Record<string, string> = {}) => {
    const f = fams.find((x) => x.name === name);
    if (!f) return undefined;
    const m = f.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
    return m?.value !== undefined ? Number(m.value) : m?.count !== undefined ? Number(m.count) : undefined;
  };

  test('the families are there and parse', async () => {
    const fams = await scrape();
    const names = fams.map((f) => f.name);
    for (const n of [
      'gatehouse_approvals',
      'gatehouse_approval_events_total',
      'gatehouse_approval_decision_seconds',
      'gatehouse_waiting_connections',
      'gatehouse_live_sessions',
      'gatehouse_login_failures',
      'gatehouse_event_bus_lag_seconds',
      'gatehouse_mail_outbox',
      'gatehouse_process_resident_memory_bytes',
    ])
      assert.ok(names.includes(n), `${n} is exported`);
  });

  test('approvals, decision time and login failures move as things happen', async () => {
    const before = await scrape();
    assert.equal(value(before, 'gatehouse_approvals', { status: 'approved' }) ?? 0, 0);
    const s = g.services;
    const r = await s.approvals.request({ username: 'alice', device: 'web01', protocol: 'ssh', channel: 'web', reason: 'metrics' });
    if (r.outcome === 'allowed') throw new Error('expected a request');
    const mid = await scrape();
    assert.equal(value(mid, 'gatehouse_approvals', { status: 'waiting' }), 1);
    await s.approvals.approve(r.request.id, 'bob', { channel: 'web' });
    for (let i = 0; i < 40; i++) {
      const f = await scrape();
      if (value(f, 'gatehouse_approval_events_total', { type: 'approval.approved' }) === 1) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const login = await fetch(`${base}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'wrong-password' }),
    });
    assert.equal(login.status, 401);
    const after = await scrape();
    assert.equal(value(after, 'gatehouse_approvals', { status: 'approved' }), 1);
    assert.equal(value(after, 'gatehouse_approvals', { status: 'waiting' }) ?? 0, 0);
    assert.equal(value(after, 'gatehouse_approval_events_total', { type: 'approval.approved' }), 1);
    // (The parser drops histogram labels; read the count line itself.)
    const raw = await (await fetch(`${base}/metrics`)).text();
    assert.match(raw, /^gatehouse_approval_decision_seconds_count\{outcome="approved"\} 1$/m, 'one decision observed');
    assert.equal(value(after, 'gatehouse_login_failures'), 1);
  });
});

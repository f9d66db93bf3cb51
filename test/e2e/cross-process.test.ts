// A decision made by the CLI (another process) reaches a subscriber in the server process within 1 s,
// on SQLite and PostgreSQL; and policy changes made by the CLI invalidate the server's cached policy.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DB_TARGETS } from '../helpers/db.js';
import { seedOrg, testServices, type TestEnv } from '../helpers/services.js';
import { gh, ghJson } from '../helpers/cli.js';
import { waitFor, within } from '../helpers/wait.js';
import type { GatehouseEvent } from '../../src/core/types.js';

for (const target of DB_TARGETS) {
  describe(`across processes on ${target.name}`, { skip: target.skip }, () => {
    let t: TestEnv;
    before(async () => {
      // This test process plays the server: real services with the event bus running.
      t = await testServices(target.name, { real: true });
      await seedOrg(t.s);
      await t.s.bus.start();
    });
    after(async () => t?.cleanup());

    test('a CLI approval reaches a subscriber here within 1 s', async () => {
      const r = await t.s.approvals.request({
        username: 'alice',
        device: 'web01',
        protocol: 'ssh',
        channel: 'ssh',
        reason: 'cross process',
      });
      if (r.outcome === 'allowed') throw new Error('expected a request');
      const seen = within<{ e: GatehouseEvent; at: number }>(10_000, 'the approval event', (resolve) =>
        t.s.bus.subscribe((e) => {
          if (e.type === 'approval.approved' && (e.payload.request as { id: number }).id === r.request.id) resolve({ e, at: Date.now() });
        }),
      );
      const cli = await gh(['approvals', 'approve', String(r.request.id), '--as', 'bob', '--comment', 'from the CLI'], { env: t.env });
      assert.equal(cli.code, 0, cli.stderr);
      const { e, at } = await seen;
      const lag = at - e.at;
      assert.ok(lag < 1000, `event reached the server ${lag} ms after the CLI committed it`);
      console.log(`# ${target.name}: CLI decision seen by the server process after ${lag} ms`);
      // The in-memory grant cache followed the event: the next decide() lets alice through with no query.
      const d = await t.s.approvals.decide('alice', 'web01', 'ssh');
      assert.equal(d.outcome, 'allowed');
    });

    test('a policy change in the CLI invalidates the cached policy here', async () => {
      await t.s.policy.current();
      const loads = t.s.policy.loads;
      const before = await t.s.approvals.decide('frank', 'web01', 'ssh');
      assert.equal(before.outcome, 'denied');
      assert.equal(t.s.policy.loads, loads, 'decide() on a warm cache loads nothing');
      // Subscribed before the CLI runs; the 10 s window starts when it exits (a loaded machine spawns slowly).
      let changed = false;
      const unsubscribe = t.s.bus.subscribe((e) => {
        if (e.type === 'policy.changed') changed = true;
      });
      const r = await gh(['group', 'add-member', 'ops', 'frank'], { env: t.env });
      assert.equal(r.code, 0, r.stderr);
      await waitFor('the policy.changed event', () => changed, 10_000, 20).finally(unsubscribe);
      const after = await t.s.approvals.decide('frank', 'web01', 'ssh');
      assert.equal(after.outcome, 'approval-required');
      assert.equal(t.s.policy.loads, loads + 1);
    });
  });
}

describe('the real `gatehouse serve` process', () => {
  let t: TestEnv;
  let server: ChildProcess | null = null;
  let port = 0;
  before(async () => {
    t = await testServices('sqlite');
    await seedOrg(t.s);
    await t.s.close();
    const entry = fileURLToPath(new URL('../helpers/cli-entry.ts', import.meta.url));
    server = spawn(process.execPath, ['--import', 'tsx', entry, 'serve'], {
      env: {
        ...process.env,
        ...t.env,
        GATEHOUSE_WEB_PORT: '0',
        GATEHOUSE_SSH_PORT: '0',
        GATEHOUSE_RDP_PORT: '0',
        GATEHOUSE_POSTGRES_PORT: '0',
        GATEHOUSE_MYSQL_PORT: '0',
        GATEHOUSE_HTTP_PROXY_PORT: '0',
        GATEHOUSE_LOG_LEVEL: 'info',
        GATEHOUSE_ADMIN_PASSWORD: 'Adm1n-pass-word',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    port = await new Promise<number>((resolve, reject) => {
      let out = '';
      server!.stdout!.on('data', (d) => {
        out += d;
        const m = /running: console and API on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      server!.on('exit', (c) => reject(new Error(`serve exited ${c}: ${out}`)));
    });
  });
  after(async () => {
    server?.kill('SIGTERM');
    await new Promise((r) => server?.once('exit', r));
    t.s = { close: async () => {} } as never;
    await t.cleanup();
  });

  test('serve answers /healthz and /readyz, and a CLI decision shows in its /metrics within 1 s', async () => {
    const base = `http://127.0.0.1:${port}`;
    assert.deepEqual(await (await fetch(`${base}/healthz`)).json(), { status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
    const req = await ghJson<{ id: number }>(['approvals', 'request', 'web01', '--as', 'alice', '--reason', 'metrics test'], {
      env: t.env,
    });
    const metric = async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return /gatehouse_approval_events_total\{type="approval.approved"\} (\d+)/.exec(text)?.[1] ?? '0';
    };
    assert.equal(await metric(), '0');
    const r = await gh(['approvals', 'approve', String(req.id), '--as', 'bob'], { env: t.env });
    assert.equal(r.code, 0, r.stderr);
    const deadline = Date.now() + 1000;
    let seen = '0';
    while (Date.now() < deadline && seen === '0') {
      seen = await metric();
      if (seen === '0') await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(seen, '1', 'the server process saw the CLI approval within 1 s of the CLI exiting');
    const text = await (await fetch(`${base}/metrics`)).text();
    assert.match(text, /gatehouse_approvals\{status="approved"\} 1/);
  });
});

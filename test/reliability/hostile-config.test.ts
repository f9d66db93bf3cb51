/* eslint-disable @typescript-eslint/no-explicit-any -- JSON schemas and bodies */
// The guide's rules and the runtime's configuration, attacked as a class: every request has someone who
// is told, auto-approve holds on every approval path, the operator's explain names the real cause of a
// denial, configuration errors stop the process naming the variable, and the data dir is private.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN, seedOrg, testServices, type TestEnv } from '../helpers/services.js';
import { gh, ghJson } from '../helpers/cli.js';
import { presentApproval, presentDecision } from '../../src/presenters/index.js';
import { NO_ACCESS } from '../../src/core/policy/decide.js';
import { login, startServer, type Server } from '../api/helpers.js';
import { start } from '../../src/main.js';
import { ConfigError, loadConfig } from '../../src/config/env.js';
import { loadMailConfig } from '../../src/notify/config.js';
import type { Browser } from 'playwright-core';
import { SKIP as BROWSER_SKIP, ensureConsoleBuilt, launch } from '../web/browser.js';

describe('every request has someone who is told (four eyes, auto-approve)', () => {
  let t: TestEnv;
  before(async () => {
    t = await testServices('sqlite');
    await seedOrg(t.s, { opsApproval: true });
    // bob manages ops and is a member of it; frank is bob's line manager.
    await t.s.admin.addMember(ADMIN, 'ops', 'bob');
  });
  after(async () => t?.cleanup());

  const req = (username: string, device = 'web01', protocol: 'ssh' | 'sftp' = 'ssh') =>
    t.s.approvals.request({ username, device, protocol, channel: 'cli', reason: 'deploy 42' });
  const names = async (ids: number[]) => {
    const p = await t.s.policy.current();
    return ids.map((id) => p.userName(id)).sort();
  };
  const setAuto = (on: boolean) => t.s.admin.setParam(ADMIN, 'auto.approve.when.requester.is.approver', String(on));

  test("a manager's own request, auto-approve off: the line manager, else the device group's managers, else the admins", async () => {
    await setAuto(false);
    // No line manager: the device group's manager (carol) is told.
    const a = await req('bob');
    assert.equal(a.outcome, 'waiting');
    const p = await t.s.policy.current();
    assert.deepEqual(await names(a.request.route.levels[0].approverIds), ['carol']);
    const view = presentApproval(p, a.request, t.clock.now());
    assert.deepEqual(view.approverManager, ['carol'], 'the Approver Manager column names who is told');
    assert.match(view.route.why, /may not approve their own request.*device group's managers \(carol\)/);
    assert.match(view.levels[0].authority, /-> device-group-manager/);
    await t.s.approvals.cancel(a.request.id, 'bob', 'cli');
    // With a line manager: frank.
    await t.s.admin.setUser(ADMIN, 'bob', { manager: 'frank' });
    const b = await req('bob');
    assert.ok(b.outcome === 'waiting');
    assert.deepEqual(await names(b.request.route.levels[0].approverIds), ['frank']);
    const explained = presentDecision(await t.s.policy.current(), await t.s.approvals.decide('bob', 'web01', 'ssh'));
    assert.deepEqual(explained.approverManager, ['frank'], 'explain names the same approver');
    // frank may decide it; bob may not.
    await assert.rejects(t.s.approvals.approve(b.request.id, 'bob', { channel: 'cli' }), /own request/);
    const no = await t.s.approvals.reject(b.request.id, 'frank', { channel: 'cli' });
    assert.equal(no.status, 'rejected');
    await t.s.admin.setUser(ADMIN, 'bob', { manager: null });
  });

  test('no line manager and no device group manager: the administrators', async () => {
    await setAuto(false);
    await t.s.admin.setGroup(ADMIN, 'device', 'linux', { managers: [] });
    const r = await req('bob', 'web01', 'sftp');
    assert.ok(r.outcome === 'waiting');
    assert.deepEqual(await names(r.request.route.levels[0].approverIds), ['admin']);
    await t.s.approvals.cancel(r.request.id, 'bob', 'cli');
    await t.s.admin.setGroup(ADMIN, 'device', 'linux', { managers: ['carol'] });
  });

  test('auto-approve on: the manager of their own user group is auto-approved under user-group approval', async () => {
    await setAuto(true);
    const r = await req('bob', 'db01');
    assert.equal(r.outcome, 'approved');
    assert.ok(r.outcome === 'approved' && r.request.autoApproved);
    await setAuto(false);
  });

  test('auto-approve on: the manager of their own user group is auto-approved under device-group approval', async () => {
    // ops needs no approval; linux (web01) does: the requester's group managers approve, bob among them.
    await t.s.admin.setGroup(ADMIN, 'user', 'ops', { requireApproval: false });
    await t.s.admin.setGroup(ADMIN, 'device', 'linux', { requireApproval: true });
    try {
      await setAuto(true);
      const on = await req('bob', 'web01', 'ssh');
      assert.equal(on.outcome, 'approved', 'the guide: a requester who manages the group is approved automatically');
      assert.ok(on.outcome === 'approved' && on.request.autoApproved);
      // Not for a member who manages nothing.
      const alice = await req('alice', 'web01', 'ssh');
      assert.equal(alice.outcome, 'waiting');
      assert.deepEqual(await names(alice.request.route.levels[0].approverIds), ['bob']);
      // Off: bob's request goes to the device group's manager, not to bob.
      await setAuto(false);
      const off = await req('bob', 'web01', 'sftp');
      assert.equal(off.outcome, 'waiting');
      assert.deepEqual(await names(off.request.route.levels[0].approverIds), ['carol']);
    } finally {
      await t.s.admin.setGroup(ADMIN, 'user', 'ops', { requireApproval: true });
      await t.s.admin.setGroup(ADMIN, 'device', 'linux', { requireApproval: false });
    }
  });

  test("the operator's explain names the real cause; users keep one answer for unknown and forbidden", async () => {
    await t.s.admin.addDevice(ADMIN, { name: 'bare01', host: '127.0.0.1', protocols: 'ssh', group: 'linux', port: 22 });
    const cases: [string, string, RegExp][] = [
      ['alice', 'bare01', /bare01 has no account for ssh/],
      ['alice', 'nosuch', /there is no device 'nosuch'/],
      ['nobody', 'web01', /there is no user 'nobody'/],
      ['frank', 'web01', /no access rule from frank's groups \(dba\) to device group 'linux'/],
    ];
    for (const [user, device, why] of cases) {
      const d = await t.s.approvals.decide(user, device, 'ssh');
      assert.deepEqual(d, { outcome: 'denied', why: NO_ACCESS }, `users see one answer (${user} -> ${device})`);
      assert.match((await t.s.approvals.denialReason(user, device, 'ssh')) ?? '', why);
    }
    assert.equal(await t.s.approvals.denialReason('alice', 'web01', 'ssh'), null, 'no reason when not denied');
    // The operator's CLI, a separate process on the same database.
    const cli = await gh(['policy', 'explain', 'alice', 'bare01'], { env: t.env });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /why: bare01 has no account for ssh/);
    const json = await ghJson<{ outcome: string; why: string; reason: string }>(['policy', 'explain', 'frank', 'web01'], { env: t.env });
    assert.deepEqual([json.outcome, json.why], ['denied', NO_ACCESS]);
    assert.match(json.reason, /no access rule from frank's groups \(dba\)/);
  });
});

/** A body that satisfies `schema`'s required fields (types only), so the next check is for unknown ones. */
function minimalBody(schema: Record<string, any>): unknown {
  const s = schema.allOf
    ? {
        type: 'object',
        properties: Object.assign({}, ...schema.allOf.map((x: any) => x.properties)),
        required: schema.allOf.flatMap((x: any) => x.required ?? []),
      }
    : (schema.anyOf?.find((x: any) => x.type === 'object') ?? schema);
  if (s.type !== 'object') return undefined;
  const out: Record<string, unknown> = {};
  for (const name of s.required ?? []) {
    const p = s.properties?.[name] ?? {};
    const t = p.type ?? p.anyOf?.[0]?.type;
    out[name] =
      p.enum?.[0] ??
      p.const ??
      (t === 'string'
        ? 'x'.repeat(Math.max(1, p.minLength ?? 1))
        : t === 'integer' || t === 'number'
          ? (p.minimum ?? 1)
          : t === 'boolean'
            ? true
            : t === 'array'
              ? []
              : t === 'object'
                ? minimalBody(p)
                : 'x');
  }
  return out;
}

describe('unknown JSON fields are refused with 400 naming the field, on every body route', () => {
  let srv: Server;
  before(async () => {
    srv = await startServer('sqlite');
  });
  after(async () => srv?.stop());

  test('PUT /api/v1/mail-settings with junk: 400 naming it, nothing saved', async () => {
    const admin = await login(srv.base, 'admin');
    const before = await admin.get('/api/v1/mail-settings');
    const r = await admin.put('/api/v1/mail-settings', { junk: 1 });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.error.field, 'junk');
    assert.match(r.body.error.message, /unknown field 'junk'/);
    assert.deepEqual((await admin.get('/api/v1/mail-settings')).body, before.body);
  });

  test("the admin API's explain names the real cause of a denial; users cannot call it", async () => {
    await srv.running.services.admin.addDevice(ADMIN, { name: 'bare02', host: '127.0.0.1', protocols: 'ssh', group: 'linux', port: 22 });
    const admin = await login(srv.base, 'admin');
    const r = await admin.get('/api/v1/policy/explain?user=alice&device=bare02&protocol=ssh');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.outcome, 'denied');
    assert.equal(r.body.why, NO_ACCESS);
    assert.equal(r.body.reason, 'bare02 has no account for ssh');
    const ok = await admin.get('/api/v1/policy/explain?user=alice&device=web01');
    assert.equal(ok.body.outcome, 'approval-required');
    assert.deepEqual(ok.body.approverManager, ['bob']);
    const alice = await login(srv.base, 'alice');
    assert.equal((await alice.get('/api/v1/policy/explain?user=alice&device=bare02')).status, 403);
  });

  test('every JSON body route in the OpenAPI document refuses an unknown field', async () => {
    const admin = await login(srv.base, 'admin');
    const doc = (await admin.get('/api/docs/json')).body as { paths: Record<string, Record<string, any>> };
    const tried: string[] = [];
    const failures: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const schema = op?.requestBody?.content?.['application/json']?.schema;
        if (!schema) continue;
        const body = minimalBody(schema);
        if (body === undefined) continue;
        const url = path.replace(/\{id\}/g, '999999').replace(/\{[^}]+\}/g, 'nosuch');
        const r = await admin.req(method.toUpperCase(), url, { ...(body as object), zzUnknownField: 1 });
        tried.push(`${method} ${path}`);
        if (r.status !== 400 || r.body?.error?.field !== 'zzUnknownField')
          failures.push(`${method.toUpperCase()} ${path}: ${r.status} ${r.text.slice(0, 160)}`);
      }
    }
    assert.ok(tried.length >= 25, `body routes found: ${tried.length}`);
    assert.deepEqual(failures, [], `routes that accepted or misnamed an unknown field (${failures.length} of ${tried.length})`);
  });
});

describe('npm ci is clean on the running Node', () => {
  test('no locked package asks for a newer Node (EBADENGINE)', { timeout: 120_000 }, () => {
    // A copy of the manifest and lock only: the dry run must not touch the shared node_modules.
    const dir = mkdtempSync(join(tmpdir(), 'gh-npmci-'));
    try {
      for (const f of ['package.json', 'package-lock.json']) copyFileSync(f, join(dir, f));
      const out = spawnSync('npm', ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund', '--offline'], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 100_000,
      });
      const text = `${out.stdout}${out.stderr}`;
      assert.equal(
        text.match(/EBADENGINE/g)?.length ?? 0,
        0,
        text
          .split('\n')
          .filter((l) => /EBADENGINE|package:|required:/.test(l))
          .join('\n'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Every path under `dir` whose mode is looser than 0700 (dirs) or 0600 (files). */
function loosePaths(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    const m = statSync(d).mode & 0o777;
    if (m !== 0o700) out.push(`${d} ${m.toString(8)}`);
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && (statSync(p).mode & 0o777) !== 0o600) out.push(`${p} ${(statSync(p).mode & 0o777).toString(8)}`);
    }
  };
  walk(dir);
  return out;
}

describe('the data dir is private: 0700 dirs, 0600 files', () => {
  test('a fresh start creates it private; a loosened one is tightened at the next start', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-modes-'));
    const env = {
      GATEHOUSE_DATA_DIR: join(dir, 'data'),
      GATEHOUSE_WEB_PORT: '0',
      GATEHOUSE_SSH_PORT: '0',
      GATEHOUSE_RDP_PORT: '0',
      GATEHOUSE_POSTGRES_PORT: '0',
      GATEHOUSE_MYSQL_PORT: '0',
      GATEHOUSE_HTTP_PROXY_PORT: '0',
      GATEHOUSE_ADMIN_PASSWORD: 'S3cret-pass',
      GATEHOUSE_LOG_LEVEL: 'silent',
    };
    try {
      let running = await start(env);
      const data = env.GATEHOUSE_DATA_DIR;
      const files = readdirSync(data);
      for (const f of ['gatehouse.db', 'gatehouse.db-wal', 'secret.key', 'node-id', 'ssh_host_ed25519_key'])
        assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
      assert.deepEqual(loosePaths(data), [], 'after the first start');
      await running.stop();
      // An operator (or an older version) loosened everything; the next start tightens it.
      chmodSync(data, 0o755);
      mkdirSync(join(data, 'recordings', '2026'), { recursive: true, mode: 0o755 });
      writeFileSync(join(data, 'recordings', '2026', 'old.cast.gz'), 'x', { mode: 0o644 });
      for (const f of readdirSync(data)) if (!f.startsWith('recordings')) chmodSync(join(data, f), 0o644);
      running = await start(env);
      assert.deepEqual(loosePaths(data), [], 'after a start on a loosened dir');
      await running.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('configuration: every variable is validated once, and the config reaches every listener', () => {
  const base = { GATEHOUSE_DATA_DIR: '/nonexistent-gatehouse-test' };
  const bad: [string, string][] = [
    ['GATEHOUSE_HTTP_BASE_DOMAIN', 'not a domain!'],
    ['GATEHOUSE_HTTP_PUBLIC_PORT', '70000'],
    ['GATEHOUSE_HTTP_UPSTREAM_TIMEOUT_MS', 'soon'],
    ['GATEHOUSE_HTTP_IDLE_MINUTES', '0'],
    ['GATEHOUSE_HTTP_TLS_CERT', '/etc/hostname'],
    ['GATEHOUSE_MAIL_REPLY_TO', 'no address'],
    ['GATEHOUSE_MAIL_RETRY_BASE_MS', '1.5'],
    ['GATEHOUSE_MAIL_RETRY_MAX_MS', '-1'],
    ['GATEHOUSE_MAIL_GIVE_UP_HOURS', 'forever'],
    ['GATEHOUSE_MAIL_POLL_MS', '1e99'],
    ['GATEHOUSE_MAIL_LEASE_MS', 'x'],
    ['GATEHOUSE_IMAP_URL', 'http://mail.example.com/'],
    ['GATEHOUSE_IMAP_POLL_MS', 'often'],
    ['GATEHOUSE_IMAP_TIMEOUT_MS', '0'],
  ];
  for (const [name, value] of bad) {
    test(`${name}=${JSON.stringify(value)} stops loadConfig naming the variable`, () => {
      assert.throws(
        () => loadConfig({ ...base, [name]: value }),
        (e: unknown) => e instanceof ConfigError && e.message.includes(name),
      );
    });
  }

  test('an invalid GATEHOUSE_HTTP_* value stops start(), before anything listens', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-badcfg-'));
    try {
      const env = {
        GATEHOUSE_DATA_DIR: dir,
        GATEHOUSE_WEB_PORT: '0',
        GATEHOUSE_SSH_PORT: '0',
        GATEHOUSE_RDP_PORT: '0',
        GATEHOUSE_POSTGRES_PORT: '0',
        GATEHOUSE_MYSQL_PORT: '0',
        GATEHOUSE_HTTP_PROXY_PORT: '0',
        GATEHOUSE_LOG_LEVEL: 'silent',
      };
      await assert.rejects(
        start({ ...env, GATEHOUSE_HTTP_IDLE_MINUTES: 'abc' }),
        (e: unknown) => e instanceof ConfigError && /GATEHOUSE_HTTP_IDLE_MINUTES/.test(e.message),
      );
      // Syntactically fine, but the files cannot be read: also a stop naming the variable.
      await assert.rejects(
        start({ ...env, GATEHOUSE_HTTP_TLS_CERT: join(dir, 'missing.crt'), GATEHOUSE_HTTP_TLS_KEY: join(dir, 'missing.key') }),
        (e: unknown) => e instanceof ConfigError && /GATEHOUSE_HTTP_TLS_CERT: cannot read/.test(e.message),
      );
      assert.deepEqual(readdirSync(dir), [], 'nothing was opened or created');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("start(env) passes its env to the HTTP proxy and mail, not process.env's", { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-envdown-'));
    const env = {
      GATEHOUSE_DATA_DIR: dir,
      GATEHOUSE_WEB_PORT: '0',
      GATEHOUSE_SSH_PORT: '0',
      GATEHOUSE_RDP_PORT: '0',
      GATEHOUSE_POSTGRES_PORT: '0',
      GATEHOUSE_MYSQL_PORT: '0',
      GATEHOUSE_HTTP_PROXY_PORT: '0',
      GATEHOUSE_ADMIN_PASSWORD: 'S3cret-pass',
      GATEHOUSE_LOG_LEVEL: 'silent',
      GATEHOUSE_HTTP_BASE_DOMAIN: 'pam.example.test',
      GATEHOUSE_MAIL_REPLY_TO: 'answers@example.test',
      GATEHOUSE_MAIL_LEASE_MS: '4321',
    };
    assert.equal(process.env.GATEHOUSE_HTTP_BASE_DOMAIN, undefined);
    const running = await start(env);
    try {
      // The proxy serves <device>.<base domain> from env: a host under localhost is not a device.
      await seedOrg(running.services);
      await running.services.admin.addDevice(ADMIN, { name: 'app01', host: '127.0.0.1', protocols: 'http', group: 'linux', port: 9 });
      // node:http, not fetch: fetch does not let a caller set Host.
      const ask = (host: string) =>
        new Promise<{ status: number }>((resolve, reject) => {
          const r = httpRequest({ host: '127.0.0.1', port: running.httpProxyPort, path: '/', headers: { host } }, (res) => {
            res.resume();
            resolve({ status: res.statusCode ?? 0 });
          });
          r.on('error', reject);
          r.end();
        });
      const under = await ask('app01.pam.example.test');
      const other = await ask('app01.localhost');
      assert.equal(under.status, 302, 'a device under the base domain from env: sign in first');
      assert.notEqual(under.status, other.status, `app01.pam.example.test ${under.status} vs app01.localhost ${other.status}`);
      const mail = await loadMailConfig(running.services);
      assert.equal(mail.replyAddress, 'answers@example.test');
      assert.equal(mail.leaseMs, 4321);
    } finally {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('nothing in src/ reads process.env after start-up', () => {
    const hits = spawnSync('grep', ['-rn', 'process\\.env', 'src', '--include=*.ts'], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')
      .filter(Boolean);
    // Allowed: the config's default argument, the CLI's own start-up, V8 flags read at start, and NO_COLOR read
    // once when the logger's destination is made at start-up.
    const allowed = /^src\/(config\/env\.ts|cli\/|runtime\.ts|main\.ts:\d+:export async function start|log-format\.ts:\d+: {2}const color)/;
    assert.deepEqual(
      hits.filter((h) => !allowed.test(h)),
      [],
    );
  });
});

describe('console: a failing server is shown, never mistaken for a logout', { skip: BROWSER_SKIP }, () => {
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

  test('a 500 and a network error on /api/v1/session show the error with a retry; the session stays', { timeout: 120_000 }, async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await ctx.newPage();
      await page.goto(srv.base + '/');
      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill('S3cret-pass');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('button', { name: 'Log out' }).waitFor();
      for (const [how, text] of [
        ['500', /server answered 500/],
        ['network', /cannot be reached/],
      ] as const) {
        await page.route('**/api/v1/session', (route) =>
          route.request().method() === 'GET'
            ? how === '500'
              ? route.fulfill({
                  status: 500,
                  contentType: 'application/json',
                  body: '{"error":{"code":"internal","message":"internal error"}}',
                })
              : route.abort('connectionrefused')
            : route.continue(),
        );
        await page.reload();
        const alert = page.getByRole('alert');
        await alert.waitFor({ timeout: 15_000 });
        assert.match(await alert.innerText(), text);
        assert.equal(await page.getByRole('button', { name: 'Log in' }).count(), 0, `${how}: not the login form`);
        await page.unroute('**/api/v1/session');
        await page.getByRole('button', { name: 'Retry' }).click();
        await page.getByRole('button', { name: 'Log out' }).waitFor({ timeout: 15_000 });
      }
      // A real 401 still shows the login form.
      await ctx.clearCookies();
      await page.reload();
      await page.getByRole('button', { name: 'Log in' }).waitFor({ timeout: 15_000 });
    } finally {
      await ctx.close();
    }
  });
});

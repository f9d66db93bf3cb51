/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies in tests */
// Authorization as a matrix of role x route, the IDOR cases, CSRF, validation errors, login limits.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, login, startServer, tokenClient, PW, type Server } from './helpers.js';
import { dbOf } from '../helpers/kysely.js';

type Role = 'anon' | 'alice' | 'bob' | 'admin';
interface Row {
  method: string;
  path: string;
  body?: unknown;
  /** Expected status per role; roles not named get 403 (admin-only) — anon always 401. */
  expect: Partial<Record<Role, number>>;
}

// Seeded organisation (test/helpers/services.ts): bob manages ops (alice, dave); carol manages linux and db.
const ROUTES: Row[] = [
  { method: 'GET', path: '/api/v1/session', expect: { alice: 200, bob: 200, admin: 200 } },
  { method: 'GET', path: '/api/v1/users', expect: { admin: 200 } },
  { method: 'GET', path: '/api/v1/users/alice', expect: { alice: 200, bob: 404, admin: 200 } },
  { method: 'GET', path: '/api/v1/users/alice/keys', expect: { alice: 200, bob: 404, admin: 200 } },
  { method: 'POST', path: '/api/v1/users', body: { username: 'zed', password: 'longenough1' }, expect: { admin: 201 } },
  { method: 'PATCH', path: '/api/v1/users/zed', body: { displayName: 'Zed' }, expect: { admin: 200 } },
  { method: 'GET', path: '/api/v1/user-groups', expect: { admin: 200 } },
  { method: 'GET', path: '/api/v1/user-groups/ops', expect: { admin: 200 } },
  { method: 'POST', path: '/api/v1/user-groups', body: { name: 'qa', managers: ['bob'] }, expect: { admin: 201 } },
  { method: 'PATCH', path: '/api/v1/user-groups/qa', body: { requireApproval: true, requireReason: true }, expect: { admin: 200 } },
  { method: 'PUT', path: '/api/v1/user-groups/qa/members/zed', expect: { admin: 200 } },
  { method: 'DELETE', path: '/api/v1/user-groups/qa/members/zed', expect: { admin: 200 } },
  { method: 'GET', path: '/api/v1/device-groups', expect: { admin: 200 } },
  { method: 'GET', path: '/api/v1/device-groups/linux', expect: { admin: 200 } },
  { method: 'POST', path: '/api/v1/device-groups', body: { name: 'win' }, expect: { admin: 201 } },
  { method: 'PATCH', path: '/api/v1/device-groups/win', body: { requireApproval: true, managers: ['carol'] }, expect: { admin: 200 } },
  { method: 'GET', path: '/api/v1/devices', expect: { alice: 200, bob: 200, admin: 200 } },
  { method: 'GET', path: '/api/v1/devices/web01', expect: { alice: 200, bob: 404, admin: 200 } },
  {
    method: 'POST',
    path: '/api/v1/devices',
    body: { name: 'win01', host: '10.0.0.9', protocols: ['rdp'], group: 'win' },
    expect: { admin: 201 },
  },
  { method: 'PATCH', path: '/api/v1/devices/win01', body: { enabled: false }, expect: { admin: 200 } },
  { method: 'GET', path: '/api/v1/devices/web01/accounts', expect: { admin: 200 } },
  { method: 'PUT', path: '/api/v1/devices/win01/accounts/Administrator', body: { password: 'win01-admin-secret' }, expect: { admin: 200 } },
  { method: 'GET', path: '/api/v1/access-rules', expect: { admin: 200 } },
  { method: 'PUT', path: '/api/v1/access-rules/qa/win', body: { protocols: ['rdp'] }, expect: { admin: 200 } },
  { method: 'DELETE', path: '/api/v1/access-rules/qa/win', expect: { admin: 200 } },
  { method: 'GET', path: '/api/v1/workflows', expect: { admin: 200 } },
  {
    method: 'POST',
    path: '/api/v1/workflows',
    body: {
      name: 'qa-win',
      userGroup: 'qa',
      deviceGroup: 'win',
      levels: [{ authority: 'group-manager' }, { authority: 'group-members:dba', quorum: 2, escalateAfterMinutes: 30 }],
    },
    expect: { admin: 201 },
  },
  {
    method: 'POST',
    path: '/api/v1/workflows/check?editing=qa-win',
    body: { name: 'qa-win2', userGroup: 'qa', deviceGroup: 'win', levels: [{ authority: 'group-manager' }] },
    expect: { admin: 200 },
  },
  { method: 'PATCH', path: '/api/v1/workflows/qa-win', body: { levels: [{ authority: 'group-manager' }] }, expect: { admin: 200 } },
  {
    method: 'PUT',
    path: '/api/v1/workflows/qa-win',
    body: { name: 'qa-win', userGroup: 'qa', deviceGroup: 'win', levels: [{ authority: 'line-manager' }] },
    expect: { admin: 200 },
  },
  { method: 'DELETE', path: '/api/v1/workflows/qa-win', expect: { admin: 200 } },
  { method: 'GET', path: '/api/v1/params', expect: { alice: 200, bob: 200, admin: 200 } },
  { method: 'PUT', path: '/api/v1/params/instance.name', body: { value: 'Acme Gate' }, expect: { admin: 200 } },
  { method: 'GET', path: '/api/v1/approvals', expect: { alice: 200, bob: 200, admin: 200 } },
  { method: 'GET', path: '/api/v1/approvals?scope=all', expect: { alice: 403, bob: 403, admin: 200 } },
  { method: 'GET', path: '/api/v1/approvals?scope=to-decide', expect: { alice: 200, bob: 200, admin: 200 } },
  { method: 'GET', path: '/api/v1/approvals?scope=decided', expect: { alice: 200, bob: 200, admin: 200 } },
  { method: 'GET', path: '/api/v1/sessions', expect: { alice: 200, bob: 200, admin: 200 } },
  { method: 'GET', path: '/api/v1/sessions/999', expect: { alice: 404, bob: 404, admin: 404 } },
  { method: 'POST', path: '/api/v1/sessions/999/kill', body: {}, expect: { admin: 404 } },
  { method: 'GET', path: '/api/v1/sessions/999/recording', expect: { admin: 404 } },
  { method: 'GET', path: '/api/v1/sessions/999/statements', expect: { admin: 404 } },
  { method: 'GET', path: '/api/v1/reports/approvals', expect: { admin: 200 } },
  { method: 'GET', path: '/api/v1/mail-settings', expect: { admin: 200 } },
  {
    method: 'PUT',
    path: '/api/v1/mail-settings',
    body: { host: 'mail.example.com', port: 587, security: 'starttls', user: 'gh', password: 'Mail-S3cret-pw', from: 'gh@example.com' },
    expect: { admin: 200 },
  },
  { method: 'GET', path: '/api/v1/webhooks', expect: { admin: 200 } },
  {
    method: 'POST',
    path: '/api/v1/webhooks',
    body: { name: 'hooky', url: 'https://hooks.example.com/x', secret: 'authz-webhook-secret-1' },
    expect: { admin: 201 },
  },
  { method: 'GET', path: '/api/v1/webhooks/deliveries', expect: { admin: 200 } },
  { method: 'POST', path: '/api/v1/webhooks/nope/test', expect: { admin: 404 } },
  { method: 'DELETE', path: '/api/v1/webhooks/nope', expect: { admin: 404 } },
  { method: 'GET', path: '/api/v1/audit', expect: { admin: 200 } },
  { method: 'GET', path: '/api/v1/audit/export?format=json', expect: { admin: 200 } },
  { method: 'GET', path: '/api/v1/audit/values', expect: { admin: 200 } },
  { method: 'GET', path: '/api/v1/connect', expect: { alice: 200, bob: 200, admin: 200 } },
  { method: 'GET', path: '/api/v1/policy/explain?user=alice&device=web01', expect: { admin: 200 } },
  { method: 'GET', path: '/api/v1/tokens', expect: { alice: 200, bob: 200, admin: 200 } },
  { method: 'POST', path: '/api/v1/tokens', body: { name: 'matrix' }, expect: { alice: 201, bob: 201, admin: 201 } },
  { method: 'DELETE', path: '/api/v1/tokens/99999', expect: { alice: 404, bob: 404, admin: 404 } },
  // RDP (src/api/routes/rdp): win01 is reachable by nobody here, which looks like a missing device.
  { method: 'POST', path: '/api/v1/rdp/tickets', body: { device: 'win01' }, expect: { alice: 404, bob: 404, admin: 404 } },
  { method: 'GET', path: '/api/v1/rdp/file?device=win01', expect: { alice: 404, bob: 404, admin: 404 } },
  // Second factor and directory (src/api/routes/second-factor, routes/directory; behaviour tested in test/ldap): who may call them.
  {
    method: 'POST',
    path: '/api/v1/session/second-factor',
    body: { ticket: 'not-a-ticket-0123', code: '123456' },
    expect: { alice: 401, bob: 401, admin: 401 },
  },
  {
    method: 'POST',
    path: '/api/v1/session/second-factor/enrol',
    body: { ticket: 'not-a-ticket-0123' },
    expect: { alice: 401, bob: 401, admin: 401 },
  },
  { method: 'GET', path: '/api/v1/me/second-factor', expect: { alice: 200, bob: 200, admin: 200 } },
  { method: 'POST', path: '/api/v1/me/second-factor', expect: { alice: 200, bob: 200, admin: 200 } },
  { method: 'POST', path: '/api/v1/me/second-factor/confirm', body: { code: '000000' }, expect: { alice: 400, bob: 400, admin: 400 } },
  { method: 'DELETE', path: '/api/v1/me/second-factor', body: { code: '000000' }, expect: { alice: 400, bob: 400, admin: 400 } },
  { method: 'DELETE', path: '/api/v1/users/zed/second-factor', expect: { admin: 200 } },
  { method: 'PUT', path: '/api/v1/user-groups/qa/second-factor', body: { required: false }, expect: { admin: 200 } },
  { method: 'PUT', path: '/api/v1/second-factor/approvers', body: { required: false }, expect: { admin: 200 } },
  // Passkeys (src/api/routes/passkeys; behaviour tested in test/passkeys).
  {
    method: 'POST',
    path: '/api/v1/session/passkey/options',
    body: { ticket: 'not-a-ticket-0123' },
    expect: { alice: 401, bob: 401, admin: 401 },
  },
  {
    method: 'POST',
    path: '/api/v1/session/passkey',
    body: {
      ticket: 'not-a-ticket-0123',
      response: { id: 'AA', rawId: 'AA', type: 'public-key', response: { clientDataJSON: 'AA', authenticatorData: 'AA', signature: 'AA' } },
    },
    expect: { alice: 401, bob: 401, admin: 401 },
  },
  { method: 'GET', path: '/api/v1/me/passkeys', expect: { alice: 200, bob: 200, admin: 200 } },
  { method: 'POST', path: '/api/v1/me/passkeys/options', expect: { alice: 200, bob: 200, admin: 200 } },
  {
    method: 'POST',
    path: '/api/v1/me/passkeys',
    body: {
      name: 'x',
      response: { id: 'AA', rawId: 'AA', type: 'public-key', response: { clientDataJSON: 'AA', attestationObject: 'AA' } },
    },
    expect: { alice: 400, bob: 400, admin: 400 },
  },
  { method: 'DELETE', path: '/api/v1/me/passkeys/99999', expect: { alice: 404, bob: 404, admin: 404 } },
  { method: 'GET', path: '/api/v1/passkeys/holders', expect: { admin: 200 } },
  { method: 'DELETE', path: '/api/v1/users/nobody/passkeys', expect: { admin: 404 } },
  // Nobody here has a passkey: passkey_required (403) for everyone logged in.
  { method: 'POST', path: '/api/v1/approvals/99999/passkey-options', body: { action: 'approve' }, expect: {} },
  { method: 'GET', path: '/api/v1/directory', expect: { admin: 404 } },
  { method: 'POST', path: '/api/v1/directory/sync', body: { dryRun: true }, expect: { admin: 404 } },
  // Single sign-on settings and the leaver (src/api/routes/sso; behaviour tested in test/sso): admins only.
  { method: 'GET', path: '/api/v1/sso/config', expect: { admin: 404 } },
  { method: 'PUT', path: '/api/v1/sso/config', body: { name: 'x' }, expect: { admin: 400 } },
  { method: 'POST', path: '/api/v1/sso/config/test', expect: { admin: 404 } },
  { method: 'DELETE', path: '/api/v1/sso/config', expect: { admin: 200 } },
  { method: 'POST', path: '/api/v1/users/zed/sign-out', expect: { admin: 200 } },
  // SSH login through a link (routes/ssh-sso; behaviour tested in test/sso): any console user may look up a code.
  { method: 'GET', path: '/api/v1/ssh-sso/BCDF-GHJK', expect: { alice: 404, bob: 404, admin: 404 } },
  { method: 'POST', path: '/api/v1/ssh-sso/BCDF-GHJK/confirm', expect: { alice: 404, bob: 404, admin: 404 } },
  { method: 'GET', path: '/api/v1/ssh-sso/groups', expect: { admin: 200 } },
  { method: 'PUT', path: '/api/v1/ssh-sso/groups/qa', body: { method: null }, expect: { admin: 200 } },
];

describe('API authorization (SQLite)', () => {
  let srv: Server;
  const clients = {} as Record<Role, Client>;
  before(async () => {
    srv = await startServer('sqlite');
    clients.anon = new Client(srv.base);
    for (const r of ['alice', 'bob', 'admin'] as const) clients[r] = await login(srv.base, r);
  });
  after(async () => srv?.stop());

  test('health answers without login; the console and OpenAPI are served', async () => {
    assert.equal((await clients.anon.get('/healthz')).status, 200);
    const doc = await clients.anon.get('/api/docs/json');
    assert.equal(doc.status, 200);
    assert.ok(doc.body.paths['/api/v1/approvals/{id}/approve'], 'OpenAPI lists the approve route');
    assert.equal((await clients.anon.get('/api/docs')).status, 200, 'swagger UI (redirect followed)');
  });

  test('role x route matrix (anonymous 401, forbidden 403, allowed 2xx) for every API route', async () => {
    const failures: string[] = [];
    for (const row of ROUTES) {
      for (const role of ['anon', 'alice', 'bob', 'admin'] as Role[]) {
        const want = role === 'anon' ? 401 : (row.expect[role] ?? 403);
        const r = await clients[role].req(row.method, row.path, row.body ?? (row.method === 'POST' ? {} : undefined));
        if (r.status !== want) failures.push(`${role} ${row.method} ${row.path}: ${r.status} (want ${want}) ${r.text.slice(0, 120)}`);
        if (r.status >= 400 && r.body)
          assert.ok(r.body.error?.code && r.body.error?.message, `error shape for ${row.method} ${row.path}: ${r.text}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  test('every route in the OpenAPI document is covered by the matrix or the approval tests', async () => {
    const doc = (await clients.admin.get('/api/docs/json')).body;
    const covered = ROUTES.map((r) => `${r.method} ${r.path.split('?')[0]}`);
    const elsewhere = [
      'POST /api/v1/session',
      'DELETE /api/v1/session',
      'GET /api/v1/events',
      'GET /api/v1/approvals/{id}',
      'POST /api/v1/approvals',
      'PATCH /api/v1/me/password',
      // Public: the login page and the provider's redirect (test/sso).
      'GET /api/v1/sso/status',
      'GET /api/v1/sso/login',
      'GET /api/v1/sso/callback',
    ];
    for (const a of ['approve', 'reject', 'cancel', 'revoke', 'escalate']) elsewhere.push(`POST /api/v1/approvals/{id}/${a}`);
    const missing: string[] = [];
    let seen = 0;
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      if (!path.startsWith('/api/v1')) continue;
      for (const m of Object.keys(ops)) {
        seen++;
        const key = `${m.toUpperCase()} ${path}`;
        const re = new RegExp(`^${key.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[a-zA-Z]+\}/g, '[^/]+')}$`);
        if (!covered.some((c) => re.test(c)) && !elsewhere.includes(key)) missing.push(key);
      }
    }
    assert.ok(seen >= 45, `the OpenAPI document lists ${seen} operations`);
    assert.deepEqual(missing, []);
  });

  test('no secret, hash or token leaves through any GET route', async () => {
    const s = srv.running.services;
    const secrets = ['web01-root-secret', 'db01-pg-secret', 'win01-admin-secret', PW, 'authz-webhook-secret-1'];
    const enc = await dbOf(s).selectFrom('accounts').select('secret_enc').execute();
    const hashes = await dbOf(s).selectFrom('users').select('password_hash').execute();
    const needles = [...secrets, ...enc.map((r) => r.secret_enc), ...hashes.map((r) => r.password_hash).filter((h): h is string => !!h)];
    const tok = await clients.alice.post('/api/v1/tokens', { name: 'leak-check' });
    const tokenRows = await (dbOf(s) as any).selectFrom('api_tokens').select('token_hash').execute();
    needles.push(tok.body.token, ...tokenRows.map((r: { token_hash: string }) => r.token_hash));
    const gets = ROUTES.filter((r) => r.method === 'GET').map((r) => r.path);
    gets.push('/api/v1/devices/win01', '/api/v1/audit?limit=500', '/api/v1/audit/export?format=csv', '/api/v1/approvals?scope=all');
    for (const p of gets)
      for (const role of ['alice', 'bob', 'admin'] as Role[]) {
        const r = await clients[role].get(p);
        for (const n of needles) assert.ok(!r.text.includes(n), `${role} GET ${p} leaks a secret`);
      }
  });

  test('CSRF: a cookie session needs the x-csrf-token header on every state-changing request; Bearer tokens do not', async () => {
    const admin = clients.admin;
    const no = await admin.req('POST', '/api/v1/device-groups', { name: 'csrf1' }, { 'x-csrf-token': '' });
    assert.equal(no.status, 403);
    assert.equal(no.body.error.code, 'csrf');
    const wrong = await admin.req('PATCH', '/api/v1/users/zed', { displayName: 'x' }, { 'x-csrf-token': 'A'.repeat(32) });
    assert.equal(wrong.status, 403);
    const other = await login(srv.base, 'admin');
    const swapped = await admin.req('DELETE', '/api/v1/session', undefined, { 'x-csrf-token': other.csrf! });
    assert.equal(swapped.status, 403, "another session's token does not count");
    assert.equal((await admin.req('GET', '/api/v1/users')).status, 200, 'reads need no token');
    const bearer = await tokenClient(srv.base, 'admin');
    assert.equal((await bearer.post('/api/v1/device-groups', { name: 'csrf2' })).status, 201);
  });

  test('validation errors are 400 with the field named', async () => {
    const a = clients.admin;
    const short = await a.post('/api/v1/users', { username: 'yan', password: 'short' });
    assert.equal(short.status, 400);
    assert.deepEqual([short.body.error.code, short.body.error.field], ['invalid', 'password']);
    const email = await a.post('/api/v1/users', { username: 'yan', email: 'not-an-email', password: 'longenough' });
    assert.deepEqual([email.status, email.body.error.field], [400, 'email']);
    const missing = await a.post('/api/v1/devices', { host: 'x' });
    assert.deepEqual([missing.status, missing.body.error.field], [400, 'name']);
    const proto = await a.post('/api/v1/devices', { name: 'bad1', host: 'h', protocols: ['telnet'] });
    assert.equal(proto.status, 400);
    const param = await a.put('/api/v1/params/approval.reason.min.length', { value: '0' });
    assert.deepEqual([param.status, param.body.error.field], [400, 'value']);
    const unknownParam = await a.put('/api/v1/params/no.such', { value: '1' });
    assert.equal(unknownParam.status, 404);
    const dup = await a.post('/api/v1/users', { username: 'alice', password: 'longenough' });
    assert.equal(dup.status, 409);
    const level = await a.post('/api/v1/workflows', { name: 'w1', userGroup: 'ops', deviceGroup: 'db', levels: [{ authority: 'nobody' }] });
    assert.deepEqual([level.status, level.body.error.field], [400, 'levels.0']);
    const notJson = await a.req('POST', '/api/v1/device-groups', undefined, { 'content-type': 'text/plain' });
    assert.ok(notJson.status === 415 || notJson.status === 400, `non-JSON body refused (${notJson.status})`);
  });

  test('login: wrong password 401, then rate-limited (429 with Retry-After); cookie is HttpOnly and SameSite=Lax', async () => {
    const anon = new Client(srv.base);
    const ok = await anon.post('/api/v1/session', { username: 'gina', password: PW });
    const cookie = ok.headers.get('set-cookie')!;
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.doesNotMatch(cookie, /Secure/, 'plain http: no Secure flag');
    for (let i = 0; i < 5; i++) assert.equal((await anon.post('/api/v1/session', { username: 'hank', password: 'wrong' })).status, 401);
    const limited = await anon.post('/api/v1/session', { username: 'hank', password: PW });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal(limited.body.error.code, 'rate_limited');
    const audit = await clients.admin.get('/api/v1/audit?action=auth.login-failed&actor=hank');
    assert.equal(audit.body.items.length, 5);
  });

  test('logout ends the session; a disabled user is logged out at once', async () => {
    const f = await login(srv.base, 'frank');
    assert.equal((await f.del('/api/v1/session')).status, 200);
    assert.equal((await f.get('/api/v1/session')).status, 401);
    const g = await login(srv.base, 'gina');
    assert.equal((await clients.admin.patch('/api/v1/users/gina', { disabled: true })).status, 200);
    assert.equal((await g.get('/api/v1/session')).status, 401);
  });

  test('API tokens: created, listed and revoked by their owner only; a revoked token is refused', async () => {
    const web = clients.bob;
    const created = await web.post('/api/v1/tokens', { name: 'ci', expiresInDays: 30 });
    assert.equal(created.status, 201);
    assert.match(created.body.token, /^ghp_/);
    const list = await web.get('/api/v1/tokens');
    const row = list.body.items.find((t: any) => t.id === created.body.item.id);
    assert.ok(row && !('token' in row) && !('tokenHash' in row));
    const bearer = new Client(srv.base);
    bearer.token = created.body.token;
    const me = await bearer.get('/api/v1/session');
    assert.deepEqual([me.status, me.body.user.username, me.body.channel, me.body.csrfToken], [200, 'bob', 'api', null]);
    assert.equal((await clients.alice.del(`/api/v1/tokens/${row.id}`)).status, 404, "alice cannot revoke bob's token");
    assert.equal((await bearer.get('/api/v1/session')).status, 200);
    assert.equal((await web.del(`/api/v1/tokens/${row.id}`)).status, 200);
    assert.equal((await bearer.get('/api/v1/session')).status, 401);
    const stored = await (dbOf(srv.running.services) as any)
      .selectFrom('api_tokens')
      .selectAll()
      .where('id', '=', row.id)
      .executeTakeFirst();
    assert.notEqual(stored.token_hash, created.body.token, 'only a hash is stored');
    assert.equal(stored.token_hash.length, 64);
  });
});

describe('session cookie over TLS', () => {
  test('Secure is set when the public URL is https', async () => {
    const srv = await startServer('sqlite', { GATEHOUSE_PUBLIC_URL: 'https://gate.example.com' }, { seed: false });
    try {
      const r = await new Client(srv.base).post('/api/v1/session', { username: 'admin', password: PW });
      assert.match(r.headers.get('set-cookie')!, /; Secure/);
      assert.equal(r.body.sshHost, 'gate.example.com');
    } finally {
      await srv.stop();
    }
  });
});

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies */
// Injection and secrets, through a real `gatehouse serve` process with debug logs, a SIEM file, an SMTP
// sink and a real sshd behind it:
// - SQL metacharacters and markup in names and reasons go in through the API and come back unchanged;
//   the tables are intact;
// - markup in names and reasons is escaped in the approver mail's HTML;
// - terminal escape sequences in an approver's comment and name never reach the SSH client;
// - afterwards, no secret used (user passwords, a wrong guess, device password and private key, API
//   token, session cookie) appears in the server's logs, the SIEM file, the audit export or any API answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { testServices, type TestEnv } from '../helpers/services.js';
import { SSHD_SKIP, makeKey, startSshd, type KeyPair, type Sshd } from '../ssh/peers.js';
import { startSink, waitFor, type Sink } from '../mail/helpers.js';
import { sshExec, startServer, stopServer, type Server } from './server.js';

const ADMIN = { username: 'admin', id: null, channel: 'cli' as const };
const SECRETS = {
  admin: 'Adm1n-Pw-9f3b2c71',
  alice: 'Al1ce-Pw-5e6d7a88',
  bob: 'B0b-Pw-0c1d2e3f4a',
  guess: 'Wr0ng-Guess-77aa19',
  device: 'Dev1ce-Pw-3141b59',
} as const;
const EVIL_NAME = `Alice <script>alert(1)</script> O'Brien"; DROP TABLE users;--`;
const EVIL_REASON = `<img src=x onerror=alert(2)> '; DROP TABLE approval_requests;-- \\ % _ 1' OR '1'='1`;
const ESC_COMMENT = 'no\x1b[2J\x1b]0;pwned\x07\x9b31m way\u202e';

let t: TestEnv;
let sshd: Sshd;
let sink: Sink;
let server: Server;
let dir: string;
let alice: KeyPair;
const answers: string[] = [];

before(async () => {
  if (SSHD_SKIP) return;
  sshd = await startSshd();
  sink = await startSink();
  dir = mkdtempSync(join(tmpdir(), 'gh-rel-inj-'));
  alice = makeKey(dir, 'alice');
  t = await testServices('sqlite', { real: true });
  const s = t.s;
  await s.admin.addUser(ADMIN, { username: 'admin', password: SECRETS.admin, admin: true });
  await s.admin.addUser(ADMIN, {
    username: 'bob',
    displayName: 'Bob \x1b[31mBoss\x1b[0m <b>',
    email: 'bob@example.com',
    password: SECRETS.bob,
  });
  await s.admin.addUser(ADMIN, {
    username: 'alice',
    email: 'alice@example.com',
    password: SECRETS.alice,
    manager: 'bob',
    sshKeys: [alice.public],
  });
  await s.admin.addGroup(ADMIN, 'user', 'ops', { managers: ['bob'], requireApproval: true });
  await s.admin.addMember(ADMIN, 'ops', 'alice');
  await s.admin.addGroup(ADMIN, 'device', 'linux', {});
  await s.admin.addDevice(ADMIN, { name: 'web01', host: '127.0.0.1', protocols: 'ssh,sftp', group: 'linux', port: sshd.port });
  await s.admin.addAccount(ADMIN, 'web01', sshd.account, { privateKey: sshd.accountKey.private });
  await s.admin.addAccount(ADMIN, 'web01', 'deploy', { password: SECRETS.device });
  await s.admin.grantAccess(ADMIN, 'ops', 'linux', 'ssh,sftp');
  server = await startServer({
    dir: t.dir,
    env: {
      GATEHOUSE_SECRET_KEY: t.env.GATEHOUSE_SECRET_KEY,
      GATEHOUSE_LOG_LEVEL: 'debug',
      GATEHOUSE_EVENT_POLL_MS: '100',
      GATEHOUSE_SIEM_FILE: join(dir, 'siem.jsonl'),
      GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
      GATEHOUSE_MAIL_FROM: 'gatehouse@example.com',
    },
  });
});

after(async () => {
  await stopServer(server);
  await sink?.close();
  await sshd?.stop();
  await t?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function session(username: string, password: string) {
  const base = `http://127.0.0.1:${server.web}/api/v1`;
  const r = await fetch(`${base}/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(r.status, 200);
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0];
  const csrf = ((await r.json()) as any).csrfToken as string;
  const call = async (method: string, path: string, body?: unknown, keep = true) => {
    const res = await fetch(base + path, {
      method,
      headers: { cookie, 'x-csrf-token': csrf, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (keep) answers.push(text);
    return {
      status: res.status,
      text,
      body: (() => {
        try {
          return JSON.parse(text);
        } catch {
          return null;
        }
      })() as any,
    };
  };
  return { call, cookie: cookie.split('=')[1] };
}

test(
  'injection: SQL metacharacters and markup round-trip; mail HTML escapes them; SSH strips terminal escapes',
  { skip: SSHD_SKIP },
  async () => {
    const admin = await session('admin', SECRETS.admin);
    assert.equal((await admin.call('PATCH', '/users/alice', { displayName: EVIL_NAME })).status, 200);
    assert.equal((await admin.call('GET', '/users/alice')).body.displayName, EVIL_NAME);

    const al = await session('alice', SECRETS.alice);
    const created = await al.call('POST', '/approvals', { device: 'web01', protocol: 'sftp', reason: EVIL_REASON });
    assert.equal(created.status, 201, created.text);
    const id = created.body.request.id as number;
    assert.equal((await al.call('GET', `/approvals/${id}`)).body.reason, EVIL_REASON);
    const users = await admin.call('GET', '/users');
    assert.ok(JSON.stringify(users.body).includes('"bob"'), 'the users table is intact');

    // The approver mail: the markup is escaped in the HTML part.
    const mail = await waitFor(
      'the approver mail',
      () => sink.messages.find((m) => m.rcpt.includes('bob@example.com') && new RegExp(`#${id}$`).test(m.parsed.subject ?? '')),
      30_000,
      100,
    );
    const html = String(mail.parsed.html || '');
    assert.ok(html.length > 0, 'the mail has an HTML part');
    for (const raw of ['<img src=x onerror', '<script>alert(1)</script>']) assert.ok(!html.includes(raw), `mail HTML carries ${raw}`);
    assert.match(html, /&lt;img src=x onerror=alert\(2\)&gt;/);
    console.log(`# mail HTML escapes the reason and the name; SQL metacharacters stored and returned unchanged`);

    // SSH: bob's name and comment carry terminal escapes; the client sees none.
    const bob = await session('bob', SECRETS.bob);
    const wait = sshExec(server.ssh, alice, 'alice@web01', 'echo never');
    const sshId = Number(/#(\d+)/.exec(await wait.waitFor(/#\d+/, 60_000))![1]);
    assert.equal((await bob.call('POST', `/approvals/${sshId}/reject`, { comment: ESC_COMMENT })).status, 200);
    const run = await wait.done;
    const shown = run.stdout + run.stderr;
    assert.notEqual(run.code, 0);
    assert.match(shown, /no.*way/);
    assert.ok(!/[\u001b\u0007\u009b\u202e]/.test(shown), `escape reached the client: ${JSON.stringify(shown)}`);
    console.log(`# SSH: rejection comment shown as ${JSON.stringify(/no[^\n]*way/.exec(shown)?.[0])}`);

    // An approved session through the vaulted private key, so the device secret is used once.
    const go = sshExec(server.ssh, alice, 'alice@web01', 'echo session-ran');
    const goId = Number(/#(\d+)/.exec(await go.waitFor(/#\d+/, 60_000))![1]);
    assert.equal((await bob.call('POST', `/approvals/${goId}/approve`, { comment: 'ok' })).status, 200);
    const ran = await go.done;
    assert.equal(ran.code, 0, ran.stderr);
  },
);

test('secrets: none appears in logs, SIEM file, audit export or API answers', { skip: SSHD_SKIP }, async () => {
  // A wrong password over SSH and over the API, so the guess passes through both login paths.
  await new Promise<void>((resolve) => {
    const c = new ssh2.Client();
    c.on('error', () => resolve());
    c.on('ready', () => (c.end(), resolve()));
    c.connect({
      host: '127.0.0.1',
      port: server.ssh,
      username: 'alice@web01',
      password: SECRETS.guess,
      tryKeyboard: false,
      readyTimeout: 30_000,
    });
  });
  await fetch(`http://127.0.0.1:${server.web}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: SECRETS.guess }),
  });

  const admin = await session('admin', SECRETS.admin);
  const tok = await admin.call('POST', '/tokens', { name: 'reliability' }, false);
  assert.equal(tok.status, 201);
  const token = tok.body.token as string;
  for (const path of [
    '/users',
    '/users/alice',
    '/users/bob',
    '/devices',
    '/devices/web01',
    '/device-groups',
    '/user-groups',
    '/access-rules',
    '/workflows',
    '/params',
    '/approvals',
    '/sessions',
    '/audit?limit=500',
    '/audit/export?format=json',
    '/audit/export?format=csv',
    '/tokens',
    '/me',
  ])
    await admin.call('GET', path);
  const viaToken = await fetch(`http://127.0.0.1:${server.web}/api/v1/devices/web01`, { headers: { authorization: `Bearer ${token}` } });
  answers.push(await viaToken.text());

  await stopServer(server); // flush the logs and the SIEM file
  const places: Record<string, string> = {
    'server log': server.log.join(''),
    'SIEM file': readFileSync(join(dir, 'siem.jsonl'), 'utf8'),
    'API answers (incl. audit export)': answers.join('\n'),
    mail: sink.messages.map((m) => m.raw).join('\n'),
  };
  const keyLines = sshd.accountKey.private.split('\n').filter((l) => l.length > 40);
  const secrets: Record<string, string> = {
    ...SECRETS,
    token,
    adminCookie: admin.cookie,
    'device private key': keyLines[1] ?? keyLines[0],
  };
  const leaks: string[] = [];
  for (const [where, text] of Object.entries(places))
    for (const [what, secret] of Object.entries(secrets)) if (secret && text.includes(secret)) leaks.push(`${what} in ${where}`);
  console.log(
    `# secrets: ${Object.keys(secrets).length} secrets searched in ${Object.entries(places)
      .map(([k, v]) => `${k} (${v.length} chars)`)
      .join(', ')}`,
  );
  assert.ok(places['SIEM file'].length > 0 && places['server log'].length > 0);
  assert.deepEqual(leaks, []);
});

// Parallel guessing at every limiter: console password, console second-factor step, SSH password, SSH
// keyboard-interactive code, the email-link sign-in form. 20 attempts at once; at most the limit are
// checked (counted from the audit rows of failed checks) and the rest are refused unchecked. On two
// gateway processes sharing one PostgreSQL database, a block on one node holds on the other. The
// email-link form answers a wrong password and someone else's right password alike.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from 'otplib';
import pg from 'pg';
import ssh2 from 'ssh2';
import { Client, login, PW, startServer, type Server } from '../api/helpers.js';
import { freshPgDatabase, PG_SKIP } from '../helpers/db.js';
import { ADMIN } from '../helpers/services.js';
import { startNode, stopNode, type Node } from '../cluster/nodes.js';
import { directoryOf } from '../../src/directory/index.js';
import { DEFAULT_LIMITS } from '../../src/core/limiter.js';
import { createToken } from '../../src/notify/tokens.js';
import type { Services } from '../../src/services.js';
import { dbOf } from '../helpers/kysely.js';

const LIMIT = DEFAULT_LIMITS.perUser;
const PARALLEL = 20;

interface SshTry {
  ok: boolean;
  error: string;
}

/** One SSH login with ssh2: a password, or a key followed by keyboard-interactive answers. */
function sshTry(port: number, username: string, auth: { password?: string; privateKey?: string; answer?: string }): Promise<SshTry> {
  return new Promise((resolve) => {
    const c = new ssh2.Client();
    let settled = false;
    const done = (ok: boolean, error = '') => {
      if (settled) return;
      settled = true;
      c.end();
      resolve({ ok, error });
    };
    c.on('error', (e) => done(false, String(e.message)));
    c.on('close', () => done(false, 'closed'));
    c.on('ready', () => done(true));
    c.on('keyboard-interactive', (_n, _i, _l, prompts, finish) => finish(prompts.map(() => auth.answer ?? '')));
    c.connect({
      host: '127.0.0.1',
      port,
      username,
      password: auth.password,
      privateKey: auth.privateKey,
      tryKeyboard: auth.answer !== undefined,
      readyTimeout: 60_000,
    });
  });
}

async function auditCount(s: Services, action: string, actor: string): Promise<number> {
  const rows = await dbOf(s).selectFrom('audit_log').select('id').where('action', '=', action).where('actor', '=', actor).execute();
  return rows.length;
}

/** Two logins of this user, as the console does them. */
const loginOnce = (base: string, username: string, password: string) =>
  fetch(`${base}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });

describe('hostile: parallel attempts at every limiter (one node, SQLite)', () => {
  let srv: Server;
  let s: Services;
  before(async () => {
    srv = await startServer('sqlite');
    s = srv.running.services;
  });
  after(async () => srv?.stop());
  // Every test starts with clean counters: all attempts come from 127.0.0.1, one address.
  const fresh = () =>
    dbOf(s)
      .deleteFrom('login_attempts' as never)
      .execute();

  test(`console password: ${PARALLEL} parallel wrong passwords, at most ${LIMIT} checked, the rest 429 with Retry-After`, async () => {
    await fresh();
    const res = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => loginOnce(srv.base, 'hank', `wrong-${i}`)));
    const statuses = res.map((r) => r.status);
    assert.equal(statuses.filter((x) => x === 401).length, LIMIT, `statuses: ${statuses}`);
    assert.equal(statuses.filter((x) => x === 429).length, PARALLEL - LIMIT);
    assert.ok(res.filter((r) => r.status === 429).every((r) => Number(r.headers.get('retry-after')) > 0));
    assert.equal(await auditCount(s, 'auth.login-failed', 'hank'), LIMIT, 'only the reserved attempts were checked');
    assert.equal((await loginOnce(srv.base, 'hank', PW)).status, 429, 'the right password is refused too while blocked');
    assert.equal(await auditCount(s, 'auth.login-blocked', 'hank'), 1, 'the block is audited once');
  });

  test(`console second-factor step: ${PARALLEL} parallel wrong codes over four tickets, at most ${LIMIT} checked`, async () => {
    await fresh();
    const gina = (await s.policy.current()).usersByName.get('gina')!;
    const totp = directoryOf(s).totp;
    const secret = (await totp.begin(gina)).secret;
    await totp.confirm(gina, await generate({ secret, epoch: Math.floor(Date.now() / 1000) - 30 }));
    const tickets: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await new Client(srv.base).post('/api/v1/session', { username: 'gina', password: PW });
      assert.equal(r.status, 202, r.text);
      tickets.push(r.body.ticket);
    }
    const res = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        new Client(srv.base).post('/api/v1/session/second-factor', { ticket: tickets[i % 4], code: '000000' }),
      ),
    );
    const statuses = res.map((r) => r.status);
    assert.ok(statuses.filter((x) => x === 401).length <= LIMIT, `statuses: ${statuses}`);
    assert.ok(
      statuses.every((x) => x === 401 || x === 429),
      `statuses: ${statuses}`,
    );
    assert.equal(await auditCount(s, 'auth.second-factor-failed', 'gina'), LIMIT, 'codes checked across every ticket');
    const r = await new Client(srv.base).post('/api/v1/session', { username: 'gina', password: PW });
    const right = await new Client(srv.base).post('/api/v1/session/second-factor', {
      ticket: r.body.ticket,
      code: await generate({ secret }),
    });
    assert.equal(right.status, 429, 'a right code waits for the window too');
  });

  test(`signed-in checks: ${PARALLEL} parallel wrong enrolment codes and wrong current passwords, at most ${LIMIT} checked each`, async () => {
    await fresh();
    const erin = await login(srv.base, 'erin');
    assert.equal((await erin.post('/api/v1/me/second-factor')).status, 200);
    const codes = await Promise.all(
      Array.from({ length: PARALLEL }, () => erin.post('/api/v1/me/second-factor/confirm', { code: '000000' })),
    );
    const cs = codes.map((r) => r.status);
    assert.equal(cs.filter((x) => x === 400).length, LIMIT, `statuses: ${cs}`);
    assert.equal(cs.filter((x) => x === 429).length, PARALLEL - LIMIT);
    await fresh();
    const pws = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        erin.patch('/api/v1/me/password', { current: `wrong-${i}`, password: 'N3w-password-long' }),
      ),
    );
    const ps = pws.map((r) => r.status);
    assert.equal(ps.filter((x) => x === 400).length, LIMIT, `statuses: ${ps}`);
    assert.equal(ps.filter((x) => x === 429).length, PARALLEL - LIMIT);
  });

  test(`SSH password: ${PARALLEL} parallel wrong passwords, at most ${LIMIT} checked`, { skip: false }, async () => {
    await fresh();
    const port = srv.running.sshPort!;
    const res = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => sshTry(port, 'frank@web01', { password: `wrong-${i}` })));
    assert.ok(res.every((r) => !r.ok));
    assert.equal(await auditCount(s, 'ssh.login.failed', 'frank'), LIMIT, 'only the reserved attempts were checked');
    const right = await sshTry(port, 'frank@web01', { password: PW });
    assert.equal(right.ok, false, 'the right password is refused while blocked');
    assert.equal(await auditCount(s, 'ssh.login.blocked', 'frank'), 1);
  });

  test(`SSH keyboard-interactive code: ${PARALLEL} parallel wrong codes after a key, at most ${LIMIT} checked`, async () => {
    await fresh();
    const key = ssh2.utils.generateKeyPairSync('ed25519');
    await s.admin.addUser(ADMIN, { username: 'kim', password: PW, sshKeys: [key.public] });
    await s.admin.addMember(ADMIN, 'ops', 'kim');
    const kim = (await s.policy.current()).usersByName.get('kim')!;
    const totp = directoryOf(s).totp;
    const secret = (await totp.begin(kim)).secret;
    await totp.confirm(kim, await generate({ secret, epoch: Math.floor(Date.now() / 1000) - 30 }));
    const port = srv.running.sshPort!;
    const res = await Promise.all(
      Array.from({ length: PARALLEL }, () => sshTry(port, 'kim@web01', { privateKey: key.private, answer: '000000' })),
    );
    assert.ok(res.every((r) => !r.ok));
    assert.equal(await auditCount(s, 'ssh.login.second-factor-failed', 'kim'), LIMIT, 'only the reserved codes were checked');
    assert.equal(await auditCount(s, 'ssh.login.blocked', 'kim'), 1);
  });

  test(`email-link sign-in: ${PARALLEL} parallel wrong passwords, at most ${LIMIT} checked; someone else's right password answers as a wrong one`, async () => {
    await fresh();
    await s.admin.setParam(ADMIN, 'approval.email.link.requires.login', 'true');
    const r = await s.approvals.request({ username: 'alice', device: 'web01', protocol: 'ssh', channel: 'cli', reason: 'deploy 42' });
    if (r.outcome === 'allowed') throw new Error('expected a request');
    const bob = (await s.policy.current()).usersByName.get('bob')!;
    const db = s.mail;
    const form = (token: string, body: string) =>
      fetch(`${srv.base}/email/approval/${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });

    // The oracle first, on fresh counters: a wrong password and carol's right one get one answer.
    const link = await createToken(db, r.request.id, bob.id, 'approve', 0, Date.now());
    const wrong = await form(link, 'username=bob&password=not-it');
    const carol = await form(link, `username=carol&password=${PW}`);
    const [wText, cText] = [await wrong.text(), await carol.text()];
    assert.equal(carol.status, wrong.status);
    assert.equal(cText, wText, 'identical pages');
    assert.equal(wrong.status, 401);

    await fresh();
    const bulk = await createToken(db, r.request.id, bob.id, 'approve', 0, Date.now());
    const before = await auditCount(s, 'auth.login-failed', 'bob');
    const res = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => form(bulk, `username=bob&password=guess-${i}`)));
    const statuses = res.map((x) => x.status);
    assert.equal(statuses.filter((x) => x === 401).length, LIMIT, `statuses: ${statuses}`);
    // Refused unchecked: 429, and once the link's own limit killed it, 410 for the stragglers.
    assert.ok(
      statuses.every((x) => x === 401 || x === 429 || x === 410),
      `statuses: ${statuses}`,
    );
    assert.equal((await auditCount(s, 'auth.login-failed', 'bob')) - before, LIMIT);
    assert.equal((await form(bulk, `username=bob&password=${PW}`)).status, 410, 'the link died at its limit');
    assert.equal((await s.approvals.get(r.request.id))!.status, 'waiting');
    await s.admin.setParam(ADMIN, 'approval.email.link.requires.login', 'false');
  });
});

describe('hostile: two gateway processes on one PostgreSQL database share the limiter', { skip: PG_SKIP }, () => {
  let nodes: Node[] = [];
  let db: { url: string; drop: () => Promise<void> } | null = null;
  before(async () => {
    db = await freshPgDatabase();
    const env = { DATABASE_URL: db.url, GATEHOUSE_ADMIN_PASSWORD: PW, GATEHOUSE_SECRET_KEY: 'test-vault-key-0123456789abcdef' };
    // One at a time: both run the migrations and create admin on first start.
    nodes.push(await startNode('lim-a', env));
    nodes.push(await startNode('lim-b', env));
  });
  after(async () => {
    for (const n of nodes) await stopNode(n).catch(() => {});
    nodes = [];
    await db?.drop().catch(() => {});
  });

  test(`${PARALLEL} parallel wrong passwords split over two nodes: at most ${LIMIT} checked; then both nodes refuse, over HTTP and SSH`, async () => {
    const [a, b] = nodes;
    const base = (n: Node) => `http://127.0.0.1:${n.web}`;
    const res = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => loginOnce(base(i % 2 ? a : b), 'admin', `wrong-${i}`)));
    const statuses = res.map((r) => r.status);
    assert.equal(statuses.filter((x) => x === 401).length, LIMIT, `statuses: ${statuses}`);
    const c = new pg.Client({ connectionString: db!.url });
    await c.connect();
    try {
      const { rows } = await c.query(`select count(*)::int as n from audit_log where action = 'auth.login-failed' and actor = 'admin'`);
      assert.equal(rows[0].n, LIMIT, 'checked attempts on both nodes together');
    } finally {
      await c.end();
    }
    for (const n of [a, b]) assert.equal((await loginOnce(base(n), 'admin', PW)).status, 429, `node ${n.name} refuses the right password`);
    const ssh = await sshTry(b.ssh, 'admin', { password: PW });
    assert.equal(ssh.ok, false, 'SSH on the other node refuses too');
  });

  test(`SSH: ${PARALLEL} parallel wrong passwords split over two nodes: at most ${LIMIT} checked`, async () => {
    const [a, b] = nodes;
    const res = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) => sshTry((i % 2 ? a : b).ssh, 'ghost@web01', { password: `wrong-${i}` })),
    );
    assert.ok(res.every((r) => !r.ok));
    const c = new pg.Client({ connectionString: db!.url });
    await c.connect();
    try {
      const { rows } = await c.query(`select count(*)::int as n from audit_log where action = 'ssh.login.failed' and actor = 'ghost'`);
      assert.equal(rows[0].n, LIMIT, 'checked attempts on both nodes together');
    } finally {
      await c.end();
    }
  });
});

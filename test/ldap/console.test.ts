// The console with directory users: LDAP login through POST /api/v1/session, a wrong password refused,
// and the TOTP second step (enrolment during login when a group requires it, a wrong code and a replayed
// code refused, a recovery code once), plus the directory's admin routes.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from 'otplib';
import { Client, PW, login, startServer, type Server } from '../api/helpers.js';
import { missing } from '../helpers/peers.js';
import { directoryOf } from '../../src/directory/index.js';
import { GROUPS, PEOPLE, SLAPD, SYNC_DN, SYNC_PW, pwOf, startSlapd, type Slapd } from './slapd.js';

const ADMIN = { username: 'admin', id: null, channel: 'cli' as const };

describe('console login with the directory and TOTP', { skip: missing('slapd', SLAPD !== null, 'apt-get install slapd') }, () => {
  let ldap: Slapd;
  let srv: Server;
  let secret = '';
  let recovery: string[] = [];
  let lastCode = '';
  before(async () => {
    ldap = await startSlapd();
    srv = await startServer('sqlite', {}, { seed: false });
    const s = srv.running.services;
    await directoryOf(s).directory.configure(
      ADMIN,
      { url: ldap.url, bindDn: SYNC_DN, userBase: PEOPLE, groupBase: GROUPS, intervalMinutes: 0 },
      SYNC_PW,
    );
  });
  after(async () => {
    await srv?.stop();
    await ldap?.stop();
  });

  const post = (path: string, body: unknown) => new Client(srv.base).post(path, body);

  test('an admin syncs from the console API; dry run first', async () => {
    const admin = await login(srv.base, 'admin', PW);
    const dry = await admin.post('/api/v1/directory/sync', { dryRun: true });
    assert.equal(dry.status, 200, dry.text);
    assert.equal(dry.body.applied, false);
    const r = await admin.post('/api/v1/directory/sync', {});
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.summary.users.added.sort(), ['alice', 'bob', 'carol', 'dave', 'erin']);
    const v = await admin.get('/api/v1/directory');
    assert.equal(v.body.bindPasswordSet, true);
    assert.ok(!v.text.includes(SYNC_PW));
    const users = await admin.get('/api/v1/users');
    assert.ok(users.text.includes('alice'));
    assert.equal((await (await login(srv.base, 'bob', pwOf('bob'))).get('/api/v1/directory')).status, 403, 'admins only');
  });

  test('LDAP login to the console; a wrong password is refused', async () => {
    const ok = await post('/api/v1/session', { username: 'alice', password: pwOf('alice') });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.user.username, 'alice');
    const bad = await post('/api/v1/session', { username: 'alice', password: 'not-her-password' });
    assert.equal(bad.status, 401);
    assert.ok(!bad.text.includes('not-her-password'));
  });

  test('a group requires the second factor: login asks to enrol, the first code completes enrolment and login', async () => {
    const admin = await login(srv.base, 'admin', PW);
    const r = await admin.put('/api/v1/user-groups/ops/second-factor', { required: true });
    assert.equal(r.status, 200, r.text);
    const step1 = await post('/api/v1/session', { username: 'alice', password: pwOf('alice') });
    assert.equal(step1.status, 202, step1.text);
    assert.equal(step1.body.secondFactor, 'enrol');
    assert.equal(step1.headers.get('set-cookie'), null, 'no session yet');
    const e = await post('/api/v1/session/second-factor/enrol', { ticket: step1.body.ticket });
    assert.equal(e.status, 200, e.text);
    assert.match(e.body.qrDataUrl, /^data:image\/svg\+xml;base64,/);
    secret = e.body.secret;
    assert.equal((await post('/api/v1/session/second-factor', { ticket: step1.body.ticket, code: '000000' })).status, 401);
    lastCode = await generate({ secret });
    const done = await post('/api/v1/session/second-factor', { ticket: step1.body.ticket, code: lastCode });
    assert.equal(done.status, 200, done.text);
    assert.equal(done.body.user.username, 'alice');
    assert.ok(done.headers.get('set-cookie')!.startsWith('gh_session='));
    recovery = done.body.recoveryCodes;
    assert.equal(recovery.length, 10);
    const c = new Client(srv.base);
    c.cookie = done.headers.get('set-cookie')!.split(';')[0];
    const me = await c.get('/api/v1/me/second-factor');
    assert.deepEqual(me.body, { enrolled: true, required: true, recoveryCodesLeft: 10 });
    assert.equal(
      (await post('/api/v1/session/second-factor', { ticket: step1.body.ticket, code: lastCode })).status,
      401,
      'the ticket is spent',
    );
  });

  test('next login: the code is asked; a replayed code is refused; a recovery code works once', async () => {
    const step1 = await post('/api/v1/session', { username: 'alice', password: pwOf('alice') });
    assert.equal(step1.status, 202);
    assert.equal(step1.body.secondFactor, 'required');
    const enrolAgain = await post('/api/v1/session/second-factor/enrol', { ticket: step1.body.ticket });
    assert.equal(enrolAgain.status, 409, 'a password alone cannot replace the second factor');
    const replay = await post('/api/v1/session/second-factor', { ticket: step1.body.ticket, code: lastCode });
    assert.equal(replay.status, 401, 'the code used a moment ago is refused');
    const viaRecovery = await post('/api/v1/session/second-factor', { ticket: step1.body.ticket, code: recovery[0] });
    assert.equal(viaRecovery.status, 200, viaRecovery.text);
    const again = await post('/api/v1/session', { username: 'alice', password: pwOf('alice') });
    assert.equal(
      (await post('/api/v1/session/second-factor', { ticket: again.body.ticket, code: recovery[0] })).status,
      401,
      'a recovery code works once',
    );
    // The next time step's code (a phone clock a little fast) is accepted.
    const next = await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });
    assert.equal((await post('/api/v1/session/second-factor', { ticket: again.body.ticket, code: next })).status, 200);
    const audit = await srv.running.services.adminStore.listAudit({ limit: 50, action: 'auth.login' });
    assert.ok(
      audit.some((a) => a.actor === 'alice' && a.details.secondFactor === 'totp'),
      'the audit log records the second factor',
    );
  });

  test('approvers can be required to pass the second factor; their console decisions then follow it', async () => {
    const admin = await login(srv.base, 'admin', PW);
    // Before: bob (ops' owner in the directory) logs in with his password alone.
    assert.equal((await post('/api/v1/session', { username: 'bob', password: pwOf('bob') })).status, 200);
    assert.equal((await admin.put('/api/v1/second-factor/approvers', { required: true })).status, 200);
    const bob = await post('/api/v1/session', { username: 'bob', password: pwOf('bob') });
    assert.equal(bob.status, 202);
    assert.equal(bob.body.secondFactor, 'enrol');
    assert.equal((await post('/api/v1/session', { username: 'erin', password: pwOf('erin') })).status, 200, 'erin approves nothing');
    assert.equal((await admin.put('/api/v1/second-factor/approvers', { required: false })).status, 200);
    assert.equal((await post('/api/v1/session', { username: 'bob', password: pwOf('bob') })).status, 200);
  });

  test("five wrong codes end the ticket, and the user's code limit holds across new logins", async () => {
    const step1 = await post('/api/v1/session', { username: 'alice', password: pwOf('alice') });
    for (let i = 0; i < 5; i++)
      assert.equal((await post('/api/v1/session/second-factor', { ticket: step1.body.ticket, code: '111111' })).status, 401);
    assert.notEqual(
      (await post('/api/v1/session/second-factor', { ticket: step1.body.ticket, code: recovery[1] })).status,
      200,
      'even an unused recovery code',
    );
    // The limiter counts codes per user in the database, not per ticket: a new login does not reset it.
    const fresh = await post('/api/v1/session', { username: 'alice', password: pwOf('alice') });
    assert.equal(
      (await post('/api/v1/session/second-factor', { ticket: fresh.body.ticket, code: recovery[1] })).status,
      429,
      'a new login is limited too',
    );
  });
});

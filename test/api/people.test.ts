/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies in tests */
// Users and user groups over the API: every field's problem at once and in words, unknown names named,
// the user-group wizard saves all or nothing (also under 20 parallel saves), and a group that would
// refuse everyone is saved with a warning.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { login, startServer, type Client, type Server } from './helpers.js';

const RAW = /must NOT|must have required|must match|body\/|must be equal/;

for (const dialect of ['sqlite', 'postgres'] as const) {
  const skip = dialect === 'postgres' && !process.env.GATEHOUSE_TEST_PG_URL ? 'GATEHOUSE_TEST_PG_URL is not set' : false;
  describe(`people admin over the API (${dialect})`, { skip }, () => {
    let srv: Server;
    let admin: Client;
    before(async () => {
      srv = await startServer(dialect);
      admin = await login(srv.base, 'admin');
    });
    after(async () => srv?.stop());

    test('schema errors: every field at once, in words, the first one still in error.field', async () => {
      const r = await admin.post('/api/v1/users', { username: '', password: 'short', email: 'x'.repeat(400), sshKeys: [{}], zz: 1 });
      assert.equal(r.status, 400, r.text);
      const f = r.body.error.fields;
      assert.equal(f.username, 'Username is required');
      assert.equal(f.password, 'Password needs at least 8 characters');
      assert.equal(f.email, 'Email has at most 320 characters');
      assert.equal(f.sshKeys, 'SSH keys: item 1 must be text');
      assert.equal(f.zz, "unknown field 'zz'");
      assert.ok(r.body.error.field, 'error.field names one of them');
      assert.doesNotMatch(r.text, RAW);
      const missing = await admin.post('/api/v1/user-groups', {});
      assert.deepEqual(missing.body.error.fields, { name: 'Name is required' });
    });

    test('core errors: unknown names and bad values, all at once, per field', async () => {
      const r = await admin.post('/api/v1/users', { username: 'newbie', email: 'not-an-email', manager: 'ghost', password: 'longenough' });
      assert.equal(r.status, 400, r.text);
      assert.deepEqual(r.body.error.fields, { email: 'Email must be an email address', manager: "No user named 'ghost'" });
      assert.match(r.body.error.message, /No user named 'ghost'/, 'the CLI and API clients read every problem in error.message');
      const dup = await admin.post('/api/v1/users', { username: 'alice', password: 'longenough' });
      assert.deepEqual([dup.status, dup.body.error.fields.username], [409, "A user named 'alice' already exists"]);
      const self = await admin.patch('/api/v1/users/alice', { manager: 'alice', email: 'no' });
      assert.deepEqual(self.body.error.fields, { email: 'Email must be an email address', manager: 'A user cannot be their own manager' });
      assert.equal((await srv.running.services.policy.current()).usersByName.has('newbie'), false);
    });

    test('the wizard saves all or nothing: an unknown member leaves no half-made group', async () => {
      const before = await admin.get('/api/v1/user-groups');
      const r = await admin.post('/api/v1/user-groups', {
        name: 'half',
        members: ['alice', 'ghost'],
        managers: ['bob', 'phantom', 'spectre'],
        requireApproval: true,
      });
      assert.equal(r.status, 400, r.text);
      assert.deepEqual(r.body.error.fields, { members: "No user named 'ghost'", managers: "No users named 'phantom', 'spectre'" });
      assert.deepEqual((await admin.get('/api/v1/user-groups')).body, before.body, 'nothing was created');
      const audit = await srv.running.services.adminStore.listAudit({ limit: 5, action: 'user-group' });
      assert.ok(!audit.some((a) => (a.details as any).name === 'half'), 'nothing audited');

      const ok = await admin.post('/api/v1/user-groups', {
        name: 'half',
        members: ['alice', 'dave'],
        managers: ['bob'],
        requireApproval: true,
      });
      assert.equal(ok.status, 201, ok.text);
      assert.deepEqual([ok.body.members, ok.body.managers, ok.body.warnings], [['alice', 'dave'], ['bob'], []]);

      // An edit that fails on one field changes nothing, not even the fields that were right.
      const bad = await admin.patch('/api/v1/user-groups/half', { rename: 'ops', members: ['alice'], requireReason: true });
      assert.equal(bad.status, 409, bad.text);
      assert.equal(bad.body.error.fields.rename, "A user group named 'ops' already exists");
      const now = (await admin.get('/api/v1/user-groups/half')).body;
      assert.deepEqual([now.members, now.requireReason], [['alice', 'dave'], false]);
      const edit = await admin.patch('/api/v1/user-groups/half', { rename: 'whole', members: ['dave'], requireReason: true });
      assert.equal(edit.status, 200, edit.text);
      assert.deepEqual([edit.body.name, edit.body.members, edit.body.requireReason], ['whole', ['dave'], true]);
    });

    test('20 parallel creations of one group: one wins, the rest are refused, members never doubled', async () => {
      const all = await Promise.all(
        Array.from({ length: 20 }, () =>
          admin.post('/api/v1/user-groups', { name: 'race', members: ['alice', 'dave'], managers: ['bob'] }),
        ),
      );
      const codes = all.map((r) => r.status).sort();
      assert.equal(codes.filter((c) => c === 201).length, 1, codes.join(','));
      assert.ok(
        codes.every((c) => c === 201 || c === 409),
        codes.join(','),
      );
      const g = (await admin.get('/api/v1/user-groups/race')).body;
      assert.deepEqual([g.members, g.managers], [['alice', 'dave'], ['bob']]);
    });

    test('Required Managerial Approval with no manager: saved, with a warning that says why', async () => {
      const r = await admin.post('/api/v1/user-groups', { name: 'nomgr', members: ['alice'], requireApproval: true });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.warnings.length, 1);
      assert.match(r.body.warnings[0], /no manager/);
      const fixed = await admin.patch('/api/v1/user-groups/nomgr', { managers: ['bob'] });
      assert.deepEqual(fixed.body.warnings, []);
      const off = await admin.patch('/api/v1/user-groups/nomgr', { managers: [], requireApproval: false });
      assert.deepEqual(off.body.warnings, []);
    });

    test("a user's groups are set with the user, all or nothing", async () => {
      const bad = await admin.post('/api/v1/users', {
        username: 'hugo',
        password: 'longenough',
        groups: ['ops', 'nosuch'],
        manager: 'ghost',
      });
      assert.deepEqual(bad.body.error.fields, { manager: "No user named 'ghost'", groups: "No user group named 'nosuch'" });
      assert.equal((await admin.get('/api/v1/users/hugo')).status, 404);
      const ok = await admin.post('/api/v1/users', { username: 'hugo', password: 'longenough', groups: ['ops'], manager: 'bob' });
      assert.deepEqual([ok.status, ok.body.groups, ok.body.manager], [201, ['ops'], 'bob']);
      const moved = await admin.patch('/api/v1/users/hugo', { groups: ['dba'] });
      assert.deepEqual(moved.body.groups, ['dba']);
    });

    test('a hostile body: thousands of bad items cost one bounded answer', async () => {
      const members = Array.from({ length: 50_000 }, () => ({}));
      const r = await admin.post('/api/v1/user-groups', { name: 'big', members });
      assert.equal(r.status, 400);
      assert.ok(r.text.length < 20_000, `answer size ${r.text.length}`);
      assert.match(r.body.error.fields.members, /Members (has at most 1000 items|: item 1 must be text)/);
    });
  });
}

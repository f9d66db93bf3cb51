// Workflow edit over the API: validated whole (every error at its field), one transaction with its
// audit record, the id (and so precedence) kept; dead ends reported as warnings; devices without an
// account say so. Parallel edits leave one consistent workflow.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { login, startServer, type Client, type Server } from './helpers.js';

describe('workflow edit and dead-end warnings (API)', () => {
  let srv: Server;
  let a: Client;
  before(async () => {
    srv = await startServer('sqlite');
    a = await login(srv.base, 'admin');
  });
  after(async () => srv?.stop());

  test('add, check, PUT and PATCH keep the id, audit the change, and warn about levels that name nobody', async () => {
    const add = await a.post('/api/v1/workflows', {
      name: 'prod-db',
      userGroup: 'ops',
      deviceGroup: 'db',
      levels: [{ authority: 'group-manager' }],
    });
    assert.equal(add.status, 201, add.text);
    assert.deepEqual(add.body.warnings, []);
    const id = add.body.id;

    const empty = await a.post('/api/v1/user-groups', { name: 'nobody-here' });
    assert.equal(empty.status, 201, empty.text);
    const check = await a.post('/api/v1/workflows/check?editing=prod-db', {
      name: 'prod-db',
      userGroup: 'ops',
      deviceGroup: 'db',
      levels: [{ authority: 'group-manager' }, { authority: 'group-members:nobody-here' }, { authority: 'users:frank', quorum: 2 }],
    });
    assert.equal(check.status, 200, check.text);
    assert.deepEqual(
      check.body.warnings.map((w: { field: string }) => w.field),
      ['levels.1', 'levels.2'],
    );
    assert.match(check.body.warnings[0].message, /Level 2 names nobody: user group 'nobody-here' has no enabled member/);
    assert.match(check.body.warnings[1].message, /needs 2 approvals but names only 1 \(frank\)/);

    const put = await a.put('/api/v1/workflows/prod-db', {
      name: 'prod-db2',
      userGroup: 'ops',
      deviceGroup: 'db',
      levels: [{ authority: 'group-members:dba', quorum: 2, escalateAfterMinutes: 30 }, { authority: 'group-members:nobody-here' }],
    });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.id, id, 'an edit keeps the id (the oldest workflow wins among several)');
    assert.equal(put.body.name, 'prod-db2');
    assert.deepEqual(put.body.levels[0], { level: 1, authority: 'group-members:dba', quorum: 2, escalateAfterMinutes: 30 });
    assert.equal(put.body.warnings.length, 1);

    const patch = await a.patch('/api/v1/workflows/prod-db2', { levels: [{ authority: 'users:frank,gina', quorum: 2 }] });
    assert.equal(patch.status, 200, patch.text);
    assert.deepEqual([patch.body.name, patch.body.userGroup, patch.body.levels.length, patch.body.warnings], ['prod-db2', 'ops', 1, []]);

    const audit = await a.get('/api/v1/audit?action=workflow.update');
    assert.equal(audit.status, 200, audit.text);
    const last = audit.body.items[0];
    assert.equal(last.details.before.name, 'prod-db2');
    assert.equal(last.details.name, 'prod-db2');

    const route = await srv.running.services.approvals.decide('alice', 'db01', 'ssh');
    assert.equal(route.outcome, 'approval-required');
  });

  test('every error at its field at once; nothing is written', async () => {
    await a.post('/api/v1/workflows', { name: 'other', userGroup: 'dba', deviceGroup: 'db', levels: [{ authority: 'group-manager' }] });
    const before = (await a.get('/api/v1/workflows')).body.items;
    const bad = await a.put('/api/v1/workflows/other', {
      name: 'prod-db2',
      userGroup: 'ghosts',
      deviceGroup: 'nowhere',
      levels: [{ authority: 'users:ghost' }, { authority: 'group-members:void' }, { authority: 'bogus' }],
    });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.body.error.field, 'name');
    assert.deepEqual(Object.keys(bad.body.error.fields).sort(), ['deviceGroup', 'levels.0', 'levels.1', 'levels.2', 'name', 'userGroup']);
    assert.equal(bad.body.error.fields['levels.0'], "No user named 'ghost'");
    for (const text of [
      /A workflow named 'prod-db2' already exists/,
      /No user group named 'ghosts'/,
      /No device group named 'nowhere'/,
      /No user named 'ghost'/,
      /No user group named 'void'/,
      /level 'bogus'/,
    ])
      assert.match(bad.body.error.message, text);
    assert.deepEqual((await a.get('/api/v1/workflows')).body.items, before);
    const pair = await a.patch('/api/v1/workflows/other', { userGroup: 'ops' });
    assert.equal(pair.status, 400);
    assert.match(pair.body.error.message, /Workflow 'prod-db2' already covers user group 'ops' and device group 'db'/);
    const missing = await a.patch('/api/v1/workflows/nope', { levels: [{ authority: 'group-manager' }] });
    assert.equal(missing.status, 404);
    const extra = await a.patch('/api/v1/workflows/other', { levels: [{ authority: 'group-manager' }], id: 5 });
    assert.equal(extra.status, 400);
    const bob = await login(srv.base, 'bob');
    assert.equal((await bob.patch('/api/v1/workflows/other', { name: 'x' })).status, 403);
  });

  test('20 parallel renames: each succeeds or conflicts, one workflow remains', async () => {
    const res = await Promise.all(Array.from({ length: 20 }, (_, i) => a.patch('/api/v1/workflows/other', { name: `other-${i}` })));
    const ok = res.filter((r) => r.status === 200);
    assert.ok(ok.length >= 1, res.map((r) => r.status).join(','));
    for (const r of res) assert.ok([200, 404, 409].includes(r.status), `${r.status} ${r.text}`);
    const items = (await a.get('/api/v1/workflows')).body.items.filter((w: { userGroup: string }) => w.userGroup === 'dba');
    assert.equal(items.length, 1);
  });

  test('a device without an account or a group says so in the API', async () => {
    const d = await a.post('/api/v1/devices', { name: 'bare01', host: '127.0.0.1', protocols: ['ssh'] });
    assert.equal(d.status, 201, d.text);
    assert.equal(d.body.warnings.length, 2);
    assert.match(d.body.warnings[0], /No account: every connection to bare01 is refused/);
    assert.match(d.body.warnings[1], /In no device group/);
    const list = await a.get('/api/v1/devices');
    const web01 = list.body.items.find((x: { name: string }) => x.name === 'web01');
    assert.deepEqual(web01.warnings, []);
    await a.put('/api/v1/devices/bare01/accounts/root', { password: 'pw-123456' });
    const after = await a.get('/api/v1/devices/bare01');
    assert.equal(after.body.warnings.length, 1);
  });
});

// Workflow administration on a real database (SQLite, and PostgreSQL when GATEHOUSE_TEST_PG_URL is set): dead ends by
// authority, an edit that keeps the id and writes one audit record, and all errors at once.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, seedOrg, testServices, type TestEnv } from '../helpers/services.js';
import { FieldErrors, workflowWarnings } from '../../src/core/admin/workflows.js';
import { deviceWarnings } from '../../src/core/admin/devices.js';
import { parseLevel } from '../../src/core/admin/levels.js';
import { DB_TARGETS } from '../helpers/db.js';

for (const db of DB_TARGETS)
  describe(`workflow administration (${db.name})`, { skip: db.skip }, () => {
    let t: TestEnv;
    before(async () => {
      t = await testServices(db.name);
      await seedOrg(t.s);
    });
    after(async () => t?.cleanup());

    const warnings = async (levels: string[], userGroup = 'ops') => {
      const p = await t.s.policy.current();
      return workflowWarnings(p, { userGroupId: p.userGroupsByName.get(userGroup)!.id, levels: levels.map(parseLevel) }).map(
        (w) => w.message,
      );
    };

    test('dead ends by authority: a group without a manager, members without a line manager, disabled users, a short quorum', async () => {
      await t.s.admin.addGroup(ADMIN, 'user', 'lonely', {});
      await t.s.admin.addMember(ADMIN, 'lonely', 'frank');
      assert.deepEqual(await warnings(['group-manager', 'line-manager']), [], 'ops has bob; alice and dave have managers');
      const [gm, lm] = await warnings(['group-manager', 'line-manager'], 'lonely');
      assert.match(gm, /Level 1 names nobody: user group 'lonely' has no enabled manager/);
      assert.match(lm, /Level 2 names nobody: no member of user group 'lonely' has an enabled line manager/);
      await t.s.admin.setUser(ADMIN, 'hank', { disabled: true });
      assert.match((await warnings(['users:hank']))[0], /Level 1 names nobody: hank is disabled or unknown/);
      assert.match((await warnings(['group-members:dba,quorum=3']))[0], /needs 3 approvals but names only 2 \(frank, gina\)/);
      await t.s.admin.setUser(ADMIN, 'bob', { disabled: true });
      assert.match((await warnings(['group-manager']))[0], /user group 'ops' has no enabled manager/);
      await t.s.admin.setUser(ADMIN, 'bob', { disabled: false });
    });

    test('setWorkflow keeps the id, writes one audit record with the before, and refuses with every error at once', async () => {
      const id = await t.s.admin.addWorkflow(ADMIN, 'prod-db', 'ops', 'db', ['group-manager']);
      const n0 = (await t.s.adminStore.listAudit({ limit: 50, action: 'workflow.update' })).length;
      assert.equal(
        await t.s.admin.setWorkflow(ADMIN, 'prod-db', {
          name: 'prod',
          userGroup: 'ops',
          deviceGroup: 'db',
          levels: ['users:frank,gina,quorum=2'],
        }),
        id,
      );
      const audit = await t.s.adminStore.listAudit({ limit: 50, action: 'workflow.update' });
      assert.equal(audit.length, n0 + 1);
      assert.equal((audit[0].details.before as { name: string }).name, 'prod-db');
      const err = await t.s.admin
        .setWorkflow(ADMIN, 'prod', {
          name: 'bad name',
          userGroup: 'nope',
          deviceGroup: 'db',
          levels: ['users:ghost', 'line-manager,quorum=x'],
        })
        .catch((e: unknown) => e);
      assert.ok(err instanceof FieldErrors);
      assert.deepEqual(Object.keys(err.fields).sort(), ['levels.0', 'levels.1', 'name', 'userGroup']);
      const w = (await t.s.policy.current()).data.workflows.find((x) => x.id === id)!;
      assert.equal(w.name, 'prod', 'nothing written by the refused edit');
    });

    test('device warnings: no account, no group', async () => {
      await t.s.admin.addDevice(ADMIN, { name: 'lone01', host: '10.0.0.9', protocols: 'ssh' });
      const p = await t.s.policy.current();
      assert.equal(deviceWarnings(p, p.devicesByName.get('lone01')!).length, 2);
      assert.deepEqual(deviceWarnings(p, p.devicesByName.get('web01')!), []);
    });
  });

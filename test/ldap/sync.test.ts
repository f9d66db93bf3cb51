// Directory sync against a real OpenLDAP: users, line managers, nested groups, group managers from the
// owner attribute; a second sync after the directory changes (diff summary, leavers disabled); edits of
// directory-owned fields refused; a line-manager workflow following the directory; LDAP login.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DB_TARGETS } from '../helpers/db.js';
import { missing } from '../helpers/peers.js';
import { ADMIN, testServices, type TestEnv } from '../helpers/services.js';
import { GatehouseError } from '../../src/core/errors.js';
import { directoryOf } from '../../src/directory/index.js';
import {
  GROUPS,
  PEOPLE,
  SLAPD,
  SYNC_DN,
  SYNC_PW,
  addPerson,
  addValue,
  dnOf,
  gdnOf,
  pwOf,
  replace,
  startSlapd,
  type Slapd,
} from './slapd.js';

const code = (c: string) => (e: unknown) => e instanceof GatehouseError && e.code === c;
const skip = missing('slapd', SLAPD !== null, 'apt-get install slapd');

for (const target of DB_TARGETS) {
  describe(`directory sync on ${target.name}`, { skip: skip || target.skip }, () => {
    let ldap: Slapd;
    let t: TestEnv;
    before(async () => {
      ldap = await startSlapd();
      t = await testServices(target.name);
      await t.s.admin.addUser(ADMIN, { username: 'admin', password: 'S3cret-pass', admin: true });
      await t.s.admin.addUser(ADMIN, { username: 'local1', password: 'S3cret-pass' });
      await directoryOf(t.s).directory.configure(
        ADMIN,
        {
          url: ldap.url,
          bindDn: SYNC_DN,
          userBase: PEOPLE,
          groupBase: GROUPS,
          intervalMinutes: 0,
          attributes: { groupOwner: 'owner' } as never,
        },
        SYNC_PW,
      );
    });
    after(async () => {
      await t?.cleanup();
      await ldap?.stop();
    });

    const user = async (name: string) => (await t.s.policy.current()).usersByName.get(name)!;
    const groupMembers = async (name: string) => {
      const p = await t.s.policy.current();
      const g = p.userGroupsByName.get(name)!;
      return {
        members: g.memberIds.map((id) => p.usersById.get(id)!.username).sort(),
        managers: g.managerIds.map((id) => p.usersById.get(id)!.username).sort(),
      };
    };

    test('the bind password is sealed and never shown', async () => {
      const v = (await directoryOf(t.s).directory.view())!;
      assert.equal(v.bindPasswordSet, true);
      assert.ok(!JSON.stringify(v).includes(SYNC_PW));
      const row = await directoryOf(t.s).directory.store.config();
      assert.ok(row!.bindPasswordEnc!.startsWith('v1:') && !row!.bindPasswordEnc!.includes(SYNC_PW));
    });

    test('a dry run says what it would do and changes nothing', async () => {
      const r = await directoryOf(t.s).directory.sync(ADMIN, { dryRun: true });
      assert.equal(r.applied, false);
      assert.deepEqual(r.summary.users.added.sort(), ['alice', 'bob', 'carol', 'dave', 'erin']);
      assert.equal((await t.s.policy.current()).usersByName.has('alice'), false);
    });

    test('sync: users, line managers, nested groups and group managers', async () => {
      const r = await directoryOf(t.s).directory.sync(ADMIN);
      assert.equal(r.applied, true);
      assert.deepEqual(r.summary.users.added.sort(), ['alice', 'bob', 'carol', 'dave', 'erin']);
      assert.deepEqual(r.summary.groups.added.sort(), ['engineering', 'leads', 'oncall', 'ops']);
      const p = await t.s.policy.current();
      const alice = await user('alice');
      assert.equal(alice.source, 'ldap');
      assert.equal(alice.email, 'alice@example.com');
      assert.equal(alice.displayName, 'Alice Admin');
      // Three levels: erin → alice → bob → carol.
      assert.equal(p.usersById.get((await user('erin')).managerId!)!.username, 'alice');
      assert.equal(p.usersById.get(alice.managerId!)!.username, 'bob');
      assert.equal(p.usersById.get((await user('bob')).managerId!)!.username, 'carol');
      assert.equal((await user('carol')).managerId, null);
      assert.deepEqual(await groupMembers('oncall'), { members: ['dave'], managers: [] });
      assert.deepEqual(
        await groupMembers('ops'),
        { members: ['alice', 'dave'], managers: ['bob'] },
        'dave through the nested oncall group; bob as owner',
      );
      assert.deepEqual(
        await groupMembers('engineering'),
        { members: ['alice', 'dave'], managers: ['bob', 'carol'] },
        'two levels of nesting; the owner is a group',
      );
      assert.equal((await user('local1')).source, 'local', 'local users stay');
      const audit = await t.s.adminStore.listAudit({ limit: 5, action: 'directory.sync' });
      assert.equal(audit.length, 1);
    });

    test('a second sync with no directory change changes nothing', async () => {
      const r = await directoryOf(t.s).directory.sync(ADMIN);
      assert.equal(r.applied, false);
      assert.deepEqual(r.summary.users, { added: [], changed: [], disabled: [], enabled: [] });
    });

    test("membership read from the users' memberOf (the memberof overlay) gives the same groups", async () => {
      const d = directoryOf(t.s).directory;
      await d.configure(ADMIN, { membership: 'memberOf' });
      try {
        const r = await d.sync(ADMIN, { dryRun: true });
        assert.deepEqual(r.summary.groups, { added: [], changed: [], emptied: [] });
      } finally {
        await d.configure(ADMIN, { membership: 'member' });
      }
    });

    test('directory-owned fields cannot be edited here; local settings can', async () => {
      await assert.rejects(t.s.admin.setUser(ADMIN, 'alice', { email: 'x@example.com' }), code('forbidden'));
      await assert.rejects(t.s.admin.setUser(ADMIN, 'alice', { manager: 'carol' }), code('forbidden'));
      await assert.rejects(t.s.admin.setUser(ADMIN, 'alice', { password: 'Another-pass1' }), code('forbidden'));
      await assert.rejects(t.s.admin.addMember(ADMIN, 'ops', 'local1'), /comes from the directory/);
      await assert.rejects(t.s.admin.setGroup(ADMIN, 'user', 'ops', { managers: ['carol'] }), code('forbidden'));
      await t.s.admin.setGroup(ADMIN, 'user', 'ops', { requireApproval: true });
      assert.equal((await t.s.policy.current()).userGroupsByName.get('ops')!.requireApproval, true);
    });

    test('a line-manager workflow routes alice to her manager from the directory', async () => {
      await t.s.admin.addGroup(ADMIN, 'device', 'linux', {});
      await t.s.admin.addDevice(ADMIN, { name: 'web01', host: '127.0.0.1', protocols: 'ssh', group: 'linux', port: 22 });
      await t.s.admin.addAccount(ADMIN, 'web01', 'root', { password: 'web01-root-secret' });
      await t.s.admin.grantAccess(ADMIN, 'ops', 'linux', 'ssh');
      await t.s.admin.addWorkflow(ADMIN, 'by-manager', 'ops', 'linux', ['line-manager']);
      const r = await t.s.approvals.request({ username: 'alice', device: 'web01', protocol: 'ssh', channel: 'cli', reason: 'deploy 42' });
      if (r.outcome === 'allowed') throw new Error('expected a request');
      assert.deepEqual(r.request.route.levels[0].approverIds, [(await user('bob')).id]);
      await assert.rejects(t.s.approvals.approve(r.request.id, 'carol', { channel: 'cli' }), code('forbidden'));
      assert.equal((await t.s.approvals.approve(r.request.id, 'bob', { channel: 'cli' })).status, 'approved');
    });

    test('LDAP login: a bind as the user; wrong, empty and local-hash passwords refused', async () => {
      assert.equal((await t.s.auth.verifyPassword('alice', pwOf('alice')))?.username, 'alice');
      assert.equal(await t.s.auth.verifyPassword('alice', 'wrong-password'), null);
      assert.equal(await t.s.auth.verifyPassword('alice', ''), null, 'an empty password is never an anonymous bind');
      assert.equal((await t.s.auth.verifyPassword('local1', 'S3cret-pass'))?.username, 'local1', 'local users keep their local password');
    });

    test('the directory changes: the next sync reports the diff, leavers are disabled, never deleted', async () => {
      const c = await ldap.admin();
      try {
        await c.del(dnOf('dave'));
        await replace(c, gdnOf('oncall'), 'member', [dnOf('erin')]);
        await replace(c, dnOf('alice'), 'mail', ['alice.a@example.com']);
        await replace(c, dnOf('alice'), 'manager', [dnOf('carol')]);
        await addPerson(c, 'frank', 'Frank New', 'alice');
        await addValue(c, gdnOf('ops'), 'member', dnOf('frank'));
        await replace(c, gdnOf('ops'), 'owner', [dnOf('carol')]);
      } finally {
        await c.unbind();
      }
      const r = await directoryOf(t.s).directory.sync(ADMIN);
      assert.deepEqual(r.summary.users.added, ['frank']);
      assert.deepEqual(r.summary.users.disabled, ['dave']);
      assert.deepEqual(r.summary.users.changed, [{ username: 'alice', fields: ['email', 'manager'] }]);
      const ops = r.summary.groups.changed.find((g) => g.name === 'ops')!;
      assert.deepEqual(ops, { name: 'ops', membersAdded: ['erin', 'frank'], membersRemoved: ['dave'], managers: ['carol'] });
      const dave = await user('dave');
      assert.ok(dave, 'dave is kept');
      assert.equal(dave.disabled, true);
      assert.equal(await t.s.auth.verifyPassword('dave', pwOf('dave')), null);
      const p = await t.s.policy.current();
      assert.equal(p.usersById.get((await user('alice')).managerId!)!.username, 'carol');
      assert.equal(p.usersById.get((await user('frank')).managerId!)!.username, 'alice');
      assert.deepEqual(await groupMembers('ops'), { members: ['alice', 'erin', 'frank'], managers: ['carol'] });
      // The line-manager route follows the directory at once.
      await t.s.admin.removeWorkflow(ADMIN, 'by-manager');
      await t.s.admin.addWorkflow(ADMIN, 'by-manager', 'ops', 'linux', ['line-manager']);
      const req = await t.s.approvals.request({ username: 'frank', device: 'web01', protocol: 'ssh', channel: 'cli', reason: 'deploy 43' });
      if (req.outcome === 'allowed') throw new Error('expected a request');
      assert.deepEqual(req.request.route.levels[0].approverIds, [(await user('alice')).id]);
    });

    test('a leaver who comes back is enabled again; an admin-disabled user stays disabled', async () => {
      await t.s.admin.setUser(ADMIN, 'erin', { disabled: true });
      const c = await ldap.admin();
      try {
        await addPerson(c, 'dave', 'Dave Dev', 'bob');
      } finally {
        await c.unbind();
      }
      const r = await directoryOf(t.s).directory.sync(ADMIN);
      assert.deepEqual(r.summary.users.enabled, ['dave']);
      assert.equal((await user('dave')).disabled, false);
      assert.equal((await user('erin')).disabled, true);
    });

    test('the schedule syncs when the interval has passed, and not before', async () => {
      const d = directoryOf(t.s).directory;
      await d.configure(ADMIN, { intervalMinutes: 5 });
      const c = await ldap.admin();
      try {
        await addPerson(c, 'gina', 'Gina Sched', 'carol');
      } finally {
        await c.unbind();
      }
      const runs: string[][] = [];
      // Runs the schedule (its first tick is at once) until `done` or `ms` pass, then stops it.
      const during = async (done: () => boolean, ms: number) => {
        const errors: unknown[] = [];
        const stop = d.schedule(
          ADMIN,
          (e) => errors.push(e),
          (r) => runs.push(r.summary.users.added),
        );
        const end = Date.now() + ms;
        while (!done() && errors.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
        stop();
        if (errors.length) throw errors[0];
      };
      // Not due: nothing may run. A negative needs time; 2 s covers the tick's one read on a busy machine.
      await during(() => runs.length > 0, 2000);
      assert.deepEqual(runs, [], 'the last sync was less than 5 minutes ago');
      t.clock.advance(6 * 60_000);
      // Due: wait for the sync itself, however long the machine makes it take.
      await during(() => runs.length > 0, 30_000);
      assert.deepEqual(runs, [['gina']]);
      await d.configure(ADMIN, { intervalMinutes: 0 });
    });

    test('an unreachable directory is a clear error and changes nothing', async () => {
      const d = directoryOf(t.s).directory;
      await d.configure(ADMIN, { url: 'ldap://127.0.0.1:1', timeoutSeconds: 2 });
      await assert.rejects(
        d.sync(ADMIN),
        (e: unknown) => e instanceof GatehouseError && e.code === 'unavailable' && !String(e.message).includes(SYNC_PW),
      );
      assert.equal((await user('alice')).disabled, false);
      await d.configure(ADMIN, { url: ldap.url });
    });
  });
}

// A lockout is the directory's: with OpenLDAP's password policy locking an account after 3 wrong binds,
// the right password no longer logs in through Gatehouse; nothing is cached that could let it in.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Attribute, Change } from 'ldapts';
import { missing } from '../helpers/peers.js';
import { ADMIN, testServices, type TestEnv } from '../helpers/services.js';
import { directoryOf } from '../../src/directory/index.js';
import { GROUPS, PEOPLE, SLAPD, SYNC_DN, SYNC_PW, dnOf, pwOf, startSlapd, type Slapd } from './slapd.js';

describe('directory lockout', { skip: missing('slapd', SLAPD !== null, 'apt-get install slapd') }, () => {
  let ldap: Slapd;
  let t: TestEnv;
  before(async () => {
    ldap = await startSlapd({ ppolicy: true });
    t = await testServices('sqlite');
    const d = directoryOf(t.s).directory;
    await d.configure(ADMIN, { url: ldap.url, bindDn: SYNC_DN, userBase: PEOPLE, groupBase: GROUPS, intervalMinutes: 0 }, SYNC_PW);
    await d.sync(ADMIN);
  });
  after(async () => {
    await t?.cleanup();
    await ldap?.stop();
  });

  test('after the directory locks the account, the right password is refused; unlocking there lets it in again', async () => {
    assert.equal((await t.s.auth.verifyPassword('carol', pwOf('carol')))?.username, 'carol');
    for (let i = 0; i < 3; i++) assert.equal(await t.s.auth.verifyPassword('carol', 'wrong-password'), null);
    assert.equal(await t.s.auth.verifyPassword('carol', pwOf('carol')), null, 'locked by the directory');
    const c = await ldap.admin();
    try {
      await c.modify(dnOf('carol'), [new Change({ operation: 'delete', modification: new Attribute({ type: 'pwdAccountLockedTime' }) })]);
    } finally {
      await c.unbind();
    }
    assert.equal((await t.s.auth.verifyPassword('carol', pwOf('carol')))?.username, 'carol', 'unlocked in the directory');
  });
});

// The directory over TLS, against slapd with a certificate from a test CA: ldaps:// and StartTLS with
// --ca-file, and a server the CA did not sign refused (no silent fallback to trusting anything).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { hasBinary, missing } from '../helpers/peers.js';
import { ADMIN, testServices, type TestEnv } from '../helpers/services.js';
import { GatehouseError } from '../../src/core/errors.js';
import { directoryOf } from '../../src/directory/index.js';
import { GROUPS, PEOPLE, SLAPD, SYNC_DN, SYNC_PW, pwOf, startSlapd, type Slapd } from './slapd.js';

describe(
  'directory over TLS',
  { skip: missing('slapd and openssl', SLAPD !== null && hasBinary('openssl'), 'apt-get install slapd openssl') },
  () => {
    let ldap: Slapd;
    let t: TestEnv;
    before(async () => {
      ldap = await startSlapd({ tls: true });
      t = await testServices('sqlite');
    });
    after(async () => {
      await t?.cleanup();
      await ldap?.stop();
    });

    test('ldaps:// with the CA file: sync and LDAP login', async () => {
      const d = directoryOf(t.s).directory;
      await d.configure(
        ADMIN,
        { url: ldap.ldapsUrl!, caFile: ldap.caFile!, bindDn: SYNC_DN, userBase: PEOPLE, groupBase: GROUPS, intervalMinutes: 0 },
        SYNC_PW,
      );
      const r = await d.sync(ADMIN);
      assert.equal(r.summary.users.added.length, 5);
      assert.equal((await t.s.auth.verifyPassword('alice', pwOf('alice')))?.username, 'alice');
    });

    test('StartTLS on ldap:// with the CA file', async () => {
      const d = directoryOf(t.s).directory;
      await d.configure(ADMIN, { url: ldap.url, startTls: true });
      const r = await d.sync(ADMIN, { dryRun: true });
      assert.deepEqual(r.summary.users.added, []);
      assert.equal((await t.s.auth.verifyPassword('bob', pwOf('bob')))?.username, 'bob');
    });

    test('without the CA the certificate is refused, and nothing changes', async () => {
      const d = directoryOf(t.s).directory;
      await d.configure(ADMIN, { url: ldap.ldapsUrl!, startTls: false, caFile: null });
      await assert.rejects(
        d.sync(ADMIN),
        (e: unknown) => e instanceof GatehouseError && e.code === 'unavailable' && /certificate/i.test(e.message),
      );
      assert.equal(await t.s.auth.verifyPassword('alice', pwOf('alice')), null, 'no login over an unverified connection');
    });
  },
);

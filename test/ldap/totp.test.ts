// TOTP second factor on a controlled clock: RFC 6238 codes in a ±1 step window, the same code refused
// the second time, recovery codes good once, group requirement, the secret sealed in the vault.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from 'otplib';
import { DB_TARGETS } from '../helpers/db.js';
import { ADMIN, testServices, type TestEnv } from '../helpers/services.js';
import { directoryOf } from '../../src/directory/index.js';

for (const target of DB_TARGETS) {
  describe(`TOTP second factor on ${target.name}`, { skip: target.skip }, () => {
    let t: TestEnv;
    let secret = '';
    let recovery: string[] = [];
    before(async () => {
      t = await testServices(target.name);
      await t.s.admin.addUser(ADMIN, { username: 'alice', password: 'S3cret-pass' });
      await t.s.admin.addUser(ADMIN, { username: 'bob', password: 'S3cret-pass' });
      await t.s.admin.addGroup(ADMIN, 'user', 'ops', {});
      await t.s.admin.addMember(ADMIN, 'ops', 'alice');
    });
    after(async () => t?.cleanup());

    const alice = async () => (await t.s.policy.current()).usersByName.get('alice')!;
    const codeAt = (ms: number) => generate({ secret, epoch: Math.floor(ms / 1000) });

    test('not required by default; a group setting requires it', async () => {
      assert.equal(await t.s.auth.secondFactorRequired(await alice()), false);
      const ops = (await t.s.policy.current()).userGroupsByName.get('ops')!;
      await directoryOf(t.s).directory.store.setSecondFactorGroup(ops.id, true, t.clock.now());
      assert.equal(await t.s.auth.secondFactorRequired(await alice()), true);
      assert.equal(await t.s.auth.secondFactorRequired((await t.s.policy.current()).usersByName.get('bob')!), false);
    });

    test('enrolment: QR code, secret sealed, confirmed with a first code, recovery codes once', async () => {
      const e = await directoryOf(t.s).totp.begin(await alice());
      secret = e.secret;
      assert.match(e.otpauthUrl, /^otpauth:\/\/totp\/.*secret=/);
      assert.match(e.qrSvg, /^<svg/);
      assert.match(e.qrDataUrl, /^data:image\/svg\+xml;base64,/);
      const row = await directoryOf(t.s).directory.store.totp((await alice()).id);
      assert.ok(row!.secret_enc.startsWith('v1:') && !row!.secret_enc.includes(secret));
      assert.equal(await t.s.auth.verifyTotp(await alice(), await codeAt(t.clock.now())), false, 'not in force before confirmation');
      assert.equal(await directoryOf(t.s).totp.confirm(await alice(), '000000'), null);
      recovery = (await directoryOf(t.s).totp.confirm(await alice(), await codeAt(t.clock.now())))!;
      assert.equal(recovery.length, 10);
    });

    test('the enrolment code cannot be used again; the next step works once; wrong codes refused', async () => {
      const now = t.clock.now();
      assert.equal(await t.s.auth.verifyTotp(await alice(), await codeAt(now)), false, 'replay of the confirmation code');
      t.clock.advance(30_000);
      const c = await codeAt(t.clock.now());
      assert.equal(await t.s.auth.verifyTotp(await alice(), c), true);
      assert.equal(await t.s.auth.verifyTotp(await alice(), c), false, 'the same code again in its window');
      assert.equal(await t.s.auth.verifyTotp(await alice(), '123456'), false);
      assert.equal(await t.s.auth.verifyTotp(await alice(), ''), false);
      assert.equal(await t.s.auth.verifyTotp(await alice(), 'x'.repeat(100)), false);
    });

    test('window ±1 step: a code from the next step is accepted, one two steps old is not', async () => {
      t.clock.advance(120_000);
      assert.equal(await t.s.auth.verifyTotp(await alice(), await codeAt(t.clock.now() - 60_000)), false, 'two steps old');
      assert.equal(
        await t.s.auth.verifyTotp(await alice(), await codeAt(t.clock.now() + 30_000)),
        true,
        'the next step (a fast phone clock)',
      );
      assert.equal(
        await t.s.auth.verifyTotp(await alice(), await codeAt(t.clock.now())),
        false,
        'an earlier step after a later one was used',
      );
    });

    test('recovery codes work once each, with or without the dash', async () => {
      assert.equal(await t.s.auth.verifyTotp(await alice(), recovery[0]), true);
      assert.equal(await t.s.auth.verifyTotp(await alice(), recovery[0]), false);
      assert.equal(await t.s.auth.verifyTotp(await alice(), recovery[1].replace('-', '').toUpperCase()), true);
      assert.equal(await directoryOf(t.s).totp.recoveryLeft((await alice()).id), 8);
    });

    test('disable removes the secret and the codes', async () => {
      assert.equal(await directoryOf(t.s).totp.disable((await alice()).id), true);
      assert.equal(await t.s.auth.verifyTotp(await alice(), recovery[2]), false);
      assert.equal(await directoryOf(t.s).totp.enrolled((await alice()).id), false);
    });
  });
}

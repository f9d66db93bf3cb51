// The PostgreSQL login's questions with the stock psql: the second factor where the group requires it
// (the code after a colon; libpq's second password round repeats the password, so a missing code gets
// a hint), the reason from the startup options (kept off the device), and
// disable.instant.approval.for.postgres refusing an instant request.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from 'otplib';
import { directoryOf } from '../../src/directory/index.js';
import { ADMIN, ALICE_PW, PG_PEER_SKIP, launchPsql, psql, startDevice, startGateway, type Device, type Gw } from './peer.js';

const OP = { channel: 'cli', proof: 'operator' } as const;

describe('postgres: second factor, reason and instant approval with psql', { skip: PG_PEER_SKIP }, () => {
  let dev: Device;
  let gw: Gw;
  let secret = '';
  // Each code is good once, and only for a later time step than the last one used.
  const code = (offset = 0) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset });
  before(async () => {
    dev = await startDevice();
    gw = await startGateway(dev, { approval: true });
    const d = directoryOf(gw.s);
    const p = await gw.s.policy.current();
    const alice = p.usersByName.get('alice')!;
    secret = (await d.totp.begin(alice)).secret;
    assert.ok(await d.totp.confirm(alice, await code(-30)));
    await d.directory.store.setSecondFactorGroup(p.userGroupsByName.get('ops')!.id, true, Date.now());
    await gw.s.admin.setGroup(ADMIN, 'user', 'ops', { requireReason: true });
  });
  after(async () => {
    await gw?.stop();
    dev?.stop();
  });

  test('without a code psql is told how to give one; a wrong code gets the one answer', async () => {
    const none = await psql(gw.port, 'alice@pgdb01', ALICE_PW, ['-c', 'select 1']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /needs a second factor: give your password followed by a colon and your code/);
    const wrong = await psql(gw.port, 'alice@pgdb01', `${ALICE_PW}:000000`, ['-c', 'select 1']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /FATAL: +Gatehouse: login as "alice@pgdb01" failed: wrong password, or no device/);
  });

  test('disable.instant.approval.for.postgres refuses an instant request and says to reserve', async () => {
    await gw.s.admin.setParam(ADMIN, 'disable.instant.approval.for.postgres', 'true');
    gw.s.params.invalidate();
    try {
      const r = await psql(gw.port, 'alice@pgdb01', `${ALICE_PW}:${await code()}`, ['-c', 'select 1'], {
        env: { PGOPTIONS: '-c gatehouse.reason=ticket\\ 4711' },
      });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /instant approval is disabled for postgres: request ahead with a start and end/);
    } finally {
      await gw.s.admin.setParam(ADMIN, 'disable.instant.approval.for.postgres', 'false');
      gw.s.params.invalidate();
    }
  });

  test('the code after a colon and the reason from PGOPTIONS: the request carries the reason, the device never sees it', async () => {
    const p = launchPsql(
      gw.port,
      'alice@pgdb01',
      `${ALICE_PW}:${await code(30)}`,
      ['-At', '-c', "select coalesce(current_setting('gatehouse.reason', true), 'absent')"],
      { env: { PGOPTIONS: '-c gatehouse.reason=ticket\\ 4711' } },
    );
    const id = Number(/request #(\d+) waiting/.exec(await p.waitFor(/request #\d+ waiting/))![1]);
    assert.equal((await gw.s.approvals.get(id))?.reason, 'ticket 4711');
    await gw.s.approvals.approve(id, 'bob', OP);
    const r = await p.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^(absent|)$/);
    assert.doesNotMatch(r.stdout, /4711/);
  });
});

// Questions after the password, through the `dialog` plugin that the MariaDB client shows as prompts:
// the verification code where the group needs a second factor, and the reason where the rule needs one.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from 'otplib';
import { hasMariaDb } from '../../bench/lib/mariadb.js';
import { ADMIN } from '../../bench/lib/services.js';
import { directoryOf } from '../../src/directory/index.js';
import { missing } from '../helpers/peers.js';
import { mysqlClient, mysqlEnv, waitingRequest, type MysqlEnv } from './helpers.js';

const skip = missing('MariaDB server and client', hasMariaDb(), 'apt-get install mariadb-server mariadb-client');
const OPERATOR = { channel: 'cli' as const, proof: 'operator' as const };

describe('mysql gateway: verification code and reason questions', { skip }, () => {
  let m: MysqlEnv;
  let secret = '';
  const code = (offset = 0) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset });
  before(async () => {
    m = await mysqlEnv();
    const d = directoryOf(m.s);
    const p = await m.s.policy.current();
    const alice = p.usersByName.get('alice')!;
    secret = (await d.totp.begin(alice)).secret;
    assert.ok(await d.totp.confirm(alice, await code(-30)));
    await d.directory.store.setSecondFactorGroup(p.userGroupsByName.get('ops')!.id, true, Date.now());
    await m.s.admin.setGroup(ADMIN, 'user', 'ops', { requireReason: true });
  });
  after(async () => {
    await m?.stop();
  });

  test('a wrong code is refused', async () => {
    const r = await mysqlClient(m.gw.port, 'alice@mdb01', 'select 1', { input: '000000\nwhatever\n' }).done;
    // The client prints its prompts on stdout.
    assert.match(r.out, /Verification code/);
    assert.match(r.err, /wrong verification code/);
  });

  test('the code and the reason are asked, and the request carries the reason', async () => {
    const c = mysqlClient(m.gw.port, 'alice@mdb01', 'select 5', { input: `${await code()}\nfix ticket 77\n` });
    const id = await waitingRequest(m.s, 'alice');
    assert.equal((await m.s.approvals.get(id))?.reason, 'fix ticket 77');
    await m.s.approvals.approve(id, 'bob', OPERATOR);
    const r = await c.done;
    assert.match(r.out, /Reason for connecting to mdb01: +5\n$/, r.err);
  });
});

// The leaver keeps no live device session: disabling the user, or signing them out, ends their live SSH
// sessions from another process (the CLI), whatever approved them.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SSHD_SKIP, startSshd, type Sshd } from './peers.js';
import { ADMIN, cliOk, startGateway, type Gw } from './gateway.js';
import { dbOf } from '../helpers/kysely.js';

describe('ssh proxy: the leaver', { skip: SSHD_SKIP }, () => {
  let sshd: Sshd;
  let gw: Gw;
  before(async () => {
    sshd = await startSshd();
    gw = await startGateway(sshd, { approval: true });
    await gw.s.admin.setGroup(ADMIN, 'user', 'ops', { requireApproval: false });
  });
  after(async () => {
    await gw?.stop();
    await sshd?.stop();
  });

  async function liveSession() {
    const p = gw.ssh('alice@web01', ['echo ready; sleep 120']);
    await p.waitFor(/ready/, 30_000);
    return p;
  }

  async function endReason(): Promise<string> {
    const row = await dbOf(gw.s).selectFrom('sessions').select(['end_reason']).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
    return row.end_reason ?? '';
  }

  test('disabling the user ends their live session', async () => {
    const p = await liveSession();
    await cliOk(gw, ['user', 'set', 'alice', '--disable']);
    const r = await p.done;
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /access ended: the account is disabled/i);
    assert.match(await endReason(), /disabled/);
    await cliOk(gw, ['user', 'set', 'alice', '--enable']);
  });

  test('signing the user out ends their live session, and only theirs', async () => {
    const p = await liveSession();
    const out = await cliOk(gw, ['user', 'sign-out', 'alice']);
    assert.equal(out.code, 0);
    const r = await p.done;
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /signed out by an administrator/i);
    assert.match(await endReason(), /signed out/);
    // A fresh login still works: the sign-out ends what is live, it does not disable.
    const again = await gw.ssh('alice@web01', ['echo back']).done;
    assert.equal(again.stdout, 'back\n');
  });
});

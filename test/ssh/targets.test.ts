// Targets in the username (DESIGN.md): user@device, user@account@device, plain user for the menu —
// and what bad names get: an unknown and a forbidden device the same message, a malformed name a
// clear one, a 10 kB name a refusal that costs nothing.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, run, SSHD_SKIP, startSshd, type Sshd } from './peers.js';
import { ADMIN, startGateway, type Gw } from './gateway.js';

describe('ssh proxy: targets and the menu', { skip: SSHD_SKIP }, () => {
  let sshd: Sshd;
  let gw: Gw;
  before(async () => {
    sshd = await startSshd();
    gw = await startGateway(sshd, { approval: false });
  });
  after(async () => {
    await gw?.stop();
    await sshd?.stop();
  });

  test('an unknown device and a forbidden one get the same message', async () => {
    const unknown = await gw.ssh('alice@nosuch01', ['true']).done;
    const forbidden = await gw.ssh('alice@db01', ['true']).done;
    assert.equal(unknown.code, 1);
    assert.equal(forbidden.code, 1);
    assert.equal(unknown.stderr.replace('nosuch01', 'X'), forbidden.stderr.replace('db01', 'X'));
    assert.match(unknown.stderr, /does not exist or no access rule lets you reach it/);
    const sftp = await run('sftp', ['-P', String(gw.port), ...gw.opts(), '-b', '-', 'alice@db01@127.0.0.1'], { input: 'ls\n' });
    assert.notEqual(sftp.code, 0);
    assert.match(sftp.stderr, /does not exist or no access rule lets you reach it/);
    const account = await gw.ssh('alice@nobody@web01', ['true']).done;
    assert.equal(account.stderr.replace('web01', 'X'), unknown.stderr.replace('nosuch01', 'X'), 'an unknown account too');
  });

  test('a malformed name gets a clear message; a 10 kB name is refused and the gateway carries on', async () => {
    const bad = await run('ssh', ['-p', String(gw.port), ...gw.opts(), '-l', 'alice@@', '127.0.0.1', 'true']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /is not a valid target: use user@device or user@account@device/);
    const tooMany = await run('ssh', ['-p', String(gw.port), ...gw.opts(), '-l', 'alice@a@b@web01', '127.0.0.1', 'true']);
    assert.match(tooMany.stderr, /too many '@'/);
    const t0 = Date.now();
    const huge = await run('ssh', ['-p', String(gw.port), ...gw.opts(), '-l', `alice@${'x'.repeat(10 * 1024)}`, '127.0.0.1', 'true']);
    assert.equal(huge.code, 255, 'authentication fails (OpenSSH truncates its own "Permission denied" line after so long a name)');
    assert.equal(huge.stdout, '');
    assert.ok(Date.now() - t0 < 5000);
    assert.equal((await gw.ssh('alice@web01', ['echo still-here']).done).stdout, 'still-here\n');
  });

  test('plain user without a terminal: told to name a device', async () => {
    const r = await gw.ssh('alice', ['true']).done;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Name the device to reach/);
  });

  test('plain user with a PTY: one device connects at once and exit returns to the menu; with several, a menu', async () => {
    const p = launch('ssh', ['-tt', '-p', String(gw.port), ...gw.opts(), 'alice@127.0.0.1']);
    await p.waitFor(/[#$] $/);
    p.write('exit\n');
    await p.waitFor(/devices you may reach, alice:\r\n\s+1\) web01 \(root\)\s+open/);
    await p.waitFor(/Number or name \(q to quit\): $/);
    p.write('q\r');
    const r = await p.done;
    assert.equal(r.code, 0);

    await gw.s.admin.grantAccess(ADMIN, 'ops', 'db', 'ssh');
    try {
      const m = launch('ssh', ['-tt', '-p', String(gw.port), ...gw.opts(), 'alice@127.0.0.1']);
      await m.waitFor(/1\) db01 \(root\)\s+open\r\n\s+2\) web01 \(root\)\s+open/);
      m.write('9\r');
      await m.waitFor(/'9' is not in the list/);
      m.write('web01\r');
      await m.waitFor(/[#$] $/);
      m.write('echo on-$((6*7))\n');
      await m.waitFor(/on-42/);
      m.write('exit\n');
      await m.waitFor(/Number or name[^\n]*\n[\s\S]*Number or name \(q to quit\): $/);
      m.write('\x03');
      assert.equal((await m.done).code, 0);
    } finally {
      await gw.s.admin.revokeAccess(ADMIN, 'ops', 'db');
    }
  });
});

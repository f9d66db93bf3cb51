// After the link, the rest of the SSH login is unchanged: a user whose group needs the TOTP second
// factor is asked for the code in the same keyboard-interactive exchange, and a wrong code still fails.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import ssh2 from 'ssh2';
import { generate } from 'otplib';
import { directoryOf } from '../../src/directory/index.js';
import { SSHD_SKIP, startSshd, type Sshd } from '../ssh/peers.js';
import { startGateway, type Gw } from '../ssh/gateway.js';

const LINK = /\/sso\/ssh\/([A-Z]{4}-[A-Z]{4}) to sign in, then press Enter$/;

/** Logs in as `username`: at the link prompt the browser's part is done through `confirm`, then `code` answers the next prompt. */
function loginWith(port: number, username: string, confirm: (code: string) => Promise<void>, code: () => Promise<string>) {
  return new Promise<{ ok: boolean; prompts: string[] }>((resolve) => {
    const c = new ssh2.Client();
    const prompts: string[] = [];
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      c.end();
      resolve({ ok, prompts });
    };
    c.on('error', () => done(false));
    c.on('close', () => done(false));
    c.on('ready', () => done(true));
    c.on('keyboard-interactive', (_n, _i, _l, ps, finish) => {
      const p = ps[0]?.prompt ?? '';
      prompts.push(p);
      const m = LINK.exec(p);
      void (m ? confirm(m[1]).then(() => '') : code()).then((a) => finish([a]));
    });
    c.connect({ host: '127.0.0.1', port, username, tryKeyboard: true, readyTimeout: 60_000 });
  });
}

describe('SSH link login, then the second factor', { skip: SSHD_SKIP }, () => {
  let sshd: Sshd;
  let gw: Gw;
  let secret = '';
  before(async () => {
    sshd = await startSshd();
    gw = await startGateway(sshd, { approval: false });
    const d = directoryOf(gw.s);
    const p = await gw.s.policy.current();
    const alice = p.usersByName.get('alice')!;
    secret = (await d.totp.begin(alice)).secret;
    assert.ok(await d.totp.confirm(alice, await generate({ secret, epoch: Math.floor(Date.now() / 1000) - 30 })));
    const ops = p.userGroupsByName.get('ops')!;
    await d.directory.store.setSecondFactorGroup(ops.id, true, Date.now());
    await gw.s.sshSso.setGroupMethod(ops.id, 'sso');
  });
  after(async () => {
    await gw?.stop();
    await sshd?.stop();
  });

  const confirm = async (code: string) => {
    const alice = (await gw.s.policy.current()).usersByName.get('alice')!;
    await gw.s.sshSso.confirm(code, alice, '127.0.0.1');
  };

  test('a wrong code after the link fails; the right one logs in', async () => {
    const wrong = await loginWith(gw.port, 'alice', confirm, async () => '000000');
    assert.equal(wrong.ok, false);
    assert.match(wrong.prompts[0], LINK);
    assert.equal(wrong.prompts[1], 'Verification code: ');
    const right = await loginWith(gw.port, 'alice', confirm, () => generate({ secret }));
    assert.equal(right.ok, true, right.prompts.join(' | '));
    assert.deepEqual(
      right.prompts.map((p) => (LINK.test(p) ? 'link' : p)),
      ['link', 'Verification code: '],
    );
    const audit = await gw.s.adminStore.listAudit({ limit: 10, action: 'ssh.login.second-factor' });
    assert.equal(audit[0]?.details.method, 'sso');
  });
});

// The TOTP second factor with the real OpenSSH client: key first, then the code at the keyboard-interactive
// prompt (answered through SSH_ASKPASS), for ssh, sftp and scp to a real sshd through the gateway.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'otplib';
import { directoryOf } from '../../src/directory/index.js';
import { startGateway, type Gw } from '../ssh/gateway.js';
import { run, SSHD_SKIP, startSshd, type Sshd } from '../ssh/peers.js';

const REMOTE = `/tmp/gh-totp-${process.pid}.txt`;

describe('TOTP with OpenSSH: ssh, sftp and scp', { skip: SSHD_SKIP }, () => {
  let sshd: Sshd;
  let gw: Gw;
  let work: string;
  let secret = '';
  let recovery: string[] = [];
  let askpass = '';
  const codeFile = () => join(work, 'code');
  before(async () => {
    sshd = await startSshd();
    gw = await startGateway(sshd, { approval: false });
    work = mkdtempSync(join(tmpdir(), 'gh-totp-'));
    const d = directoryOf(gw.s);
    const alice = (await gw.s.policy.current()).usersByName.get('alice')!;
    secret = (await d.totp.begin(alice)).secret;
    // Confirmed with the previous step's code: this step's and the next one's are still unused.
    recovery = (await d.totp.confirm(alice, await generate({ secret, epoch: Math.floor(Date.now() / 1000) - 30 })))!;
    const ops = (await gw.s.policy.current()).userGroupsByName.get('ops')!;
    await d.directory.store.setSecondFactorGroup(ops.id, true, Date.now());
    askpass = join(work, 'askpass.sh');
    writeFileSync(askpass, `#!/bin/sh\necho "$1" >> ${askpass}.log\ncat ${codeFile()}\n`);
    chmodSync(askpass, 0o755);
  });
  after(async () => {
    await gw?.stop();
    await sshd?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    rmSync(REMOTE, { force: true });
  });

  const env = () => ({ SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' });
  const interactive = ['-o', 'BatchMode=no', '-o', 'NumberOfPasswordPrompts=1'];
  const answer = (code: string) => writeFileSync(codeFile(), code + '\n');

  test('ssh: the key alone is not enough; a wrong code is refused; the right one lets the command run', async () => {
    answer('000000');
    const wrong = await gw.ssh('alice@web01', ['echo never'], { env: env(), extra: interactive }).done;
    assert.notEqual(wrong.code, 0);
    assert.match(readFileSync(`${askpass}.log`, 'utf8'), /Verification code/);
    answer(await generate({ secret }));
    const ok = await gw.ssh('alice@web01', ['echo through'], { env: env(), extra: interactive }).done;
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'through\n');
    const replay = await gw.ssh('alice@web01', ['echo again'], { env: env(), extra: interactive }).done;
    assert.notEqual(replay.code, 0, 'the same code a second time');
  });

  test('sftp with the next step code', async () => {
    answer(await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
    const r = await run('sftp', ['-P', String(gw.port), ...gw.opts(interactive), 'alice@web01@127.0.0.1'], { env: env(), input: 'pwd\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Remote working directory/);
  });

  test('scp with a recovery code', async () => {
    answer(recovery[0]);
    const src = join(work, 'hello.txt');
    writeFileSync(src, 'hello through the gateway\n');
    const remote = REMOTE;
    const r = await run('scp', ['-P', String(gw.port), ...gw.opts(interactive), src, `alice@web01@127.0.0.1:${remote}`], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const again = await run('scp', ['-P', String(gw.port), ...gw.opts(interactive), src, `alice@web01@127.0.0.1:${remote}`], {
      env: env(),
    });
    assert.notEqual(again.code, 0, 'a recovery code works once');
  });
});

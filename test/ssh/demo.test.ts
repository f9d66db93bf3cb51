// `gatehouse demo`: seeds its own data dir, starts everything, prints the steps — and the steps work:
// alice's ssh waits, bob approves with the CLI command it printed, her shell opens on the device.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, SSHD_SKIP } from './peers.js';

describe('gatehouse demo', { skip: SSHD_SKIP }, () => {
  test('the printed steps lead to an approved session on the demo target', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-demo-'));
    const env = {
      GATEHOUSE_SSH_PORT: '0',
      GATEHOUSE_WEB_PORT: '0',
      GATEHOUSE_RDP_PORT: '0',
      GATEHOUSE_POSTGRES_PORT: '0',
      GATEHOUSE_MYSQL_PORT: '0',
      GATEHOUSE_HTTP_PROXY_PORT: '0',
      GATEHOUSE_DATA_DIR: '/nonexistent-real-data',
      DATABASE_URL: 'postgres://must-not-be-used/x',
    };
    const demo = launch(process.execPath, ['--import', 'tsx', 'test/ssh/cli.ts', 'demo', '--dir', dir, '--builtin-target'], {
      env,
      timeoutMs: 120_000,
    });
    try {
      const out = await demo.waitFor(/Try a rejection too/, 60_000);
      assert.ok(!existsSync('/nonexistent-real-data'), 'the real data dir is not touched');
      const ssh = /ssh -p (\d+) (alice@demo-target@127\.0\.0\.1)/.exec(out)!;
      const password = /alice {2}password (\S+)/.exec(out)![1];
      assert.match(out, /bob {4}password \S+/);
      assert.match(out, /open http:\/\/127\.0\.0\.1:\d+\/ and log in as bob/);
      assert.match(out, /DEMO TARGET/);
      const approveCmd = /(GATEHOUSE_DATA_DIR=\S+) (?:npx gatehouse|\/\S+\/bin\/gatehouse\.js) approvals approve <number> --as bob/.exec(
        out,
      )!;
      assert.equal(approveCmd[1], `GATEHOUSE_DATA_DIR=${dir}`);

      const askpass = join(dir, 'askpass.sh');
      writeFileSync(askpass, `#!/bin/sh\necho '${password}'\n`);
      chmodSync(askpass, 0o755);
      const alice = launch(
        'ssh',
        [
          '-tt',
          '-p',
          ssh[1],
          '-o',
          'StrictHostKeyChecking=no',
          '-o',
          'UserKnownHostsFile=/dev/null',
          '-o',
          'PreferredAuthentications=password',
          ssh[2],
        ],
        {
          env: { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
        },
      );
      const waiting = await alice.waitFor(/press q to cancel/);
      const id = /Request #(\d+)/.exec(waiting)![1];
      assert.match(waiting, /Approver Manager: Bob \(bob\)/);
      const approve = await launch(process.execPath, ['--import', 'tsx', 'test/ssh/cli.ts', 'approvals', 'approve', id, '--as', 'bob'], {
        env: { GATEHOUSE_DATA_DIR: dir, GATEHOUSE_LOG_LEVEL: 'silent' },
      }).done;
      assert.equal(approve.code, 0, approve.stderr);
      await alice.waitFor(/demo@demo-target:~\$ /);
      alice.write('cat motd.txt\r');
      await alice.waitFor(/after your manager approved the request/);
      alice.write('exit\r');
      assert.equal((await alice.done).code, 0);
    } finally {
      demo.proc.kill('SIGINT');
      await demo.done;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The whole flow: a real `gatehouse serve`, Slack set up with the CLI (both secrets on stdin), an OpenSSH
// client waiting for approval, the approver's Slack DM, a signed Approve click, and the waiting ssh
// session released through the gateway to the test sshd.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gh } from '../helpers/cli.js';
import { testServices, type TestEnv } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { SSHD_SKIP, makeKey, startSshd, type KeyPair, type Sshd } from '../ssh/peers.js';
import { sshExec, seedSshOrg, startServer, stopServer, type Server } from '../reliability/server.js';
import { blockActions, buttons, sendSigned, shown, startFakeSlack, type FakeSlack } from './fake-slack.js';

const SECRET = 'f00dfeedf00dfeedf00dfeedf00dfeed';

describe('a waiting ssh session released by a Slack button', { skip: SSHD_SKIP }, () => {
  let t: TestEnv;
  let sshd: Sshd;
  let alice: KeyPair;
  let keyDir: string;
  let slack: FakeSlack;
  let server: Server | undefined;
  let env: Record<string, string>;

  before(async () => {
    sshd = await startSshd();
    keyDir = mkdtempSync(join(tmpdir(), 'gh-chat-keys-'));
    alice = makeKey(keyDir, 'alice');
    slack = await startFakeSlack({ 'bob@example.com': 'UBOB0001', 'alice@example.com': 'UALICE01' });
    t = await testServices('sqlite', { real: true });
    await seedSshOrg(t.s, { alicePublic: alice.public, sshd, devices: ['web01'] });
    env = { GATEHOUSE_SECRET_KEY: t.env.GATEHOUSE_SECRET_KEY, GATEHOUSE_EVENT_POLL_MS: '100' };
  });
  after(async () => {
    await stopServer(server);
    await slack?.close();
    await sshd?.stop();
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
    await t?.cleanup();
  });

  test('ssh waits, bob clicks Approve in Slack, the command runs', async () => {
    const cli = { ...t.env, ...env };
    const set = await gh(['chat', 'slack', 'set', '--bot-token-stdin', '--signing-secret-stdin', '--api-url', slack.url], {
      env: cli,
      input: `${slack.token}\n${SECRET}\n`,
    });
    assert.equal(set.code, 0, set.stderr);
    assert.ok(!set.stdout.includes(slack.token) && !set.stdout.includes(SECRET), 'secrets are never printed');
    const show = await gh(['chat', 'slack', 'show', '--json'], { env: cli });
    assert.equal(JSON.parse(show.stdout).configured, true);
    assert.ok(!show.stdout.includes(slack.token) && !show.stdout.includes(SECRET));

    server = await startServer({ dir: t.dir, env });
    const client = sshExec(server.ssh, alice, 'alice@web01', 'echo released-by-slack');
    const id = Number(/#(\d+)/.exec(await client.waitFor(/#\d+/, 90_000))![1]);
    const dm = await waitFor('bob’s DM', () => slack.dmsTo('UBOB0001').find((m) => shown(m).includes(`#${id}:`)), 30_000);
    assert.deepEqual(buttons(dm), ['gatehouse_approve', 'gatehouse_reject', 'gatehouse_open']);
    const click = await sendSigned(
      `http://127.0.0.1:${server.web}/api/v1/chat/slack/interactions`,
      SECRET,
      blockActions(slack, { user: 'UBOB0001', action: 'gatehouse_approve', requestId: id, message: dm }),
    );
    assert.equal(click.status, 200);
    const done = await client.done;
    assert.equal(done.code, 0, client.stderr());
    assert.match(client.stdout(), /released-by-slack/);
    await waitFor('the DM shows the approval', () => shown(dm).includes('Approved by bob in Slack'), 30_000);
    await waitFor('alice hears', () => slack.dmsTo('UALICE01').length === 1, 30_000);
    assert.deepEqual(slack.problems, []);
  });
});

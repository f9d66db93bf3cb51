// The README walkthrough through the real CLI process, and its errors.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import Database from 'better-sqlite3';
import { gh, ghJson } from '../helpers/cli.js';
import { PARAM_DEFS } from '../../src/core/params.js';

const ALICE_PUB = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJQ4laOdEqyYmU4iVzryl0F/J2GKNsBlWtM1XZhsPDME alice@example';
const DEVICE_PASSWORD = 'Dev1ce-Secret-Pw!';
/** One name in every channel: the Approver Manager as "Display Name (username)". */
const BOB = 'Bob Manager (bob)';

describe('CLI walkthrough (README) on SQLite', () => {
  let dir: string;
  let env: Record<string, string>;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-cli-'));
    env = { GATEHOUSE_DATA_DIR: join(dir, 'data'), GATEHOUSE_LOG_LEVEL: 'silent' };
    writeFileSync(join(dir, 'alice.pub'), ALICE_PUB + '\n');
    const kp = ssh2.utils.generateKeyPairSync('ed25519');
    writeFileSync(join(dir, 'id_ed25519'), kp.private);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[], input?: string) => gh(args, { env, input });

  test('first run creates admin with a password printed once, and a 0600 vault key', async () => {
    const r = await run(['user', 'list']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /created user 'admin' with password \S{12,}/);
    assert.match(r.stdout, /admin/);
    const key = join(env.GATEHOUSE_DATA_DIR, 'secret.key');
    assert.ok(existsSync(key));
    assert.equal(statSync(key).mode & 0o777, 0o600);
    const again = await run(['user', 'list']);
    assert.doesNotMatch(again.stderr, /password/, 'printed once only');
  });

  test('the walkthrough works as written', async () => {
    const ok = async (args: string[], input?: string) => {
      const r = await run(args, input);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    await ok(['user', 'add', 'bob', '--display-name', 'Bob Manager', '--email', 'bob@example.com', '--password-stdin'], 'S3cret-pass\n');
    await ok(
      ['user', 'add', 'alice', '--email', 'alice@example.com', '--password-stdin', '--ssh-key', join(dir, 'alice.pub'), '--manager', 'bob'],
      'S3cret-pass\n',
    );
    await ok(['group', 'add', 'ops', '--manager', 'bob', '--require-approval', '--require-reason']);
    await ok(['group', 'add-member', 'ops', 'alice']);
    await ok(['device-group', 'add', 'linux', '--manager', 'carol'].slice(0, 3));
    await ok(['device', 'add', 'web01', '--host', '10.0.0.5', '--port', '22', '--protocols', 'ssh,sftp', '--group', 'linux']);
    await ok(['device', 'account', 'add', 'web01', 'root', '--key-file', join(dir, 'id_ed25519')]);
    await ok(['device', 'account', 'add', 'web01', 'deploy', '--password-stdin'], DEVICE_PASSWORD + '\n');
    await ok(['access', 'grant', 'ops', 'linux', '--protocols', 'ssh,sftp']);
    await ok(['group', 'add', 'dev', '--manager', 'bob']);
    await ok(['group', 'add', 'dba']);
    await ok(['device-group', 'add', 'db', '--require-approval']);
    await ok([
      'workflow',
      'add',
      'prod-db',
      '--user-group',
      'dev',
      '--device-group',
      'db',
      '--level',
      'group-manager',
      '--level',
      'group-members:dba,quorum=2,escalate=30',
    ]);

    const explain = await ghJson<{ outcome: string; approverManager: string[]; requireReason: boolean; why: string }>(
      ['policy', 'explain', 'alice', 'web01'],
      { env },
    );
    assert.equal(explain.outcome, 'approval-required');
    assert.deepEqual(explain.approverManager, [BOB]);
    assert.equal(explain.requireReason, true);
    assert.match(explain.why, /user group 'ops'/);
    const text = await ok(['policy', 'explain', 'alice', 'web01']);
    assert.match(text, /Approver Manager: Bob Manager \(bob\)/);

    const req = await ghJson<{ id: number; status: string; approverManager: string[] }>(
      ['approvals', 'request', 'web01', '--as', 'alice', '--protocol', 'ssh', '--reason', 'deploy 42'],
      { env },
    );
    assert.equal(req.status, 'waiting');
    assert.deepEqual(req.approverManager, [BOB]);
    const approved = await ghJson<{ status: string; decisions: { by: string; comment: string; channel: string }[] }>(
      ['approvals', 'approve', String(req.id), '--as', 'bob', '--comment', 'ok'],
      { env },
    );
    assert.equal(approved.status, 'approved');
    assert.deepEqual(
      approved.decisions.map((d) => [d.by, d.comment, d.channel]),
      [[BOB, 'ok', 'cli']],
    );
    // The same name for the decider, in the table (not "-") and in `approvals show`.
    const table = await ok(['approvals', 'list']);
    assert.match(
      table.split('\n').find((l) => l.startsWith(String(req.id)))!,
      /approved .*Bob Manager \(bob\)/,
    );
    const shown = await ok(['approvals', 'show', String(req.id)]);
    assert.match(shown, /Approver Manager: Bob Manager \(bob\)/);
    assert.match(shown, /outcome: +approved by Bob Manager \(bob\) at /);
    const after = await ghJson<{ outcome: string }>(['policy', 'explain', 'alice', 'web01'], { env });
    assert.equal(after.outcome, 'allowed', 'the grant lets alice through');

    const list = await ghJson<{ id: number; status: string }[]>(['approvals', 'list', '--as', 'alice'], { env });
    assert.deepEqual(
      list.map((x) => [x.id, x.status]),
      [[req.id, 'approved']],
    );
    const wf = await ghJson<{ name: string; levels: string[] }[]>(['workflow', 'list'], { env });
    assert.equal(wf[0].name, 'prod-db');
  });

  test('bad input gets a clear error and a non-zero exit', async () => {
    const unknownUser = await run(['approvals', 'approve', '1', '--as', 'nobody']);
    assert.equal(unknownUser.code, 1);
    assert.match(unknownUser.stderr, /unknown user 'nobody'/);

    const badParam = await run(['params', 'set', 'approval.validity.minutes', 'soon']);
    assert.equal(badParam.code, 2);
    assert.match(badParam.stderr, /must be a whole number/);
    const unknownParam = await run(['params', 'set', 'no.such', '1']);
    assert.notEqual(unknownParam.code, 0);
    assert.match(unknownParam.stderr, /unknown parameter/);

    const r = await ghJson<{ id: number }>(
      ['approvals', 'request', 'web01', '--as', 'alice', '--protocol', 'sftp', '--reason', 'fetch logs'],
      { env },
    );
    const own = await run(['approvals', 'approve', String(r.id), '--as', 'alice']);
    assert.equal(own.code, 1);
    assert.match(own.stderr, /cannot approve your own request/);
    const ownJson = await run(['approvals', 'approve', String(r.id), '--as', 'alice', '--json']);
    assert.equal(JSON.parse(ownJson.stdout).error.code, 'self_approval');

    const shortReason = await run(['approvals', 'request', 'web01', '--as', 'alice', '--protocol', 'sftp', '--reason', 'x']);
    assert.equal(shortReason.code, 1);
    assert.match(shortReason.stderr, /at least 5 characters/);

    // Time passes: move the deadline into the past, as if the request had waited 30 minutes.
    const db = new Database(join(env.GATEHOUSE_DATA_DIR, 'gatehouse.db'));
    db.prepare('update approval_requests set expires_at = ? where id = ?').run(Date.now() - 1000, r.id);
    db.close();
    const expired = await run(['approvals', 'approve', String(r.id), '--as', 'bob']);
    assert.equal(expired.code, 1);
    assert.match(expired.stderr, /has expired/);
    const shown = await ghJson<{ status: string }>(['approvals', 'show', String(r.id)], { env });
    assert.equal(shown.status, 'expired');

    const unknownDevice = await run(['approvals', 'request', 'nosuch', '--as', 'alice', '--reason', 'deploy 42']);
    const forbidden = await run(['approvals', 'request', 'web01', '--as', 'bob', '--reason', 'deploy 42']);
    assert.equal(unknownDevice.code, 1);
    assert.equal(unknownDevice.stderr, forbidden.stderr, 'unknown and forbidden devices look the same');

    const badName = await run(['device', 'add', 'bad@name', '--host', 'h', '--protocols', 'ssh']);
    assert.equal(badName.code, 2);
    const badProto = await run(['device', 'add', 'x1', '--host', 'h', '--protocols', 'telnet']);
    assert.match(badProto.stderr, /unknown protocol 'telnet'/);
    const dup = await run(['user', 'add', 'alice']);
    assert.match(dup.stderr, /already exists/);

    // Several members in one command: all or nothing, every unknown name at once.
    const typo = await run(['group', 'add-member', 'dba', 'alice', 'nobody', 'bob', 'ghost']);
    assert.equal(typo.code, 1);
    assert.match(typo.stderr, /unknown users 'nobody', 'ghost'/);
    const members = async () =>
      (await ghJson<{ name: string; members: string[] }[]>(['group', 'list'], { env })).find((g) => g.name === 'dba')!.members;
    assert.deepEqual(await members(), [], 'a typo adds nobody');
    const ok2 = async (args: string[]) => assert.equal((await run(args)).code, 0, args.join(' '));
    await ok2(['group', 'add-member', 'dba', 'alice', 'bob']);
    assert.deepEqual((await members()).sort(), ['alice', 'bob']);
    await ok2(['group', 'remove-member', 'dba', 'alice', 'bob']);
    assert.deepEqual(await members(), []);
  });

  test('HTTP device options from the CLI, validated', async () => {
    const add = await run([
      'device',
      'add',
      'graf',
      '--host',
      '127.0.0.1',
      '--http-port',
      '3000',
      '--protocols',
      'http',
      '--group',
      'linux',
      '--http-scheme',
      'https',
      '--http-tls',
      'off',
      '--http-auth',
      'header:X-Api-Key',
    ]);
    assert.equal(add.code, 0, add.stderr);
    assert.equal((await run(['device', 'set', 'graf', '--http-tls', 'verify'])).code, 0);
    const db = new Database(join(env.GATEHOUSE_DATA_DIR, 'gatehouse.db'));
    const row = db.prepare("select options, ports from devices where name = 'graf'").get() as { options: string; ports: string };
    db.close();
    assert.deepEqual(JSON.parse(row.options), { http: { scheme: 'https', tls: 'verify', auth: 'header:X-Api-Key' } });
    assert.deepEqual(JSON.parse(row.ports), { http: 3000 });
    // --port changes an existing device's port (it used to be ignored once the device had ports).
    assert.equal((await run(['device', 'set', 'web01', '--port', '2200'])).code, 0);
    const web01 = (await ghJson<{ name: string; ports: Record<string, number> }[]>(['device', 'list'], { env })).find(
      (d) => d.name === 'web01',
    )!;
    assert.deepEqual(web01.ports, { ssh: 2200, sftp: 2200 });
    const bad = await run(['device', 'set', 'graf', '--http-tls', 'bogus']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--http-tls must be/);
    // TLS to database devices: a mode or a certificate pin, checked when given.
    const pg = await run(['device', 'add', 'pgdb01', '--host', '127.0.0.1', '--protocols', 'postgres,mysql', '--postgres-tls', 'require']);
    assert.equal(pg.code, 0, pg.stderr);
    assert.equal((await run(['device', 'set', 'pgdb01', '--mysql-tls', `sha256:${'ab'.repeat(32)}`])).code, 0);
    const opts = new Database(join(env.GATEHOUSE_DATA_DIR, 'gatehouse.db'));
    const pgRow = opts.prepare("select options from devices where name = 'pgdb01'").get() as { options: string };
    opts.close();
    assert.deepEqual(JSON.parse(pgRow.options), { postgresTls: 'require', mysqlTls: `sha256:${'ab'.repeat(32)}` });
    const typo = await run(['device', 'set', 'pgdb01', '--postgres-tls', 'sha256:nope']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /--postgres-tls must be prefer, require, off or sha256/);
  });

  test('secrets never appear in CLI output or the audit log', async () => {
    const outputs = [
      await run(['device', 'list', '--json']),
      await run(['device', 'list']),
      await run(['audit', 'list', '--limit', '1000', '--json']),
      await run(['user', 'list', '--json']),
    ];
    const key = (await import('node:fs')).readFileSync(join(dir, 'id_ed25519'), 'utf8').split('\n')[1];
    for (const o of outputs) {
      assert.ok(!o.stdout.includes(DEVICE_PASSWORD) && !o.stderr.includes(DEVICE_PASSWORD));
      assert.ok(!o.stdout.includes(key));
      assert.ok(!o.stdout.includes('S3cret-pass'));
      assert.ok(!/\$argon2id\$/.test(o.stdout), 'no password hash');
    }
  });

  test('every command has --help and takes --json', async () => {
    for (const cmd of [
      ['approvals', '--help'],
      ['approvals', 'request', '--help'],
      ['user', 'add', '--help'],
      ['policy', 'explain', '--help'],
    ]) {
      const r = await run(cmd);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /Usage: gatehouse/);
    }
    const params = await ghJson<{ name: string; value: string }[]>(['params', 'list'], { env });
    assert.equal(params.length, PARAM_DEFS.length);
    const audit = await ghJson<{ action: string }[]>(['audit', 'list', '--action', 'approval.'], { env });
    assert.ok(audit.some((a) => a.action === 'approval.approve'));
  });
});

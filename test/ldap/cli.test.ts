// The CLI: gatehouse directory set (bind password from stdin, never echoed), show, sync --dry-run, sync;
// the human summary; user totp enroll/confirm/status/disable; group second-factor.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'otplib';
import { gh, ghJson } from '../helpers/cli.js';
import { missing } from '../helpers/peers.js';
import { GROUPS, PEOPLE, SLAPD, SYNC_DN, SYNC_PW, startSlapd, type Slapd } from './slapd.js';

describe('gatehouse directory and user totp', { skip: missing('slapd', SLAPD !== null, 'apt-get install slapd') }, () => {
  let ldap: Slapd;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    ldap = await startSlapd();
    dir = mkdtempSync(join(tmpdir(), 'gh-ldap-cli-'));
    env = {
      GATEHOUSE_DATA_DIR: dir,
      GATEHOUSE_SECRET_KEY: 'test-vault-key-0123456789abcdef',
      GATEHOUSE_ADMIN_PASSWORD: 'admin-pass-123',
      GATEHOUSE_LOG_LEVEL: 'silent',
    };
  });
  after(async () => {
    await ldap?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('set, show (no password), a bad URL refused with the field named', async () => {
    const set = await gh(
      [
        'directory',
        'set',
        '--url',
        ldap.url,
        '--bind-dn',
        SYNC_DN,
        '--bind-password-stdin',
        '--user-base',
        PEOPLE,
        '--group-base',
        GROUPS,
        '--attr-group-owner',
        'owner',
        '--interval',
        '0',
      ],
      { env, input: SYNC_PW + '\n' },
    );
    assert.equal(set.code, 0, set.stderr);
    assert.ok(!set.stdout.includes(SYNC_PW));
    const show = await gh(['directory', 'show'], { env });
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /bindPassword\s+\(set, in the vault\)/);
    assert.ok(!show.stdout.includes(SYNC_PW));
    const bad = await gh(['directory', 'set', '--url', 'http://example.com'], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /url/);
  });

  test('sync --dry-run, then sync: the summary', async () => {
    const dry = await gh(['directory', 'sync', '--dry-run'], { env });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /Dry run: nothing was changed/);
    assert.match(dry.stdout, /users added: +alice, bob, carol, dave, erin/);
    const r = await ghJson<{ applied: boolean; summary: { groups: { added: string[] } } }>(['directory', 'sync'], { env });
    assert.equal(r.applied, true);
    assert.deepEqual(r.summary.groups.added.sort(), ['engineering', 'leads', 'oncall', 'ops']);
    const edit = await gh(['user', 'set', 'alice', '--email', 'x@example.com'], { env });
    assert.equal(edit.code, 1);
    assert.match(edit.stderr, /comes from the directory/);
  });

  test('user totp enroll, confirm (recovery codes), status, group second-factor, disable', async () => {
    const e = await ghJson<{ otpauthUrl: string; secret: string }>(['user', 'totp', 'enroll', 'alice'], { env });
    assert.match(e.otpauthUrl, /^otpauth:\/\/totp\//);
    const wrong = await gh(['user', 'totp', 'confirm', 'alice', '000000'], { env });
    assert.equal(wrong.code, 2);
    const c = await ghJson<{ recoveryCodes: string[] }>(['user', 'totp', 'confirm', 'alice', await generate({ secret: e.secret })], {
      env,
    });
    assert.equal(c.recoveryCodes.length, 10);
    assert.equal((await gh(['group', 'second-factor', 'ops', 'on'], { env })).code, 0);
    const st = await ghJson(['user', 'totp', 'status', 'alice'], { env });
    assert.deepEqual(st, { username: 'alice', enrolled: true, requiredByGroup: true, recoveryCodesLeft: 10 });
    assert.equal((await gh(['user', 'totp', 'disable', 'alice'], { env })).code, 0);
    assert.equal((await ghJson(['user', 'totp', 'status', 'alice'], { env })).enrolled, false);
  });
});

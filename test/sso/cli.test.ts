// The CLI: gatehouse sso set (secret from stdin, never echoed), show, test (discovery and a dry run, clear
// errors), off; and gatehouse user sign-out (the leaver).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOidc, type OidcPeer } from '../../bench/lib/oidc.js';
import { gh, ghJson } from '../helpers/cli.js';
import { USERS } from './helpers.js';

describe('gatehouse sso set|show|test|off and user sign-out', () => {
  let idp: OidcPeer;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    idp = await startOidc('http://127.0.0.1:8080/api/v1/sso/callback', USERS);
    dir = mkdtempSync(join(tmpdir(), 'gh-sso-cli-'));
    env = {
      GATEHOUSE_DATA_DIR: dir,
      GATEHOUSE_SECRET_KEY: 'test-vault-key-0123456789abcdef',
      GATEHOUSE_ADMIN_PASSWORD: 'admin-pass-123',
      GATEHOUSE_LOG_LEVEL: 'silent',
      GATEHOUSE_PUBLIC_URL: 'https://gate.example.com',
    };
  });
  after(async () => {
    await idp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('set needs a secret; then show never prints it and names the redirect URI; test discovers', async () => {
    const none = await gh(['sso', 'set', '--issuer', idp.issuer, '--client-id', idp.clientId], { env });
    assert.equal(none.code, 2, none.stderr);
    assert.match(none.stderr, /client secret is needed/);
    const set = await gh(
      ['sso', 'set', '--issuer', idp.issuer, '--client-id', idp.clientId, '--client-secret-stdin', '--name', 'Entra ID', '--create-users'],
      {
        env,
        input: idp.clientSecret + '\n',
      },
    );
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /https:\/\/gate\.example\.com\/api\/v1\/sso\/callback/);
    assert.ok(!set.stdout.includes(idp.clientSecret));
    const show = await gh(['sso', 'show'], { env });
    assert.equal(show.code, 0, show.stderr);
    assert.ok(!show.stdout.includes(idp.clientSecret));
    assert.match(show.stdout, /clientSecret\s+\(set, in the vault\)/);
    const j = await ghJson<{ settings: { name: string; createUsers: boolean; usernameClaim: string }; clientSecretSet: boolean }>(
      ['sso', 'show'],
      { env },
    );
    assert.equal(j.settings.name, 'Entra ID');
    assert.equal(j.settings.createUsers, true);
    assert.equal(j.settings.usernameClaim, 'preferred_username');
    const t = await gh(['sso', 'test'], { env });
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, new RegExp(`ok: ${idp.issuer}`));
    assert.match(t.stdout, /authorization endpoint/);
  });

  test('bad settings name the field; an unreachable provider says so; off keeps the settings', async () => {
    const bad = await gh(['sso', 'set', '--issuer', 'not a url'], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /issuer/);
    const scopes = await gh(['sso', 'set', '--scopes', 'profile email'], { env });
    assert.equal(scopes.code, 2);
    assert.match(scopes.stderr, /openid/);
    const ca = await gh(['sso', 'set', '--ca-file', '/nonexistent/ca.pem'], { env });
    assert.equal(ca.code, 2);
    assert.match(ca.stderr, /cannot read CA file/);
    assert.equal((await gh(['sso', 'set', '--issuer', 'http://127.0.0.1:9', '--timeout', '2'], { env })).code, 0);
    const down = await gh(['sso', 'test'], { env });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /could not be discovered/);
    assert.ok(!down.stderr.includes(idp.clientSecret));
    assert.equal((await gh(['sso', 'set', '--issuer', idp.issuer], { env })).code, 0);
    const off = await gh(['sso', 'off'], { env });
    assert.equal(off.code, 0, off.stderr);
    const j = await ghJson<{ enabled: boolean; clientSecretSet: boolean }>(['sso', 'show'], { env });
    assert.equal(j.enabled, false);
    assert.equal(j.clientSecretSet, true);
  });

  test('user sign-out: counts and an unknown user', async () => {
    assert.equal((await gh(['user', 'add', 'zed'], { env })).code, 0);
    const r = await ghJson<{ sessions: number; tokens: number }>(['user', 'sign-out', 'zed'], { env });
    assert.deepEqual(r, { sessions: 0, tokens: 0 });
    const u = await gh(['user', 'sign-out', 'nobody'], { env });
    assert.equal(u.code, 1);
    assert.match(u.stderr, /unknown user/);
  });
});

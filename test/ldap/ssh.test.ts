// SSH login with directory users: the password is checked by a bind to the directory, and a user whose
// group requires it answers the TOTP code at a keyboard-interactive prompt (after a password or a key),
// answered here by ssh2's client. Wrong codes and a replayed code are refused.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { generate } from 'otplib';
import { start, type Running } from '../../src/main.js';
import { directoryOf } from '../../src/directory/index.js';
import { missing } from '../helpers/peers.js';
import { GROUPS, PEOPLE, SLAPD, SYNC_DN, SYNC_PW, pwOf, startSlapd, type Slapd } from './slapd.js';
import { dbOf } from '../helpers/kysely.js';

const ADMIN = { username: 'admin', id: null, channel: 'cli' as const };

interface Attempt {
  ok: boolean;
  prompts: string[];
}

/** One login: password or key first, then every keyboard-interactive prompt answered with `codes` in turn. */
function login(port: number, username: string, o: { password?: string; privateKey?: string; codes?: string[] }): Promise<Attempt> {
  return new Promise((resolve) => {
    const c = new ssh2.Client();
    const prompts: string[] = [];
    const codes = [...(o.codes ?? [])];
    let tried = false;
    let rounds = 0;
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      c.end();
      resolve({ ok, prompts });
    };
    c.on('ready', () => done(true));
    c.on('error', () => done(false));
    // A server that disconnects (e.g. the login limiter) may close without an 'error'.
    c.on('close', () => done(false));
    c.connect({
      host: '127.0.0.1',
      port,
      username,
      // Like OpenSSH: the first method, then keyboard-interactive for as long as the server offers it.
      authHandler: (methodsLeft, _partial, next) => {
        if (!tried) {
          tried = true;
          return next(
            o.privateKey ? { type: 'publickey', username, key: o.privateKey } : { type: 'password', username, password: o.password! },
          );
        }
        if (!methodsLeft?.includes('keyboard-interactive') || rounds++ >= 5) return next(false as never);
        return next({
          type: 'keyboard-interactive',
          username,
          prompt: (_n, _i, _l, ps, finish) => {
            for (const p of ps) prompts.push(p.prompt);
            finish(ps.map(() => codes.shift() ?? ''));
          },
        });
      },
      readyTimeout: 10_000,
    });
  });
}

describe('SSH login with the directory and TOTP', { skip: missing('slapd', SLAPD !== null, 'apt-get install slapd') }, () => {
  let ldap: Slapd;
  let g: Running;
  let dir: string;
  let secret = '';
  let key: { private: string; public: string };
  before(async () => {
    ldap = await startSlapd();
    dir = mkdtempSync(join(tmpdir(), 'gh-ldap-ssh-'));
    g = await start({
      GATEHOUSE_DATA_DIR: dir,
      GATEHOUSE_SECRET_KEY: 'test-vault-key-0123456789abcdef',
      GATEHOUSE_ADMIN_PASSWORD: 'admin-pass-123',
      GATEHOUSE_SSH_PORT: '0',
      GATEHOUSE_RDP_PORT: '0',
      GATEHOUSE_POSTGRES_PORT: '0',
      GATEHOUSE_MYSQL_PORT: '0',
      GATEHOUSE_HTTP_PROXY_PORT: '0',
      GATEHOUSE_WEB_PORT: '0',
      GATEHOUSE_EVENT_POLL_MS: '50',
      GATEHOUSE_LOG_LEVEL: 'silent',
    });
    const s = g.services;
    const d = directoryOf(s);
    await d.directory.configure(
      ADMIN,
      { url: ldap.url, bindDn: SYNC_DN, userBase: PEOPLE, groupBase: GROUPS, intervalMinutes: 0 },
      SYNC_PW,
    );
    await d.directory.sync(ADMIN);
    const ops = (await s.policy.current()).userGroupsByName.get('ops')!;
    await d.directory.store.setSecondFactorGroup(ops.id, true, Date.now());
    const alice = (await s.policy.current()).usersByName.get('alice')!;
    secret = (await d.totp.begin(alice)).secret;
    // Enrolled with the previous step's code, so the current step's code is still unused.
    assert.ok(await d.totp.confirm(alice, await generate({ secret, epoch: Math.floor(Date.now() / 1000) - 30 })));
    const k = ssh2.utils.generateKeyPairSync('ed25519');
    key = { private: k.private, public: k.public };
    await s.admin.setUser(ADMIN, 'alice', { addSshKeys: [k.public] });
  });
  after(async () => {
    await g?.stop();
    await ldap?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('LDAP password over SSH; a wrong password refused', async () => {
    assert.deepEqual(await login(g.sshPort!, 'bob', { password: pwOf('bob') }), { ok: true, prompts: [] });
    assert.equal((await login(g.sshPort!, 'bob', { password: 'wrong-password' })).ok, false);
  });

  test('password, then the TOTP code at a keyboard-interactive prompt; the same code again is refused', async () => {
    const code = await generate({ secret });
    const first = await login(g.sshPort!, 'alice', { password: pwOf('alice'), codes: [code] });
    assert.deepEqual(first, { ok: true, prompts: ['Verification code: '] });
    const replay = await login(g.sshPort!, 'alice', { password: pwOf('alice'), codes: [code, code, code] });
    assert.equal(replay.ok, false, 'a code is good once');
    assert.ok(replay.prompts.length >= 1);
  });

  test('a wrong code is refused; three wrong codes end the connection', async () => {
    // The per-user code limit (5 in the window) is not what this test is about: start from zero.
    await dbOf(g.services)
      .deleteFrom('login_attempts' as never)
      .execute();
    const r = await login(g.sshPort!, 'alice', { password: pwOf('alice'), codes: ['000000', '111111', '222222', '333333'] });
    assert.equal(r.ok, false);
    assert.equal(r.prompts.length, 3);
    const audit = await g.services.adminStore.listAudit({ limit: 20, action: 'ssh.login.second-factor-failed' });
    assert.ok(audit.length >= 3);
  });

  test('a key, then the next step code (a fast phone clock) at the prompt', async () => {
    const next = await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });
    assert.deepEqual(await login(g.sshPort!, 'alice', { privateKey: key.private, codes: [next] }), {
      ok: true,
      prompts: ['Verification code: '],
    });
    assert.equal((await login(g.sshPort!, 'alice', { privateKey: key.private, codes: [] })).ok, false, 'a key alone is not enough');
  });
});

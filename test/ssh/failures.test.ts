// When things go wrong: password guessing hits the rate limit, the device's host key changed, the
// device is down or silent, and the client vanishes mid-transfer (the gateway frees everything).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, closeSync, openSync, ftruncateSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import v8 from 'node:v8';
import Database from 'better-sqlite3';
import vm from 'node:vm';
import { freePort, launch, makeKey, run, SSHD_SKIP, startSshd, type Sshd } from './peers.js';
import { ADMIN, PASSWORD, startGateway, type Gw } from './gateway.js';
import { dbOf } from '../helpers/kysely.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

describe('ssh proxy: failures', { skip: SSHD_SKIP }, () => {
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

  const withPassword = (password: string) => {
    const f = join(gw.dir, `pw-${password.length}-${Math.random().toString(36).slice(2)}.sh`);
    writeFileSync(f, `#!/bin/sh\nprintf '%s\\n' '${password}'\n`);
    chmodSync(f, 0o755);
    return {
      env: { SSH_ASKPASS: f, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
      extra: [
        '-o',
        'BatchMode=no',
        '-o',
        'PreferredAuthentications=password',
        '-o',
        'NumberOfPasswordPrompts=3',
        '-o',
        'IdentityFile=/dev/null',
      ],
    };
  };

  test('password login works; wrong passwords are audited and then rate-limited per user (key logins still work)', async () => {
    const ok = await gw.ssh('alice@web01', ['echo pw-ok'], withPassword(PASSWORD)).done;
    assert.equal(ok.stdout, 'pw-ok\n', ok.stderr);
    for (let i = 0; i < 2; i++) {
      const bad = await gw.ssh('alice@web01', ['true'], withPassword('wrong-password')).done;
      assert.equal(bad.code, 255);
      assert.match(bad.stderr, /Permission denied/);
    }
    const blocked = await gw.ssh('alice@web01', ['echo no'], withPassword(PASSWORD)).done;
    assert.equal(blocked.code, 255, 'the right password is refused while the user is blocked');
    assert.match(
      blocked.stderr,
      /Too many failed logins for alice: try again in 15 minutes/,
      'and the user is told why, even in batch mode',
    );
    const audit = await gw.s.adminStore.listAudit({ limit: 50 });
    assert.ok(audit.filter((a) => a.action === 'ssh.login.failed' && a.actor === 'alice').length >= 5);
    const b = audit.find((a) => a.action === 'ssh.login.blocked');
    assert.equal(b?.details.scope, 'user');
    assert.equal(b?.details.clientAddr, '127.0.0.1');
    assert.equal(
      (await gw.ssh('alice@web01', ['echo key-ok']).done).stdout,
      'key-ok\n',
      'a key cannot be guessed: key logins are not blocked',
    );
    await dbOf(gw.s)
      .deleteFrom('login_attempts' as never)
      .execute();
  });

  test('a store failure during login fails closed and says so (even in batch mode)', async () => {
    const auth = gw.s.auth as unknown as { verifyPublicKey: (...a: unknown[]) => Promise<unknown> };
    const real = auth.verifyPublicKey;
    auth.verifyPublicKey = async () => {
      throw new Error('SQLITE_BUSY: database is locked');
    };
    try {
      const r = await gw.ssh('alice@web01', ['echo should-not-run']).done;
      assert.equal(r.code, 255);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /Gatehouse cannot check logins right now \(its database is unavailable or failing\)/);
    } finally {
      auth.verifyPublicKey = real;
    }
    assert.equal((await gw.ssh('alice@web01', ['echo back']).done).stdout, 'back\n');
  });

  test('the device host key is pinned on first use (audited); a mismatch refuses with a clear message and an audit event', async () => {
    await gw.ssh('alice@web01', ['true']).done;
    const p = await gw.s.policy.current();
    assert.equal(p.devicesByName.get('web01')!.hostKey, sshd.hostKey.public.split(' ').slice(0, 2).join(' '));
    const audit = await gw.s.adminStore.listAudit({ limit: 100, action: 'device.host-key-pinned' });
    assert.equal(audit.length, 1);
    const other = makeKey(gw.dir, 'other_host_key');
    await gw.s.admin.setDevice(ADMIN, 'web01', { hostKey: other.public.split(' ').slice(0, 2).join(' ') });
    try {
      const r = await gw.ssh('alice@web01', ['echo should-not-run']).done;
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /host key of web01 does not match the one Gatehouse pinned/);
      const mm = await gw.s.adminStore.listAudit({ limit: 5, action: 'device.host-key-mismatch' });
      assert.equal(mm.length, 1);
      assert.match(String(mm[0].details.got), /^SHA256:/);
    } finally {
      await gw.s.admin.setDevice(ADMIN, 'web01', { hostKey: null });
    }
  });

  test('20 parallel first connections pin the host key once; a key pinned meanwhile elsewhere is checked before the login', async () => {
    const line = sshd.hostKey.public.split(' ').slice(0, 2).join(' ');
    const pins = async () => (await gw.s.adminStore.listAudit({ limit: 100, action: 'device.host-key-pinned' })).length;
    await gw.s.admin.setDevice(ADMIN, 'web01', { hostKey: null });
    const before = await pins();
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => gw.ssh('alice@web01', [`echo first-${i}`]).done));
    runs.forEach((r, i) => assert.equal(r.stdout, `first-${i}\n`, r.stderr));
    assert.equal((await gw.s.policy.current()).devicesByName.get('web01')!.hostKey, line);
    assert.equal((await pins()) - before, 1, 'one pin audited, by the connection that won it');

    // Twenty racing pins of two different keys (an intercepted first connection among them): one key wins,
    // every caller is told which, and nothing overwrites it.
    await gw.s.admin.setDevice(ADMIN, 'web01', { hostKey: null });
    const other = makeKey(gw.dir, 'racing_host_key').public.split(' ').slice(0, 2).join(' ');
    const dev = { id: (await gw.s.policy.current()).devicesByName.get('web01')!.id, name: 'web01' };
    const got = await Promise.all(Array.from({ length: 20 }, (_, i) => gw.s.admin.pinHostKey(ADMIN, dev, i % 2 ? other : line)));
    assert.equal(new Set(got).size, 1, `every racer sees the one winner: ${[...new Set(got)].length} keys`);
    assert.equal(await gw.s.adminStore.hostKeyOf(dev.id), got[0]);

    // The cached policy says "not pinned", the database holds another key (pinned through another process):
    // the connection is refused before the credential is sent, and audited as a mismatch.
    await gw.s.admin.setDevice(ADMIN, 'web01', { hostKey: null });
    const cached = async () => (await gw.s.policy.current()).devicesByName.get('web01')!.hostKey;
    for (let i = 0; (await cached()) !== null; i++) {
      assert.ok(i < 100, 'the cache sees the cleared key');
      await new Promise((r) => setTimeout(r, 50));
    }
    try {
      await dbOf(gw.s).updateTable('devices').set({ host_key: other, host_key_pinned_at: Date.now() }).where('id', '=', dev.id).execute();
      assert.equal(await cached(), null, 'the cache has not seen it');
      const mismatches = (await gw.s.adminStore.listAudit({ limit: 100, action: 'device.host-key-mismatch' })).length;
      const r = await gw.ssh('alice@web01', ['echo should-not-run']).done;
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /host key of web01 does not match the one Gatehouse pinned/);
      assert.equal((await gw.s.adminStore.listAudit({ limit: 100, action: 'device.host-key-mismatch' })).length, mismatches + 1);
    } finally {
      await gw.s.admin.setDevice(ADMIN, 'web01', { hostKey: null });
    }
  });

  test('the device is down or silent: a clear message, and nothing hangs', async () => {
    const closed = await freePort();
    await gw.s.admin.addDevice(ADMIN, { name: 'down01', host: '127.0.0.1', protocols: 'ssh,sftp', group: 'linux', port: closed });
    await gw.s.admin.addAccount(ADMIN, 'down01', 'root', { password: 'irrelevant-secret' });
    const r = await gw.ssh('alice@down01', ['true']).done;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /down01 \(127\.0\.0\.1:\d+\) refused the connection: its SSH server is not running/);
    assert.ok(r.ms < 5000);

    // A port that accepts and never speaks.
    const silent: Server = createServer(() => {});
    await new Promise<void>((res) => silent.listen(0, '127.0.0.1', () => res()));
    const port = (silent.address() as { port: number }).port;
    await gw.s.admin.setDevice(ADMIN, 'down01', { ports: { ssh: port, sftp: port } });
    try {
      const s = await gw.ssh('alice@down01', ['true']).done;
      assert.equal(s.code, 1);
      assert.match(s.stderr, /did not answer within \d+ s/);
      assert.ok(s.ms < 20_000);
    } finally {
      silent.close();
    }
  });

  test('the client vanishes mid-transfer: the upstream is freed, the session row closes, memory returns to baseline', async () => {
    const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const mem = () => {
      gc();
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    // Warm up once so lazily loaded code does not count as a leak.
    await gw.ssh('alice@web01', ['true']).done;
    await new Promise((r) => setTimeout(r, 300));
    // A sparse 1 GiB file: sftp reads it fast, and the upload is killed long before the end.
    const big = join(gw.dir, 'sparse.bin');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 1024 ** 3);
    closeSync(fd);
    const before =
      (
        await dbOf(gw.s)
          .selectFrom('sessions')
          .select((eb) => eb.fn.max('id').as('m'))
          .executeTakeFirst()
      )?.m ?? 0;
    const liveSession = async (protocol: 'ssh' | 'sftp') => {
      for (let i = 0; i < 200 && gw.s.sessions.count(protocol) === 0; i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal(gw.s.sessions.count(protocol), 1, `a live ${protocol} session`);
      await new Promise((r) => setTimeout(r, 300));
    };
    const sockets0 = sockets();
    const mem0 = mem();
    for (let i = 0; i < 3; i++) {
      // Download: the device streams, the client stops reading, then dies.
      const down = launch('ssh', ['-p', String(gw.port), ...gw.opts(), 'alice@web01@127.0.0.1', 'echo go >&2; cat /dev/zero'], {
        stalled: true,
      });
      await down.waitFor(/go/);
      await liveSession('ssh');
      down.killAll();
      await down.done;
      // Upload through sftp, killed half-way.
      const up = launch('sftp', ['-P', String(gw.port), ...gw.opts(), '-b', '-', 'alice@web01@127.0.0.1'], {
        input: `put ${big} /tmp/gh-vanish.bin\n`,
      });
      await liveSession('sftp');
      up.killAll();
      await up.done;
      for (let i = 0; i < 200 && gw.s.sessions.count() > 0; i++) await new Promise((r) => setTimeout(r, 25));
    }
    const until = Date.now() + 3000;
    while (gw.s.sessions.count() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.equal(gw.s.sessions.count(), 0, 'no live session left');
    await new Promise((r) => setTimeout(r, 300));
    const rows = await dbOf(gw.s).selectFrom('sessions').selectAll().where('id', '>', Number(before)).execute();
    assert.equal(rows.length, 6);
    for (const row of rows) {
      assert.ok(row.ended_at !== null, `session ${row.id} closed`);
      assert.equal(
        row.end_reason,
        'client disconnected',
        JSON.stringify(rows.map((r) => [r.id, r.protocol, r.end_reason, r.bytes_in, r.bytes_out])),
      );
    }
    assert.ok(
      rows.some((r) => Number(r.bytes_out) > 1024 * 1024),
      'bytes were counted',
    );
    // Sockets close asynchronously after the sessions end (slower on a loaded machine): wait for the
    // count to settle back rather than sampling it once.
    const settle = Date.now() + 15_000;
    while (sockets() !== sockets0 && Date.now() < settle) await new Promise((r) => setTimeout(r, 100));
    assert.equal(sockets(), sockets0, 'every upstream socket is closed');
    const grown = mem() - mem0;
    assert.ok(grown < 8 * 1024 * 1024, `memory grew by ${(grown / 1048576).toFixed(1)} MiB`);
    await run('ssh', ['-p', String(gw.port), ...gw.opts(), 'alice@web01@127.0.0.1', 'rm -f /tmp/gh-vanish.bin']);
  });

  test('stopping the gateway ends live sessions with a message and closes their rows', async (t) => {
    const gw2 = await startGateway(sshd, { approval: false });
    // gw2.stop() after gw2.g.stop() only removes its data dir (the stop itself runs once).
    t.after(() => gw2.stop());
    const p = gw2.ssh('alice@web01', ['echo ready; sleep 60']);
    await p.waitFor(/ready/);
    // A socket that never even sends the SSH banner must not hold the shutdown up.
    const mute = connect({ host: '127.0.0.1', port: gw2.port });
    mute.on('error', () => {});
    await new Promise((r) => mute.once('connect', r));
    const t0 = Date.now();
    await gw2.g.stop();
    assert.ok(Date.now() - t0 < 5000, `stopped in ${Date.now() - t0} ms`);
    const r = await p.done;
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /the gateway is shutting down/i);
    const db = new Database(join(gw2.dir, 'gatehouse.db'), { readonly: true });
    const row = db.prepare('select ended_at, end_reason from sessions order by id desc limit 1').get() as {
      ended_at: number | null;
      end_reason: string;
    };
    db.close();
    assert.ok(row.ended_at !== null);
    assert.equal(row.end_reason, 'the gateway is shutting down');
  });
});

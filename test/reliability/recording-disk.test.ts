// Disk full for recordings, on SQLite and PostgreSQL: the recordings directory of a real `gatehouse serve`
// process is a small tmpfs (mounted by the test, as root) that the test fills to the last byte while a real
// OpenSSH `ssh -tt` session is running. With `recording.on.failure=continue` the session goes on unrecorded
// and the command completes; with `terminate` the session is ended at once with a message to the user.
// Either way the audit log has `recording.failed`, the session row is closed, the server does not crash,
// and once space returns new sessions are recorded again. The same holds when the file system turns
// read-only (the recording cannot even be created).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { DB_TARGETS } from '../helpers/db.js';
import { missing } from '../helpers/peers.js';
import { testServices, type TestEnv } from '../helpers/services.js';
import { SSHD_SKIP, launch, makeKey, sshArgs, startSshd, type KeyPair, type Running, type Sshd } from '../ssh/peers.js';
import { sleep, waitFor } from '../mail/helpers.js';
import { castOutput, readCast } from '../../src/recording/read.js';
import { seedSshOrg, startServer, stopServer, type Server } from './server.js';
import { dbOf } from '../helpers/kysely.js';

const ADMIN = { username: 'admin', id: null, channel: 'cli' as const };
const SIZE = '2m';

/** Can this process mount a tmpfs (root, and a kernel/container that allows it)? */
function canMount(): boolean {
  if (userInfo().uid !== 0) return false;
  const d = mkdtempSync(join(tmpdir(), 'gh-rel-mnt-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', d], { stdio: 'ignore' });
    execFileSync('umount', [d], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}
const MOUNT_SKIP = missing('a tmpfs mount', canMount(), 'needs root and mount(2): mount -t tmpfs');

/** Writes a file until the file system says ENOSPC; returns its path. */
function fill(dir: string): string {
  const p = join(dir, 'filler');
  const fd = openSync(p, 'a');
  try {
    for (const size of [65_536, 4096, 512, 1]) {
      const b = Buffer.alloc(size, 7);
      for (;;) {
        try {
          writeSync(fd, b);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return p;
}

for (const db of DB_TARGETS) {
  describe(`disk full for recordings (${db.name})`, { skip: db.skip || SSHD_SKIP || MOUNT_SKIP }, () => {
    let t: TestEnv;
    let sshd: Sshd;
    let alice: KeyPair;
    let keyDir: string;
    let recDir: string;
    let mounted = false;
    let server: Server | undefined;
    const clients: Running[] = [];
    let filler: string | null = null;
    /** Space returns (also after a failed test, so the next one starts with room). */
    const free = () => {
      if (filler) rmSync(filler, { force: true });
      filler = null;
    };

    before(async () => {
      sshd = await startSshd();
      keyDir = mkdtempSync(join(tmpdir(), 'gh-rel-rec-'));
      alice = makeKey(keyDir, 'alice');
      recDir = mkdtempSync(join(tmpdir(), 'gh-rel-recdir-'));
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE},mode=0750`, 'tmpfs', recDir]);
      mounted = true;
      t = await testServices(db.name, { real: true });
      const s = t.s;
      await seedSshOrg(s, { alicePublic: alice.public, sshd, devices: ['web01'], requireApproval: false });
      server = await startServer({
        dir: t.dir,
        env: {
          GATEHOUSE_SECRET_KEY: t.env.GATEHOUSE_SECRET_KEY,
          GATEHOUSE_EVENT_POLL_MS: '100',
          GATEHOUSE_RECORDINGS_DIR: recDir,
          ...(t.env.DATABASE_URL ? { DATABASE_URL: t.env.DATABASE_URL } : {}),
        },
      });
    });

    after(async () => {
      for (const c of clients) c.killAll();
      await stopServer(server);
      if (mounted) {
        try {
          execFileSync('umount', [recDir]);
        } catch {
          execFileSync('umount', ['-l', recDir]);
        }
      }
      if (recDir) rmSync(recDir, { recursive: true, force: true });
      await sshd?.stop();
      if (keyDir) rmSync(keyDir, { recursive: true, force: true });
      await t?.cleanup();
    });

    const setPolicy = async (v: 'continue' | 'terminate') => {
      await t.s.admin.setParam(ADMIN, 'recording.on.failure', v);
      await sleep(1000); // the server learns of the change through the event bus
    };
    const lastSession = () => dbOf(t.s).selectFrom('sessions').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
    const failures = async (session?: number) =>
      (await dbOf(t.s).selectFrom('audit_log').selectAll().where('action', '=', 'recording.failed').execute())
        .filter((r) => session === undefined || r.target_id === String(session))
        .map((r) => JSON.parse(r.details) as { error: string; action: string });
    const ended = (id: number) =>
      waitFor(
        `session ${id} closed`,
        async () => (await dbOf(t.s).selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst())?.ended_at != null,
        30_000,
        100,
      );

    /** A real `ssh -tt` shell through the gateway, at its prompt, with a line already recorded. */
    const shell = async (mark: string) => {
      free();
      const p = launch('ssh', ['-tt', ...sshArgs(server!.ssh, alice.path, 'alice@web01@127.0.0.1')], { timeoutMs: 120_000 });
      clients.push(p);
      await p.waitFor(/[#$] /, 30_000);
      p.write(`echo ${mark}-$((6*7))\n`);
      await p.waitFor(new RegExp(`${mark}-42`), 30_000);
      const row = await waitFor(
        'the recording row',
        async () => {
          const r = await lastSession();
          return r.recording && r.ended_at == null ? r : null;
        },
        10_000,
        50,
      );
      await sleep(600); // at least one flush (every 250 ms) reaches the file
      return { p, id: row.id, path: join(recDir, row.recording!) };
    };

    test('continue: the recording fails when the disk fills up, the session goes on and the command completes', async () => {
      await setPolicy('continue');
      const { p, id, path } = await shell('before-full');
      free();
      filler = fill(recDir);
      const recorded = statSync(path).size;
      const t0 = Date.now();
      // ~270 KB of incompressible output: far more than the slack left in the file's last page.
      p.write('head -c 200000 /dev/urandom | base64 -w 100; echo after-$((2+3))\n');
      await p.waitFor(/after-5/, 60_000);
      const failed = await waitFor(
        'recording.failed audited',
        async () => (await failures(id)).length > 0 && (await failures(id)),
        30_000,
        100,
      );
      console.log(
        `# ${db.name}, continue: recording failed ${Date.now() - t0} ms after the output began (${recorded} bytes on disk before): ${failed[0].error}`,
      );
      assert.equal(failed.length, 1, 'one audit entry per failed recording');
      assert.equal(failed[0].action, 'continue');
      assert.match(failed[0].error, /ENOSPC|no space/i);
      // The session is still usable after the failure.
      p.write('echo still-here-$((4*4))\n');
      await p.waitFor(/still-here-16/, 30_000);
      p.write('exit\n');
      const run = await p.done;
      assert.equal(run.code, 0, run.stderr);
      await ended(id);
      // What was recorded before the disk filled up is still readable.
      assert.match(castOutput(readCast(path)), /before-full-42/);
      free();
    });

    test('terminate: the session is ended promptly with a message, and the failure is audited', async () => {
      await setPolicy('terminate');
      const { p, id } = await shell('before-full-t');
      free();
      filler = fill(recDir);
      const t0 = Date.now();
      p.write('for i in $(seq 1 80); do head -c 30000 /dev/urandom | base64 -w 100; sleep 0.25; done; echo after-$((2+3))\n');
      const run = await p.done;
      const ms = Date.now() - t0;
      const said = /[^\r\n]*recording could not be written[^\r\n]*/i.exec(run.stdout + run.stderr)?.[0];
      console.log(
        `# ${db.name}, terminate: session ended ${ms} ms after the output began; exit ${run.code}; the user saw: ${JSON.stringify(said)}`,
      );
      assert.ok(said, 'the user is told why');
      assert.doesNotMatch(run.stdout, /after-5/, 'the command did not run to its end');
      assert.ok(ms < 15_000, `ended after ${ms} ms`);
      await ended(id);
      const failed = await waitFor(
        'recording.failed audited',
        async () => (await failures(id)).length > 0 && (await failures(id)),
        30_000,
        100,
      );
      assert.equal(failed.length, 1);
      assert.equal(failed[0].action, 'terminate');
      const row = await dbOf(t.s).selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      console.log(`# ${db.name}, terminate: session end reason ${JSON.stringify(row.end_reason)}`);
      free();
    });

    test('terminate: a session that starts on a full disk is ended at once', async () => {
      await setPolicy('terminate');
      free();
      filler = fill(recDir);
      const t0 = Date.now();
      const p = launch('ssh', ['-tt', ...sshArgs(server!.ssh, alice.path, 'alice@web01@127.0.0.1')], { timeoutMs: 60_000 });
      clients.push(p);
      const run = await p.done;
      const ms = Date.now() - t0;
      console.log(`# ${db.name}, terminate on a full disk: session ended ${ms} ms after the client started; exit ${run.code}`);
      assert.match(run.stdout + run.stderr, /recording could not be written/i);
      const row = await lastSession();
      await ended(row.id);
      const failed = await waitFor(
        'recording.failed audited',
        async () => (await failures(row.id)).length > 0 && (await failures(row.id)),
        30_000,
        100,
      );
      assert.equal(failed.length, 1);
      assert.equal(failed[0].action, 'terminate');
      free();
    });

    test('read-only recordings file system (as ext4 remounts itself on I/O errors): the same policy, audited', async () => {
      free();
      for (const name of readdirSync(recDir)) rmSync(join(recDir, name), { recursive: true, force: true });
      execFileSync('mount', ['-o', 'remount,ro', recDir]);
      try {
        const open = () => launch('ssh', ['-tt', ...sshArgs(server!.ssh, alice.path, 'alice@web01@127.0.0.1')], { timeoutMs: 60_000 });
        // continue: the session goes on, unrecorded.
        await setPolicy('continue');
        const p = open();
        clients.push(p);
        await p.waitFor(/[#$] /, 30_000);
        p.write('echo read-only-$((6*7))\n');
        await p.waitFor(/read-only-42/, 30_000);
        p.write('exit\n');
        assert.equal((await p.done).code, 0);
        const row = await lastSession();
        await ended(row.id);
        const failed = await waitFor(
          'recording.failed audited',
          async () => (await failures(row.id)).length > 0 && (await failures(row.id)),
          30_000,
          100,
        );
        console.log(`# ${db.name}, read-only file system, continue: the session ran to its end; audited: ${failed[0].error}`);
        assert.equal(failed[0].action, 'continue');
        // Node's recursive mkdir reports ENOENT on a read-only file system when the directory is missing.
        assert.match(failed[0].error, /EROFS|read-only|ENOENT/i);
        // terminate: ended at once.
        await setPolicy('terminate');
        const t0 = Date.now();
        const q = open();
        clients.push(q);
        const run = await q.done;
        const ms = Date.now() - t0;
        console.log(`# ${db.name}, read-only file system, terminate: session ended ${ms} ms after the client started; exit ${run.code}`);
        assert.match(run.stdout + run.stderr, /recording could not be written/i);
        const row2 = await lastSession();
        await ended(row2.id);
        const failed2 = await waitFor(
          'recording.failed audited',
          async () => (await failures(row2.id)).length > 0 && (await failures(row2.id)),
          30_000,
          100,
        );
        assert.equal(failed2[0].action, 'terminate');
      } finally {
        execFileSync('mount', ['-o', 'remount,rw', recDir]);
      }
    });

    test('space returns: new sessions are recorded again; the server never crashed', async () => {
      free();
      const before = (await failures()).length;
      const { p, id, path } = await shell('space-back');
      p.write('exit\n');
      assert.equal((await p.done).code, 0);
      await ended(id);
      assert.ok(existsSync(path));
      assert.match(castOutput(readCast(path)), /space-back-42/);
      assert.equal((await failures()).length, before, 'no new recording failure');
      assert.equal(server!.proc.exitCode, null, 'the server is alive');
      const log = server!.log.join('');
      assert.doesNotMatch(log, /unhandled|uncaught|fatal/i, log.slice(-2000));
    });
  });
}

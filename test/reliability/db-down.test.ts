// Database down, on PostgreSQL (the test's own cluster, stopped and started again) and SQLite (another
// process holds the write lock; or the database file and its write-ahead log made immutable with
// `chattr +i`, which the kernel enforces even on the gateway's open handle and even for root): a new SSH
// connection that needs approval is refused with a message (fail closed), a live session goes on, and
// the gateway recovers by itself when the database returns.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config/env.js';
import { makeLogger } from '../../src/log.js';
import { openServices, type Services } from '../../src/services.js';
import { hasBinary, missing } from '../helpers/peers.js';
import { SSHD_SKIP, makeKey, startSshd, type KeyPair, type Sshd } from '../ssh/peers.js';
import { sleep, waitFor } from '../mail/helpers.js';
import { sshExec, seedSshOrg, startServer, stopServer, type Server } from './server.js';
import { ownPostgres, type OwnPg } from './pgctl.js';

const KEY = 'test-vault-key-0123456789abcdef';

/** Why `chattr +i` cannot make a file read-only here (not root, no e2fsprogs, no immutable flag on this filesystem), or false. */
function immutableUnavailable(): string | false {
  const noBinary = missing('chattr', hasBinary('chattr') && hasBinary('lsattr'), 'install e2fsprogs');
  if (noBinary) return noBinary;
  if (process.getuid?.() !== 0) return 'chattr +i needs root (CAP_LINUX_IMMUTABLE)';
  const probe = mkdtempSync(join(tmpdir(), 'gh-rel-chattr-'));
  const f = join(probe, 'f');
  try {
    writeFileSync(f, 'x');
    execFileSync('chattr', ['+i', f], { stdio: 'pipe' });
    execFileSync('chattr', ['-i', f], { stdio: 'pipe' });
    return false;
  } catch (err) {
    return `the temp directory's filesystem has no immutable flag: ${String((err as { stderr?: unknown }).stderr ?? err).trim()}`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

// postgres: the cluster stopped; sqlite: another process holds BEGIN EXCLUSIVE; sqlite-readonly: the
// database file and its -wal immutable (not the -shm: SQLite writes it through mmap, and a write to an
// immutable mapped file kills the process with SIGBUS).
for (const name of ['postgres', 'sqlite', 'sqlite-readonly'] as const) {
  describe(`database down (${name})`, { skip: SSHD_SKIP || (name === 'sqlite-readonly' && immutableUnavailable()) }, () => {
    let refusal = '';
    let s: Services;
    let sshd: Sshd;
    let alice: KeyPair;
    let dir: string;
    let pg: OwnPg | undefined;
    let server: Server | undefined;
    let env: Record<string, string>;
    let skip: string | false = false;
    const dbFiles = () => [join(dir, 'gatehouse.db'), join(dir, 'gatehouse.db-wal')];
    const chattr = (flag: '+i' | '-i') => execFileSync('chattr', [flag, ...dbFiles()], { stdio: 'pipe' });

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'gh-rel-dbdown-'));
      if (name === 'postgres') {
        const r = await ownPostgres();
        if (typeof r === 'string') {
          skip = missing('PostgreSQL', false, r) || 'no PostgreSQL';
          return;
        }
        pg = r;
      }
      sshd = await startSshd();
      alice = makeKey(dir, 'alice');
      env = { GATEHOUSE_SECRET_KEY: KEY, GATEHOUSE_EVENT_POLL_MS: '100', ...(pg ? { DATABASE_URL: pg.url } : {}) };
      s = await openServices(loadConfig({ ...env, GATEHOUSE_DATA_DIR: dir }), makeLogger('silent'));
      await seedSshOrg(s, { alicePublic: alice.public, sshd, devices: ['web01', 'web02'] });
      server = await startServer({ dir, env });
    });

    after(async () => {
      if (name === 'sqlite-readonly' && dir) {
        try {
          chattr('-i');
        } catch {
          // not made immutable
        }
      }
      await stopServer(server);
      await s?.close().catch(() => {});
      await sshd?.stop();
      pg?.destroy();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('new connections needing approval are refused with a message; live sessions go on; recovery is automatic', async (tc) => {
      if (skip) return tc.skip(skip);
      const port = server!.ssh;
      // A live, approved session that prints a tick every 300 ms.
      const live = sshExec(port, alice, 'alice@web01', 'for i in $(seq 1 200); do echo tick-$i; sleep 0.3; done', 180_000);
      const id = Number(/#(\d+)/.exec(await live.waitFor(/#\d+/, 60_000))![1]);
      await s.approvals.approve(id, 'bob', { channel: 'cli' });
      await live.waitFor(/tick-3\b/, 30_000);

      // The database goes away.
      let lock: Database.Database | null = null;
      if (pg) pg.down();
      else if (name === 'sqlite') {
        lock = new Database(join(dir, 'gatehouse.db'));
        lock.exec('BEGIN EXCLUSIVE');
      } else chattr('+i');
      const ticks = () => (live.stdout().match(/tick-/g) ?? []).length;
      const ticksAtDown = ticks();
      const t0 = Date.now();
      const refused = await sshExec(port, alice, 'alice@web02', 'echo should-not-run', 60_000).done;
      const ticksAtRefusal = ticks();
      console.log(`# ${name} down: refused after ${Date.now() - t0} ms, exit ${refused.code}: ${JSON.stringify(refused.stderr.trim())}`);
      assert.notEqual(refused.code, 0);
      assert.doesNotMatch(refused.stdout, /should-not-run/);
      refusal = refused.stderr;
      // The gateway waits (asynchronously) for the SQLite lock until its budget is spent, then refuses:
      // the live session must have gone on printing meanwhile, not frozen with the event loop.
      if (name === 'sqlite') assert.ok(ticksAtRefusal > ticksAtDown, 'the live session goes on while the gateway waits for the lock');
      await sleep(1500);
      const ticksLater = ticks();
      console.log(
        `# live session while the database is down: ${ticksLater - ticksAtDown} more lines (${ticksAtRefusal - ticksAtDown} until the refusal)`,
      );
      assert.ok(ticksLater > ticksAtDown, 'the live session goes on');

      // It comes back: no restart of the gateway, the next connection works as before.
      if (pg) pg.up();
      else if (lock) {
        lock.exec('ROLLBACK');
        lock.close();
      } else chattr('-i');
      const t1 = Date.now();
      const back = await waitFor(
        'a request made once the database is back',
        async () => {
          const c = sshExec(port, alice, 'alice@web02', 'echo back-again', 60_000);
          const out = await c.waitFor(/#\d+|Permission denied|internal error|unavailable|refused/i, 60_000).catch((e: Error) => e.message);
          if (/#\d+/.test(out)) return { c, id: Number(/#(\d+)/.exec(out)![1]) };
          c.killAll();
          await sleep(500);
          return null;
        },
        60_000,
        100,
      );
      console.log(`# ${name} back: a new request waits ${Date.now() - t1} ms after the database returned`);
      await waitFor(
        'approve through the recovered store',
        async () => {
          try {
            await s.approvals.approve(back.id, 'bob', { channel: 'cli' });
            return true;
          } catch {
            await sleep(300);
            return false;
          }
        },
        30_000,
        100,
      );
      const run = await back.c.done;
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /back-again/);
      live.killAll();
    });

    // A store error during login ends the connection with words that say so (src/protocols/ssh/login.ts
    // handle()), not "Permission denied", which would send the user hunting for a wrong password.
    test('the refusal names the outage', (tc) => {
      if (skip) return tc.skip(skip);
      assert.match(refusal, /database is unavailable/i);
      assert.match(refusal, /try again/i);
      assert.doesNotMatch(refusal, /Permission denied/i);
    });
  });
}

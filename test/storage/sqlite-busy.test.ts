// SQLite's write lock held by another process (a real child process with better-sqlite3 in BEGIN
// EXCLUSIVE): the gateway's writes wait for it without blocking the event loop, go through once it is
// released, fail with a store error (SQLITE_BUSY) after the budget, and concurrent transactions — from
// this process on two connections and from another process — still serialise (no lost update).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDb, type Db } from '../../src/storage/db.js';
import { hasBinary } from '../helpers/peers.js';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Another process: opens the file, takes the lock with BEGIN EXCLUSIVE, holds it until told "release". */
const HOLDER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.exec('BEGIN EXCLUSIVE');
process.stdout.write('locked\\n');
process.stdin.on('data', () => { db.exec('COMMIT'); db.close(); process.stdout.write('released\\n'); process.exit(0); });
`;

/** Another process: N read-then-write increments of the counter, each in its own BEGIN IMMEDIATE transaction. */
const INCREMENTER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1], { timeout: 20000 });
const n = Number(process.argv[2]);
const inc = db.transaction(() => {
  const v = db.prepare('select v from counter where id = 1').get().v;
  db.prepare('update counter set v = ? where id = 1').run(v + 1);
});
for (let i = 0; i < n; i++) inc.immediate();
db.close();
process.stdout.write('done\\n');
`;

interface Child {
  proc: ChildProcess;
  out: () => string;
  waitFor: (word: string) => Promise<void>;
  exited: Promise<number | null>;
}

function child(script: string, args: string[]): Child {
  const proc = spawn(process.execPath, ['-e', script, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += String(d)));
  proc.stderr!.on('data', (d) => (err += String(d)));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return {
    proc,
    out: () => out,
    exited,
    waitFor: (word) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (out.includes(word)) return resolve();
          if (proc.exitCode !== null) return reject(new Error(`child exited before "${word}": ${err}`));
          setTimeout(check, 5);
        };
        check();
      }),
  };
}

function holdLock(file: string): Child & { release: () => Promise<void> } {
  const c = child(HOLDER, [file]);
  return {
    ...c,
    release: async () => {
      c.proc.stdin!.write('release\n');
      await c.waitFor('released');
      await c.exited;
    },
  };
}

/** Settles to 'pending' when `p` has not settled yet. */
async function state(p: Promise<unknown>): Promise<'pending' | 'fulfilled' | 'rejected'> {
  return Promise.race([
    p.then(
      () => 'fulfilled' as const,
      () => 'rejected' as const,
    ),
    new Promise<'pending'>((r) => setImmediate(() => r('pending'))),
  ]);
}

describe('SQLite: another process holds the write lock', () => {
  let dir: string;
  let file: string;
  let db: Db;
  const holders: Child[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-sqlite-busy-'));
    file = join(dir, 'busy.db');
    db = openDb({ sqlitePath: file });
    await sql`create table t (id integer primary key, note text not null)`.execute(db.kysely);
    await sql`create table counter (id integer primary key, v integer not null)`.execute(db.kysely);
    await sql`insert into counter (id, v) values (1, 0)`.execute(db.kysely);
  });

  after(async () => {
    for (const h of holders) if (h.proc.exitCode === null) h.proc.kill('SIGKILL');
    await db?.kysely.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the event loop keeps running while a write waits, and the write goes through once the lock is released', async () => {
    const lock = holdLock(file);
    holders.push(lock);
    await lock.waitFor('locked');

    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    try {
      const write = sql`insert into t (note) values ('single statement')`.execute(db.kysely);
      const tx = db.kysely.transaction().execute(async (t) => {
        await sql`insert into t (note) values ('in a transaction')`.execute(t);
        return 'committed';
      });
      // Reads go on meanwhile (WAL: the lock holder does not block readers).
      const read = await sql<{ n: number }>`select count(*) as n from t`.execute(db.kysely);
      assert.equal(read.rows[0].n, 0);
      // The timer fires while both writes still wait for the lock: nothing blocks the loop.
      while (ticks < 20) await new Promise((r) => setTimeout(r, 10));
      assert.equal(await state(write), 'pending', 'the write waits for the lock');
      assert.equal(await state(tx), 'pending', 'the transaction waits for the lock');

      await lock.release();
      await write;
      assert.equal(await tx, 'committed');
      const rows = await sql<{ note: string }>`select note from t order by id`.execute(db.kysely);
      assert.deepEqual(rows.rows.map((r) => r.note).sort(), ['in a transaction', 'single statement']);
    } finally {
      clearInterval(timer);
    }
  });

  test('after the budget the write fails with the store error (SQLITE_BUSY), and nothing was written', async () => {
    const short = openDb({ sqlitePath: file, sqliteBusy: { budgetMs: 300 } });
    const lock = holdLock(file);
    holders.push(lock);
    try {
      await lock.waitFor('locked');
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      try {
        const single = await sql`insert into t (note) values ('never')`.execute(short.kysely).then(
          () => null,
          (e: Error & { code?: string }) => e,
        );
        assert.ok(single, 'the write failed');
        assert.match(single.code ?? '', /^SQLITE_BUSY/);
        assert.match(single.message, /gave up after \d+ ms/);
        const tx = await short.kysely
          .transaction()
          .execute((t) => sql`insert into t (note) values ('never either')`.execute(t))
          .then(
            () => null,
            (e: Error & { code?: string }) => e,
          );
        assert.ok(tx, 'the transaction failed');
        assert.match(tx.code ?? '', /^SQLITE_BUSY/);
        assert.ok(ticks > 0, 'the timer fired during the wait');
      } finally {
        clearInterval(timer);
      }
      // The connection is free again and usable: a read works, and writes work once the lock is gone.
      await sql`select 1`.execute(short.kysely);
      await lock.release();
      await sql`insert into t (note) values ('after')`.execute(short.kysely);
      const notes = (await sql<{ note: string }>`select note from t`.execute(db.kysely)).rows.map((r) => r.note);
      assert.ok(!notes.includes('never') && !notes.includes('never either'));
      assert.ok(notes.includes('after'));
    } finally {
      await short.kysely.destroy();
    }
  });

  test('concurrent read-then-write transactions from two connections and another process lose no update', async () => {
    // Two connections in this process: with a synchronous busy wait, the second one's BEGIN would block
    // the loop while the first holds the lock across an await — a deadlock until the timeout.
    const second = openDb({ sqlitePath: file });
    try {
      const before = Number((await sql<{ v: number }>`select v from counter where id = 1`.execute(db.kysely)).rows[0].v);
      const perConnection = 40;
      const otherProcess = 200;
      const inc = child(INCREMENTER, [file, String(otherProcess)]);
      holders.push(inc);
      const increments = (d: Db) =>
        Array.from({ length: perConnection }, () =>
          d.kysely.transaction().execute(async (t) => {
            const v = Number((await sql<{ v: number }>`select v from counter where id = 1`.execute(t)).rows[0].v);
            await new Promise((r) => setTimeout(r, 1)); // hold the lock across a turn of the loop
            await sql`update counter set v = ${v + 1} where id = 1`.execute(t);
          }),
        );
      await Promise.all([...increments(db), ...increments(second)]);
      assert.equal(await inc.exited, 0, 'the other process finished');
      const after = Number((await sql<{ v: number }>`select v from counter where id = 1`.execute(db.kysely)).rows[0].v);
      assert.equal(after - before, 2 * perConnection + otherProcess);
    } finally {
      await second.kysely.destroy();
    }
  });

  // The kernel refuses writes to an immutable file even through an open handle and even for root.
  const noChattr = process.getuid?.() !== 0 ? 'chattr +i needs root' : !hasBinary('chattr') ? 'chattr not installed (e2fsprogs)' : false;
  test(
    'a read-only database (chattr +i on the file and its WAL) fails at once, not after the budget, and recovers',
    { skip: noChattr },
    async () => {
      const files = [file, `${file}-wal`];
      // A long budget: were the error taken for a busy lock, the write would wait a minute.
      const patient = openDb({ sqlitePath: file, sqliteBusy: { budgetMs: 60_000 } });
      execFileSync('chattr', ['+i', ...files]);
      try {
        const t0 = Date.now();
        const err = await patient.kysely
          .transaction()
          .execute((t) => sql`insert into t (note) values ('read-only')`.execute(t))
          .then(
            () => null,
            (e: Error & { code?: string }) => e,
          );
        assert.ok(err, 'the write failed');
        assert.match(err.code ?? '', /^SQLITE_(IOERR|READONLY)/);
        assert.ok(Date.now() - t0 < 30_000, 'not retried as if the database were busy');
        await sql`select count(*) as n from t`.execute(patient.kysely);
      } finally {
        execFileSync('chattr', ['-i', ...files]);
        await patient.kysely.destroy();
      }
      await sql`insert into t (note) values ('writable again')`.execute(db.kysely);
      const notes = (await sql<{ note: string }>`select note from t`.execute(db.kysely)).rows.map((r) => r.note);
      assert.ok(notes.includes('writable again') && !notes.includes('read-only'));
    },
  );
});

// better-sqlite3 runs statements synchronously: background work that chains queries (event poll,
// sweeps, mail passes) would hold the event loop for the whole chain, and the proxies' requests with it.
describe('SQLite: chained statements let the event loop turn between them', () => {
  let dir: string;
  let db: Db;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-sqlite-turns-'));
    db = openDb({ sqlitePath: join(dir, 'turns.db') });
    await sql`create table t (id integer primary key, note text not null)`.execute(db.kysely);
  });

  after(async () => {
    await db?.kysely.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('I/O due while a chain of queries runs is handled between its statements', async () => {
    const order: string[] = [];
    const chain = (async () => {
      for (let i = 1; i <= 3; i++) {
        await sql`insert into t (note) values (${`q${i}`})`.execute(db.kysely);
        order.push(`q${i}`);
      }
    })();
    // Stands for a request that arrives while the chain runs: it gets its turn after the first statement.
    setImmediate(() => order.push('io'));
    await chain;
    assert.deepEqual(order, ['q1', 'io', 'q2', 'q3']);
  });

  test("a transaction's statements still run back to back", async () => {
    const order: string[] = [];
    await db.kysely.transaction().execute(async (t) => {
      await sql`insert into t (note) values ('a')`.execute(t);
      order.push('a');
      setImmediate(() => order.push('io'));
      await sql`insert into t (note) values ('b')`.execute(t);
      order.push('b');
    });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ['a', 'b', 'io']);
  });
});

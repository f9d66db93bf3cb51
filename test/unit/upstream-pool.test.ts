// The shared upstream pool: sessions with the same key share a connection up to the limit, a failed
// connect fails every joiner, the last release ends the connection, and a full one is not handed out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Client as SshClient } from 'ssh2';
import { UpstreamPool } from '../../src/protocols/ssh/upstream-pool.js';

class FakeClient extends EventEmitter {
  ended = 0;
  end() {
    this.ended++;
    this.emit('close');
  }
}

test('same key shares up to the limit; other keys and limit 1 do not; the last release ends it', async () => {
  const pool = new UpstreamPool();
  const made: FakeClient[] = [];
  const connect = async () => {
    const c = new FakeClient();
    made.push(c);
    await new Promise((r) => setTimeout(r, 5));
    return c as unknown as SshClient;
  };
  const leases = await Promise.all(Array.from({ length: 5 }, () => pool.acquire('alice/1/1/ssh/7', 3, connect)));
  assert.equal(made.length, 2, '5 sessions, 3 per connection: 2 connections');
  assert.deepEqual(
    leases.map((l) => l.shared),
    [false, true, true, false, true],
  );
  const other = await pool.acquire('bob/1/1/ssh/7', 3, connect);
  assert.equal(made.length, 3, 'another user never shares');
  const solo = await pool.acquire('alice/1/1/ssh/7', 1, connect);
  assert.equal(made.length, 4, 'limit 1: a connection of its own');
  leases[0].release();
  leases[0].release();
  leases[1].release();
  assert.equal(made[0].ended, 0, 'still used by one session');
  leases[2].release();
  assert.equal(made[0].ended, 1, 'the last release ends it');
  const next = await pool.acquire('alice/1/1/ssh/7', 3, connect);
  assert.equal(next.client, made[1] as unknown as SshClient, 'joins the open connection with room');
  for (const l of [leases[3], leases[4], next, other, solo]) l.release();
  assert.equal(pool.size(), 0);
});

test('a failed connect fails every joiner and is not reused; a full connection is not handed out', async () => {
  const pool = new UpstreamPool();
  let n = 0;
  const failing = async (): Promise<SshClient> => {
    n++;
    await new Promise((r) => setTimeout(r, 5));
    throw new Error('refused');
  };
  const r = await Promise.allSettled([pool.acquire('k', 10, failing), pool.acquire('k', 10, failing)]);
  assert.deepEqual(
    r.map((x) => x.status),
    ['rejected', 'rejected'],
  );
  assert.equal(n, 1);
  assert.equal(pool.size(), 0);
  const ok = async () => new FakeClient() as unknown as SshClient;
  const a = await pool.acquire('k', 10, ok);
  a.full();
  const b = await pool.acquire('k', 10, ok);
  assert.notEqual(b.client, a.client, 'a full connection gets no new session');
  // The device closing a connection: nobody new joins it.
  (b.client as unknown as FakeClient).emit('close');
  const c = await pool.acquire('k', 10, ok);
  assert.notEqual(c.client, b.client);
});

// Prepared statements in the audit (parameters redacted unless recording.db.parameters), the hold
// deadline's error naming the request, the login limiter under parallel guesses, and hostile bytes (at
// login and inside a session: a 40 MiB query, a frame cut short) that end only their own connection.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { hasMariaDb } from '../../bench/lib/mariadb.js';
import { ADMIN } from '../../bench/lib/services.js';
import { encodePacket } from '../../src/protocols/mysql/packets.js';
import { missing } from '../helpers/peers.js';
import { waitFor, within } from '../helpers/wait.js';
import { mysqlClient, mysqlEnv, waitingRequest, type MysqlEnv } from './helpers.js';
import { prepareAndExecute, rawLogin, rawSocket } from './raw.js';

const skip = missing('MariaDB server and client', hasMariaDb(), 'apt-get install mariadb-server mariadb-client');
const OPERATOR = { channel: 'cli' as const, proof: 'operator' as const };

describe('mysql gateway: audit details, limits and hostile input', { skip }, () => {
  let m: MysqlEnv;
  before(async () => {
    m = await mysqlEnv();
    // alice gets a standing grant, so the raw logins below go straight through.
    const c = mysqlClient(m.gw.port, 'alice@mdb01', 'select 1');
    await m.s.approvals.approve(await waitingRequest(m.s, 'alice'), 'bob', OPERATOR);
    assert.equal((await c.done).code, 0);
  });
  after(async () => {
    await m?.stop();
  });

  const executes = async () => {
    await m.writer.flushed();
    const sessions = await m.s.apiStore.listSessions({ limit: 50 });
    const rows = (await Promise.all(sessions.map((x) => m.s.statements.forSession(x.id, 0, 100)))).flat();
    return rows.filter((r) => r.kind === 'execute');
  };

  test('prepared statements: the SQL at PREPARE and EXECUTE, parameters redacted by default', async () => {
    const w = await rawLogin(m.gw.port, 'alice@mdb01');
    const answer = await prepareAndExecute(w, 'select ? + 1 as a, ? as b', 41, 'card 4111-1111');
    assert.ok(answer.some((p) => p.includes(Buffer.from('card 4111-1111'))));
    w.destroy();
    const [e] = await executes();
    assert.equal(e?.statement, 'select ? + 1 as a, ? as b');
    assert.equal(e?.parameters, JSON.stringify(['[redacted]', '[redacted]']));
    assert.equal(e?.rowCount, 1);
  });

  test('recording.db.parameters=true records the values', async () => {
    await m.s.admin.setParam(ADMIN, 'recording.db.parameters', 'true');
    const w = await rawLogin(m.gw.port, 'alice@mdb01');
    await prepareAndExecute(w, 'select ? as a, ? as b', 7, 'shown');
    w.destroy();
    const rows = await executes();
    assert.equal(rows.find((r) => r.statement === 'select ? as a, ? as b')?.parameters, JSON.stringify(['7', 'shown']));
    await m.s.admin.setParam(ADMIN, 'recording.db.parameters', 'false');
  });

  test('a login still waiting at the hold deadline gets an error naming the request, which keeps waiting', async () => {
    await m.restart({ holdMs: 1500 });
    const r = await mysqlClient(m.gw.port, 'dave@mdb01', 'select 1').done;
    const id = await waitingRequest(m.s, 'dave');
    assert.match(r.err, new RegExp(`Request #${id} is waiting for approval by .*bob.*Connect again once it is approved`));
    assert.equal((await m.s.approvals.get(id))?.status, 'waiting');
    await m.restart({});
  });

  test('hostile bytes end only their own connection', async () => {
    const hostile = [
      // An announced 16 MiB login packet: refused at the header.
      encodePacket(1, Buffer.alloc(0)).fill(0xff, 0, 3),
      // Garbage where the handshake response belongs.
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      // A response cut short, then silence.
      encodePacket(1, Buffer.alloc(64, 0x01)).subarray(0, 20),
      // An SSLRequest followed at once by plain bytes (no TLS handshake).
      Buffer.concat([encodePacket(1, Buffer.concat([Buffer.from([0x00, 0x8a, 0xaf, 0x01]), Buffer.alloc(28)])), Buffer.from('plain')]),
    ];
    const conns = await Promise.all(
      Array.from({ length: 20 }, (_, i) => rawSocket(m.gw.port).then((c) => ({ c, bytes: hostile[i % hostile.length]! }))),
    );
    for (const { c, bytes } of conns) c.sock.write(bytes);
    // Cut-short packets wait for their deadline (10 s); the others are closed at once.
    await within(30_000, 'every hostile connection to close', (done) => {
      void Promise.all(conns.map(({ c }) => c.closed)).then(() => done(undefined));
    });
    const ok = await mysqlClient(m.gw.port, 'alice@mdb01', 'select 2').done;
    assert.equal(ok.out.trim(), '2', ok.err);
  });

  test('inside a session: a 40 MiB query and a frame cut short each end only their own connection', async () => {
    // A query over the device's max_allowed_packet (16 MiB), sent as 16 MiB packets: the gateway streams
    // it through, and the device's refusal ends that session.
    const big = await rawLogin(m.gw.port, 'alice@mdb01');
    const bigClosed = new Promise<void>((r) => big.sock.once('close', () => r()));
    const payload = Buffer.alloc(40 * 1024 * 1024, 0x20);
    payload[0] = 0x03;
    payload.write('select 1', 1);
    const MAX = 0xffffff;
    for (let off = 0, seq = 0; off <= payload.length; off += MAX, seq++) {
      const part = payload.subarray(off, off + MAX);
      const head = Buffer.from([part.length & 0xff, (part.length >> 8) & 0xff, part.length >> 16, seq & 0xff]);
      big.sock.write(Buffer.concat([head, part]));
    }
    // A packet announcing 1,000 bytes, 10 sent, then the client leaves.
    const cut = await rawLogin(m.gw.port, 'alice@mdb01');
    const cutClosed = new Promise<void>((r) => cut.sock.once('close', () => r()));
    cut.sock.end(Buffer.concat([Buffer.from([0xe8, 0x03, 0x00, 0x00, 0x03]), Buffer.from('select 1 ')]));
    await within(60_000, 'both sessions to close', (done) => {
      void Promise.all([bigClosed, cutClosed]).then(() => done(undefined));
    });
    await waitFor('no live mysql session', () => m.s.sessions.count('mysql') === 0, 20_000, 50);
    const ok = await mysqlClient(m.gw.port, 'alice@mdb01', 'select 2').done;
    assert.equal(ok.out.trim(), '2', ok.err);
  });

  test('parallel wrong passwords: the limiter stops the guessing, and the right password waits too', async () => {
    const runs = await Promise.all(
      Array.from({ length: 20 }, () => mysqlClient(m.gw.port, 'hank@mdb01', 'select 1', { password: 'guess' }).done),
    );
    const limited = runs.filter((r) => /Too many failed logins for hank/.test(r.err)).length;
    assert.ok(limited >= 20 - 5, `${limited} of 20 limited`);
    const right = await mysqlClient(m.gw.port, 'hank@mdb01', 'select 1').done;
    assert.match(right.err, /Too many failed logins for hank/);
  });
});

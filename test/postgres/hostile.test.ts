// Hostile PostgreSQL clients end their own connection only: malformed and oversized startup packets,
// announced lengths of hundreds of MiB, truncated frames, bytes smuggled after SSLRequest, broken
// messages inside a relayed session; 20 parallel wrong passwords meet the one login limiter.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { ALICE_PW, PG_PEER_SKIP, psql, startDevice, startGateway, type Device, type Gw } from './peer.js';
import { passwordMessage, sslRequest, startupMessage } from '../../src/protocols/postgres/wire.js';

const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

/** Sends `bytes`, optionally ends, and resolves with what came back once the gateway closes (or after ms). */
function exchange(port: number, bytes: Buffer, o: { end?: boolean; ms?: number } = {}): Promise<{ closed: boolean; got: Buffer }> {
  return new Promise((resolve) => {
    const sock: Socket = connect({ host: '127.0.0.1', port });
    const got: Buffer[] = [];
    const t = setTimeout(() => {
      sock.destroy();
      resolve({ closed: false, got: Buffer.concat(got) });
    }, o.ms ?? 20_000);
    sock.on('data', (b) => got.push(b));
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(t);
      resolve({ closed: true, got: Buffer.concat(got) });
    });
    sock.write(bytes);
    if (o.end) sock.end();
  });
}

/** A TLS session through login and ReadyForQuery, as a driver would open it. */
async function loggedIn(port: number): Promise<TLSSocket> {
  const plain = connect({ host: '127.0.0.1', port });
  await new Promise((r) => plain.once('connect', r));
  plain.write(sslRequest());
  await new Promise((r) => plain.once('data', r));
  const s = tlsConnect({ socket: plain, rejectUnauthorized: false });
  await new Promise((r) => s.once('secureConnect', r));
  let buf = Buffer.alloc(0);
  s.on('data', (b: Buffer) => (buf = Buffer.concat([buf, b])));
  s.on('error', () => {});
  s.write(
    startupMessage(
      new Map([
        ['user', 'alice@pgdb01'],
        ['database', 'app'],
      ]),
    ),
  );
  const until = async (pred: () => boolean) => {
    for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(pred());
  };
  await until(() => buf.length >= 9);
  s.write(passwordMessage(ALICE_PW));
  await until(() => buf.includes(Buffer.from([0x5a, 0, 0, 0, 5, 0x49])));
  return s;
}

const closedSoon = (s: Socket | TLSSocket) =>
  new Promise<boolean>((resolve) => {
    if (s.destroyed) return resolve(true);
    const t = setTimeout(() => resolve(false), 10_000);
    s.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });

describe('postgres listener: hostile input', { skip: PG_PEER_SKIP }, () => {
  let dev: Device;
  let gw: Gw;
  before(async () => {
    dev = await startDevice();
    gw = await startGateway(dev, { approval: false });
  });
  after(async () => {
    await gw?.stop();
    dev?.stop();
  });

  test('malformed, huge and truncated startup packets each end that connection only (20 in parallel)', async () => {
    const tooManyParams = startupMessage(new Map(Array.from({ length: 200 }, (_, i) => [`k${i}`, 'v'] as [string, string])));
    const unterminated = Buffer.concat([int32(12), int32(196608), Buffer.from('user')]);
    const cases: [string, Buffer, boolean][] = [
      ['length 3', int32(3), false],
      ['500 MiB announced', Buffer.concat([int32(500 * 1024 * 1024), int32(196608)]), false],
      ['length just over 10 KiB', Buffer.concat([int32(10 * 1024 + 1), int32(196608)]), false],
      ['truncated', Buffer.concat([int32(100), int32(196608), Buffer.from('user\0al')]), true],
      ['200 parameters', tooManyParams, false],
      ['unterminated parameters', unterminated, false],
      ['bytes after SSLRequest', Buffer.concat([sslRequest(), startupMessage(new Map([['user', 'x']]))]), false],
      ['unknown protocol', Buffer.concat([int32(8), int32(0x00020000)]), false],
    ];
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => exchange(gw.port, cases[i % cases.length][1], { end: cases[i % cases.length][2] })),
    );
    runs.forEach((r, i) => assert.ok(r.closed, `${cases[i % cases.length][0]}: still open`));
    const ok = await psql(gw.port, 'alice@pgdb01', ALICE_PW, ['-c', 'select 1 as alive']);
    assert.equal(ok.code, 0, ok.stderr);
  });

  test('a password message announcing 500 MiB ends the connection', async () => {
    const plain = connect({ host: '127.0.0.1', port: gw.port });
    await new Promise((r) => plain.once('connect', r));
    plain.write(sslRequest());
    await new Promise((r) => plain.once('data', r));
    const s = tlsConnect({ socket: plain, rejectUnauthorized: false });
    s.on('error', () => {});
    await new Promise((r) => s.once('secureConnect', r));
    s.write(startupMessage(new Map([['user', 'alice@pgdb01']])));
    await new Promise((r) => s.once('data', r));
    s.write(Buffer.concat([Buffer.from('p'), int32(500 * 1024 * 1024), Buffer.from('abc')]));
    assert.ok(await closedSoon(s));
  });

  test('inside a session: a message length below 4 ends it; a 500 MiB announcement then a cut ends it', async () => {
    const a = await loggedIn(gw.port);
    a.write(Buffer.concat([Buffer.from('Q'), int32(2)]));
    assert.ok(await closedSoon(a));
    const b = await loggedIn(gw.port);
    b.write(Buffer.concat([Buffer.from('Q'), int32(500 * 1024 * 1024), Buffer.from('select')]));
    b.end();
    assert.ok(await closedSoon(b));
    const ok = await psql(gw.port, 'alice@pgdb01', ALICE_PW, ['-c', 'select 2 as alive']);
    assert.equal(ok.code, 0, ok.stderr);
  });

  test('20 parallel wrong passwords: the login limiter then refuses even the right one', async () => {
    const wrong = await Promise.all(
      Array.from({ length: 20 }, () => psql(gw.port, 'mallory@pgdb01', 'not-the-password', ['-c', 'select 1'])),
    );
    assert.ok(wrong.every((r) => r.code === 2));
    const right = await psql(gw.port, 'mallory@pgdb01', ALICE_PW, ['-c', 'select 1']);
    assert.equal(right.code, 2);
    assert.match(right.stderr, /too many failed logins for mallory/);
  });
});

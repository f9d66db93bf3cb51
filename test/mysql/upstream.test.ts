// The device login against a scripted server (Debian ships no MySQL server, so caching_sha2_password
// is checked here): fast authentication, full authentication over RSA without TLS, and a switch to
// mysql_native_password. The server checks each proof independently of the gateway's code.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, privateDecrypt, constants } from 'node:crypto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { buildAuthSwitch, buildGreeting, parseResponse } from '../../src/protocols/mysql/handshake.js';
import { CLIENT, OFFERED, okPacket } from '../../src/protocols/mysql/packets.js';
import { openUpstream, UpstreamError } from '../../src/protocols/mysql/upstream.js';
import { Wire } from '../../src/protocols/mysql/wire.js';

const PASSWORD = 'Vault-pw-äö-1';
const nonce = Buffer.from('0123456789abcdefghij');
const sha = (alg: string, ...b: Buffer[]) => createHash(alg).update(Buffer.concat(b)).digest();
const xor = (a: Buffer, b: Buffer) => Buffer.from(a.map((v, i) => v ^ b[i % b.length]!));

type Script = (w: Wire, authData: Buffer) => Promise<void>;

async function fakeServer(plugin: string, script: Script): Promise<{ server: Server; port: number; errors: unknown[] }> {
  const errors: unknown[] = [];
  const server = createServer((sock) => {
    const w = new Wire(sock, 1 << 20);
    w.write(buildGreeting({ version: '8.0.36', connectionId: 1, caps: OFFERED & ~CLIENT.SSL, charset: 45, nonce, plugin }));
    void (async () => {
      const r = parseResponse((await w.read(5000)).payload);
      assert.equal(r.username, 'app_rw');
      await script(w, r.authData);
    })().catch((e: unknown) => {
      errors.push(e);
      sock.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, errors };
}

const login = (port: number) =>
  openUpstream({
    host: '127.0.0.1',
    port,
    user: 'app_rw',
    password: PASSWORD,
    database: null,
    caps: OFFERED,
    maxPacket: 1 << 24,
    charset: 45,
    tls: 'prefer',
    timeoutMs: 5000,
  });

describe('mysql device login (scripted server)', () => {
  test('caching_sha2_password fast authentication', async () => {
    const f = await fakeServer('caching_sha2_password', async (w, proof) => {
      const h1 = sha('sha256', Buffer.from(PASSWORD));
      assert.deepEqual(proof, xor(h1, sha('sha256', sha('sha256', h1), nonce)));
      w.write(Buffer.from([0x01, 0x03]));
      w.write(okPacket());
    });
    const up = await login(f.port);
    up.sock.destroy();
    f.server.close();
    assert.deepEqual(f.errors, []);
  });

  test('caching_sha2_password full authentication without TLS: the password RSA-encrypted', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const f = await fakeServer('caching_sha2_password', async (w) => {
      w.write(Buffer.from([0x01, 0x04]));
      const ask = (await w.read(5000)).payload;
      assert.deepEqual([...ask], [0x02]);
      w.write(Buffer.concat([Buffer.from([0x01]), Buffer.from(publicKey.export({ type: 'spki', format: 'pem' }))]));
      const sealed = (await w.read(5000)).payload;
      const plain = xor(privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING }, sealed), nonce);
      assert.equal(plain.toString('utf8'), `${PASSWORD}\0`);
      w.write(okPacket());
    });
    const up = await login(f.port);
    up.sock.destroy();
    f.server.close();
    assert.deepEqual(f.errors, []);
  });

  test('a switch to mysql_native_password with a new nonce', async () => {
    const nonce2 = Buffer.from('ABCDEFGHIJKLMNOPQRST');
    const f = await fakeServer('caching_sha2_password', async (w) => {
      w.write(buildAuthSwitch('mysql_native_password', Buffer.concat([nonce2, Buffer.from([0])])));
      const proof = (await w.read(5000)).payload;
      const h1 = sha('sha1', Buffer.from(PASSWORD));
      assert.deepEqual(proof, xor(h1, sha('sha1', nonce2, sha('sha1', h1))));
      w.write(okPacket());
    });
    const up = await login(f.port);
    up.sock.destroy();
    f.server.close();
    assert.deepEqual(f.errors, []);
  });

  test('a refusal and an unknown plugin are errors that never carry the password', async () => {
    const f = await fakeServer('mysql_native_password', async (w) => {
      w.write(buildAuthSwitch('client_ed25519', nonce));
    });
    await assert.rejects(
      login(f.port),
      (e: Error) => e instanceof UpstreamError && /client_ed25519/.test(e.message) && !e.message.includes(PASSWORD),
    );
    f.server.close();
  });
});

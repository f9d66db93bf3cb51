// TLS both sides: an https device whose self-signed certificate is refused when verified (the default),
// accepted when pinned by SHA-256 or when verification is explicitly off, refused on a wrong pin; a
// header-mode credential; and the proxy's own TLS listener, whose cookie is Secure.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN, consoleLogin, hasOpenssl, startGw, type Gw } from './helpers.js';
import { missing } from '../helpers/peers.js';

const SKIP = missing('openssl', hasOpenssl(), 'apt-get install openssl');

function selfSigned(dir: string, cn: string) {
  const key = join(dir, `${cn}.key`);
  const cert = join(dir, `${cn}.crt`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      `subjectAltName=DNS:${cn},DNS:*.${cn},IP:127.0.0.1`,
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(key), cert: readFileSync(cert), keyFile: key, certFile: cert };
}

describe('http proxy and TLS', { skip: SKIP }, () => {
  let dir: string;
  let device: Server;
  let gw: Gw;
  let fp: string;
  let consoleCookie: { cookie: string; csrf: string };

  /** Cookie for `app` over the TLS listener (the hand-off answers with an https device URL). */
  const tlsCookie = async () => {
    const r = await fetch(`${gw.web}/api/v1/http-proxy/login?host=app&return=%2F`, {
      headers: { cookie: consoleCookie.cookie },
      redirect: 'manual',
    });
    const loc = new URL(r.headers.get('location')!);
    assert.equal(loc.protocol, 'https:');
    return new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: gw.proxyPort,
          path: loc.pathname + loc.search,
          headers: { host: gw.host('app') },
          rejectUnauthorized: false,
        },
        (res) => {
          res.resume();
          resolve(String(res.headers['set-cookie']?.[0] ?? ''));
        },
      );
      req.on('error', reject);
      req.end();
    });
  };
  const fetchTls = (cookie: string, path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: gw.proxyPort, path, headers: { host: gw.host('app'), cookie }, rejectUnauthorized: false },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-http-tls-'));
    const dev = selfSigned(dir, 'device.test');
    const proxy = selfSigned(dir, 'localhost');
    fp = new X509Certificate(dev.cert).fingerprint256;
    // The device says which credential it got (an echo of the secret would reach the browser masked).
    const basic = `Basic ${Buffer.from('operator:app-Secret-pw').toString('base64')}`;
    device = createServer({ key: dev.key, cert: dev.cert }, (req, res) =>
      res.end(
        `tls device; token=${req.headers['x-api-token'] === 'app-Secret-pw' ? 'injected' : ''}; auth=${req.headers.authorization === basic ? 'injected' : ''}`,
      ),
    );
    await new Promise<void>((r) => device.listen(0, '127.0.0.1', r));
    gw = await startGw({
      approval: false,
      nodePort: (device.address() as { port: number }).port,
      env: { GATEHOUSE_HTTP_TLS_CERT: proxy.certFile, GATEHOUSE_HTTP_TLS_KEY: proxy.keyFile },
    });
    consoleCookie = await consoleLogin(gw, 'alice');
  });
  after(async () => {
    await gw?.stop();
    device?.closeAllConnections();
    await new Promise((r) => device?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test('the proxy cookie is Secure on TLS', async () => {
    const c = await tlsCookie();
    assert.match(c, /^__gh_http=.*; HttpOnly; SameSite=Lax; .*Secure/);
  });

  test('https device: verified by default (refused), pinned, wrong pin, verification off; header credential', async () => {
    const cookie = (await tlsCookie()).split(';')[0];
    const set = async (http: Record<string, string>) => {
      await gw.s.admin.setDevice(ADMIN, 'app', { options: { http } });
      await new Promise((r) => setTimeout(r, 150));
    };
    await set({ scheme: 'https' });
    let r = await fetchTls(cookie, '/');
    assert.equal(r.status, 502);
    assert.match(r.body, /certificate was refused/);

    await set({ scheme: 'https', tls: `sha256:${fp}` });
    r = await fetchTls(cookie, '/');
    assert.equal(r.status, 200);
    assert.match(r.body, /^tls device/);
    assert.match(r.body, /auth=injected$/);

    await set({ scheme: 'https', tls: `sha256:${'00'.repeat(32)}` });
    r = await fetchTls(cookie, '/');
    assert.equal(r.status, 502);

    await set({ scheme: 'https', tls: 'off', auth: 'header:X-Api-Token' });
    r = await fetchTls(cookie, '/');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'tls device; token=injected; auth=');
  });
});

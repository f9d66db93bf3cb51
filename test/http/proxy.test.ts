// The HTTP proxy against real upstreams (a Node server and nginx), without the approval wait: injected
// credentials, stripped headers, Location rewrites, websockets, large downloads streamed with
// backpressure, and the bad-input cases (smuggling, foreign cookies, forged tokens, unknown hosts,
// oversized headers, a device that is down or slow).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import WebSocket from 'ws';
import { CookieSigner, PROXY_COOKIE } from '../../src/protocols/http/auth.js';
import { vaultKey } from '../../src/services.js';
import {
  NGINX_SKIP,
  consoleLogin,
  freePort,
  get,
  nodeUpstream,
  proxyCookie,
  raw,
  startGw,
  startNginx,
  type Gw,
  type Nginx,
  type NodeUpstream,
} from './helpers.js';
import { dbOf } from '../helpers/kysely.js';

/** Downloads `path` reading slowly at first: resolves with bytes received and the heap growth seen meanwhile. */
function slowDownload(port: number, host: string, path: string, cookie: string, pauseMs: number, during?: () => number) {
  return new Promise<{ bytes: number; status: number; sentWhilePaused: number; memGrowth: number }>((resolve, reject) => {
    const before = process.memoryUsage();
    const req = request({ host: '127.0.0.1', port, path, headers: { host, cookie }, agent: false }, (res) => {
      let bytes = 0;
      let sentWhilePaused = -1;
      let memGrowth = 0;
      res.once('data', (c: Buffer) => {
        bytes += c.length;
        res.pause();
        setTimeout(() => {
          sentWhilePaused = during ? during() : 0;
          const m = process.memoryUsage();
          memGrowth = m.arrayBuffers - before.arrayBuffers + (m.heapUsed - before.heapUsed);
          res.on('data', (d: Buffer) => (bytes += d.length));
          res.resume();
        }, pauseMs);
      });
      res.on('end', () => resolve({ bytes, status: res.statusCode ?? 0, sentWhilePaused, memGrowth }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('http proxy: forwarding to a Node upstream', () => {
  let up: NodeUpstream;
  let gw: Gw;
  let cookie: string;

  before(async () => {
    up = await nodeUpstream();
    gw = await startGw({ approval: false, nodePort: up.port, env: { GATEHOUSE_HTTP_UPSTREAM_TIMEOUT_MS: '1000' } });
    cookie = await proxyCookie(gw, 'alice', 'app');
  });
  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  test('the credential is injected as Basic auth; Gatehouse cookies, hop-by-hop and client X-Forwarded-For are stripped', async () => {
    const r = await get(gw.proxyPort, gw.host('app'), '/headers', {
      headers: {
        cookie: `${cookie}; app=keep; gh_session=console-secret`,
        'x-forwarded-for': '6.6.6.6',
        connection: 'keep-alive, x-private',
        'x-private': 'hop',
        authorization: 'Basic Zm9vOmJhcg==',
      },
    });
    assert.equal(r.status, 200);
    const h = JSON.parse(r.body) as Record<string, string>;
    // The device gets the credential; its echo reaches the browser masked.
    assert.equal(up.seen.at(-1)?.headers.authorization, `Basic ${Buffer.from('operator:app-Secret-pw').toString('base64')}`);
    assert.match(h.authorization, /^Basic \*+=*$/);
    assert.equal(h.cookie, 'app=keep');
    assert.equal(h['x-private'], undefined);
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h['x-forwarded-host'], gw.host('app'));
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h.host, `127.0.0.1:${up.port}`);
    assert.ok(!r.body.includes('app-Secret-pw'), 'the secret only travels base64-encoded in the header the device gets');
  });

  test('a device cannot overwrite the proxy cookie; its own cookies pass', async () => {
    const r = await get(gw.proxyPort, gw.host('app'), '/set-cookie', { headers: { cookie } });
    assert.deepEqual(r.headers['set-cookie'], ['app=1; Path=/']);
  });

  test('Location pointing at the device is rewritten to the proxy host; others are left alone', async () => {
    const r = await get(gw.proxyPort, gw.host('app'), '/redirect', { headers: { cookie } });
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, `http://${gw.host('app')}/hello?from=redirect`);
  });

  test('request bodies stream to the device', async () => {
    const body = 'x'.repeat(300_000);
    const r = await get(gw.proxyPort, gw.host('app'), '/post', {
      method: 'POST',
      headers: { cookie, 'content-length': String(body.length) },
      body,
    });
    assert.equal(r.body, `got ${body.length}`);
  });

  test('a websocket echo works through the proxy', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}/`, { headers: { host: gw.host('app'), cookie } });
    await new Promise((res, rej) => (ws.once('open', res), ws.once('error', rej)));
    ws.send('ping through gatehouse');
    const msg = await new Promise<string>((res) => ws.once('message', (m) => res(String(m))));
    assert.equal(msg, 'echo: ping through gatehouse');
    ws.close();
  });

  test('a websocket without a valid cookie is refused', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}/`, { headers: { host: gw.host('app') } });
    const err = await new Promise<Error>((res) => ws.once('error', res));
    assert.match(err.message, /403/);
  });

  test('a 256 MiB download streams with backpressure: the proxy holds no more than a few MiB', async () => {
    const r = await slowDownload(gw.proxyPort, gw.host('app'), '/big?mb=256', cookie, 700, () => up.bigSent);
    assert.equal(r.status, 200);
    assert.equal(r.bytes, 256 * 1024 * 1024);
    assert.ok(r.sentWhilePaused < 32 * 1024 * 1024, `the device wrote ${r.sentWhilePaused} bytes while the client read nothing`);
    assert.ok(r.memGrowth < 64 * 1024 * 1024, `memory grew by ${r.memGrowth} bytes`);
  });

  test('the session row counts requests and bytes; access is audited once', async () => {
    await new Promise((r) => setTimeout(r, 5300));
    const rows = await dbOf(gw.s).selectFrom('sessions').selectAll().where('protocol', '=', 'http').execute();
    assert.equal(rows.length, 1);
    assert.ok(Number(rows[0].bytes_out) > 256 * 1024 * 1024, `bytes_out ${rows[0].bytes_out}`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const st = await (dbOf(gw.s) as any)
      .selectFrom('http_session_stats')
      .selectAll()
      .where('session_id', '=', rows[0].id)
      .executeTakeFirst();
    assert.ok(Number(st.requests) >= 6, `requests ${st.requests}`);
    assert.ok(Number(st.last_request_at) >= Number(st.first_request_at));
    const audits = await dbOf(gw.s).selectFrom('audit_log').select('action').where('action', '=', 'http.access').execute();
    assert.equal(audits.length, 1);
  });

  test('smuggling: both lengths, duplicate Content-Length, odd Transfer-Encoding, bad header characters -> 400', async () => {
    const h = gw.host('app');
    const cases = [
      `POST /post HTTP/1.1\r\nHost: ${h}\r\nCookie: ${cookie}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      `POST /post HTTP/1.1\r\nHost: ${h}\r\nCookie: ${cookie}\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd`,
      `POST /post HTTP/1.1\r\nHost: ${h}\r\nCookie: ${cookie}\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde`,
      `POST /post HTTP/1.1\r\nHost: ${h}\r\nCookie: ${cookie}\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
      `POST /post HTTP/1.1\r\nHost: ${h}\r\nCookie: ${cookie}\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`,
      `GET /hello HTTP/1.1\r\nHost: ${h}\r\nCookie: ${cookie}\r\nX-Bad\u0001: y\r\n\r\n`,
      `GET /hello HTTP/1.1\r\nHost: ${h}\r\nCookie: ${cookie}\r\nX Bad: y\r\n\r\n`,
    ];
    for (const c of cases) {
      const out = await raw(gw.proxyPort, c);
      assert.match(out, /^HTTP\/1\.1 400 /, `${JSON.stringify(c.slice(0, 120))} -> ${out.slice(0, 60)}`);
    }
    const before = up.seen.length;
    assert.equal(up.seen.length, before, 'nothing reached the device');
  });

  test('an oversized header gets 431 and never reaches the device', async () => {
    const out = await raw(
      gw.proxyPort,
      `GET /hello HTTP/1.1\r\nHost: ${gw.host('app')}\r\nCookie: ${cookie}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    assert.match(out, /^HTTP\/1\.1 431 /);
  });

  test("a cookie for one device does not work on another: it is sent to the console's sign-in", async () => {
    const r = await get(gw.proxyPort, gw.host('secret'), '/hello', { headers: { cookie } });
    assert.equal(r.status, 302);
    assert.match(String(r.headers.location), /\/api\/v1\/http-proxy\/login\?host=secret/);
  });

  test('forged, reused and foreign tokens are refused; no cookie is set', async () => {
    const forged = await get(gw.proxyPort, gw.host('app'), `/.gatehouse/auth?token=ghh1.${'A'.repeat(43)}&return=/`);
    assert.equal(forged.status, 403);
    assert.equal(forged.headers['set-cookie'], undefined);
    // A real token works once, on its own host only.
    const c = await consoleLogin(gw, 'alice');
    const hand = async (host: string) => {
      const r = await fetch(`${gw.web}/api/v1/http-proxy/login?host=${host}&return=%2F`, {
        headers: { cookie: c.cookie },
        redirect: 'manual',
      });
      const loc = new URL(r.headers.get('location')!);
      return loc.pathname + loc.search;
    };
    const path = await hand('app');
    assert.equal((await get(gw.proxyPort, gw.host('secret'), path)).status, 403, 'a token for app does not work on secret');
    assert.equal((await get(gw.proxyPort, gw.host('app'), path)).status, 303);
    assert.equal((await get(gw.proxyPort, gw.host('app'), path)).status, 403, 'a token is used once');
    // Expired: a minute later.
    const path2 = await hand('app');
    const clock = gw.s.clock as { now(): number };
    const realNow = clock.now.bind(clock);
    clock.now = () => realNow() + 61_000;
    try {
      assert.equal((await get(gw.proxyPort, gw.host('app'), path2)).status, 403, 'an expired token is refused');
    } finally {
      clock.now = realNow;
    }
    // A cookie with a changed signature or user is refused.
    const [name, value] = cookie.split('=');
    const tampered = value.replace(/^v1\.(\d+)\./, (_m, id: string) => `v1.${Number(id) + 1}.`);
    assert.equal((await get(gw.proxyPort, gw.host('app'), '/hello', { headers: { cookie: `${name}=${tampered}` } })).status, 302);
  });

  test('unknown devices and devices the user may not use get the same page', async () => {
    // The console hands out no token for these (test/reliability/hostile-sizes.test.ts); a cookie
    // signed with the gateway's key stands for one that outlived the user's access.
    const signer = new CookieSigner(vaultKey(gw.s.config));
    const aliceId = (await gw.s.policy.current()).usersByName.get('alice')!.id;
    const cookieFor = (host: string) => `${PROXY_COOKIE}=${signer.sign({ userId: aliceId, host, exp: Date.now() + 60_000 })}`;
    const forbidden = await get(gw.proxyPort, gw.host('secret'), '/hello', { headers: { cookie: cookieFor('secret') } });
    const unknownCookie = cookieFor('nosuchdevice');
    const unknown = await get(gw.proxyPort, gw.host('nosuchdevice'), '/hello', { headers: { cookie: unknownCookie } });
    assert.equal(forbidden.status, 404);
    assert.equal(unknown.status, 404);
    assert.equal(forbidden.body.replace(/nonce-[^'"]+|nonce="[^"]+"/g, ''), unknown.body.replace(/nonce-[^'"]+|nonce="[^"]+"/g, ''));
    const other = await get(gw.proxyPort, 'example.com', '/');
    assert.equal(other.status, 404);
  });

  test('a device that is down gets a 502 page; one that does not answer, a 504', async () => {
    const dead = await freePort();
    await gw.s.admin.setDevice({ username: 'admin', id: null, channel: 'cli' }, 'app', { ports: { http: dead } });
    try {
      let r = await get(gw.proxyPort, gw.host('app'), '/hello', { headers: { cookie } });
      for (let i = 0; i < 20 && r.status === 200; i++) {
        await new Promise((res) => setTimeout(res, 100));
        r = await get(gw.proxyPort, gw.host('app'), '/hello', { headers: { cookie } });
      }
      assert.equal(r.status, 502);
      assert.match(r.body, /app is not reachable/);
    } finally {
      await gw.s.admin.setDevice({ username: 'admin', id: null, channel: 'cli' }, 'app', { ports: { http: up.port } });
    }
    let slow = await get(gw.proxyPort, gw.host('app'), '/slow', { headers: { cookie } });
    for (let i = 0; i < 20 && slow.status === 502; i++) slow = await get(gw.proxyPort, gw.host('app'), '/slow', { headers: { cookie } });
    assert.equal(slow.status, 504);
    assert.match(slow.body, /did not answer in time/);
  });
});

describe('http proxy: nginx serving a static site', { skip: NGINX_SKIP }, () => {
  let up: NodeUpstream;
  let nginx: Nginx;
  let gw: Gw;
  let cookie: string;

  before(async () => {
    up = await nodeUpstream();
    nginx = await startNginx({ wsPort: up.port });
    gw = await startGw({ approval: false, nodePort: up.port, nginxPort: nginx.port });
    cookie = await proxyCookie(gw, 'alice', 'static');
  });
  after(async () => {
    await gw?.stop();
    await nginx?.stop();
    await up?.close();
  });

  test('static pages, injected Basic auth, Location rewrite', async () => {
    const page = await get(gw.proxyPort, gw.host('static'), '/index.html', { headers: { cookie } });
    assert.equal(page.status, 200);
    assert.match(page.body, /served by nginx/);
    const auth = await get(gw.proxyPort, gw.host('static'), '/auth', { headers: { cookie } });
    // nginx got the injected credential (it echoes it); the browser sees it masked, same length.
    const basic = Buffer.from('viewer:nginx-Secret-pw').toString('base64');
    assert.equal(auth.body, `auth=Basic ${'*'.repeat(basic.replace(/=+$/, '').length)}${basic.slice(basic.replace(/=+$/, '').length)}`);
    const redir = await get(gw.proxyPort, gw.host('static'), '/redirect', { headers: { cookie } });
    assert.equal(redir.status, 302);
    assert.equal(redir.headers.location, `http://${gw.host('static')}/index.html`);
  });

  test('a websocket through nginx echoes', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}/ws`, { headers: { host: gw.host('static'), cookie } });
    await new Promise((res, rej) => (ws.once('open', res), ws.once('error', rej)));
    ws.send('via nginx');
    assert.equal(await new Promise<string>((res) => ws.once('message', (m) => res(String(m)))), 'echo: via nginx');
    ws.close();
  });

  test('a 256 MiB file streams without buffering in the proxy', async () => {
    const r = await slowDownload(gw.proxyPort, gw.host('static'), '/big.bin', cookie, 700);
    assert.equal(r.status, 200);
    assert.equal(r.bytes, 256 * 1024 * 1024);
    assert.ok(r.memGrowth < 64 * 1024 * 1024, `memory grew by ${r.memGrowth} bytes while the client read nothing`);
  });
});

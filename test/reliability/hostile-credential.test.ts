// The vaulted HTTP credential never reaches the browser. The device is a Node server written to leak it
// every way it can (the attacker's device): request headers echoed in the body and in response headers,
// TRACE/TRACK, the body written in pieces of every size, gzip/deflate/br answers despite identity, the
// base64 form at every alignment, the password alone and its URL/JSON/HTML spellings, websocket frames.
// Every answer is read from a raw socket and searched, raw and de-chunked, for every form of the secret.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import WebSocket, { WebSocketServer } from 'ws';
import { ADMIN, proxyCookie, startGw, type Gw } from '../http/helpers.js';
import { FrameScrubber, Scrubber, secretForms } from '../../src/protocols/http/scrub.js';

const USER = 'operator';
const PASSWORD = 'p@ss w0rd/"<x>&+é-Zq9';
const API_KEY = 'key-7f3a9c2e1b8d4f60';
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');

/** Every spelling the browser must never see, computed here independently of the gateway's code. */
function leaks(secret: string, extra: string[] = []): string[] {
  const b64 = (s: string) => Buffer.from(s).toString('base64').replace(/=+$/, '');
  // The characters of base64("x" * k + secret) that only the secret's bytes decide (whole 3-byte groups).
  const core = (k: number) =>
    Buffer.from('x'.repeat(k) + secret)
      .toString('base64')
      .slice(4, Math.floor((k + Buffer.byteLength(secret)) / 3) * 4);
  return [
    secret,
    encodeURIComponent(secret),
    JSON.stringify(secret).slice(1, -1),
    secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'),
    b64(secret),
    // base64 of the secret inside a longer text, at the other two alignments (middle characters only)
    core(1),
    core(2),
    ...extra,
  ];
}
const BASIC_LEAKS = leaks(PASSWORD, [BASIC.replace(/=+$/, ''), `${USER}:${PASSWORD}`]);
const KEY_LEAKS = leaks(API_KEY);

/** A whole response read from a raw socket (Connection: close), and its body with chunked framing removed. */
async function rawGet(
  port: number,
  host: string,
  path: string,
  cookie: string,
  method = 'GET',
  extra = '',
): Promise<{ raw: Buffer; head: string; body: Buffer }> {
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    const c = connect(port, '127.0.0.1', () =>
      c.write(`${method} ${path} HTTP/1.1\r\nhost: ${host}\r\ncookie: ${cookie}\r\nconnection: close\r\n${extra}\r\n`),
    );
    c.on('data', (d: Buffer) => parts.push(d));
    c.on('close', () => resolve(Buffer.concat(parts)));
    c.on('error', reject);
    c.setTimeout(20_000, () => c.destroy(new Error('no answer in 20 s')));
  });
  const sep = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, sep).toString('latin1');
  let body = raw.subarray(sep + 4);
  if (/\r\ntransfer-encoding: chunked/i.test(head)) {
    const out: Buffer[] = [];
    for (let p = 0; ;) {
      const eol = body.indexOf('\r\n', p);
      const n = parseInt(body.subarray(p, eol).toString('latin1'), 16);
      if (!(n > 0)) break;
      out.push(body.subarray(eol + 2, eol + 2 + n));
      p = eol + 2 + n + 2;
    }
    body = Buffer.concat(out);
  }
  return { raw, head, body };
}

function assertClean(r: { raw: Buffer; body: Buffer }, forms: string[], what: string): void {
  for (const f of forms) {
    assert.ok(!r.raw.includes(f), `${what}: the raw answer contains ${JSON.stringify(f)}`);
    assert.ok(!r.body.includes(f), `${what}: the body contains ${JSON.stringify(f)}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the device answers: everything it received, as text. */
const echo = (req: IncomingMessage) => `${req.method} ${req.url}\n${req.rawHeaders.map((v, i) => (i % 2 ? `${v}\n` : `${v}: `)).join('')}`;

/** The attacker's device. */
async function leakyDevice(): Promise<{ server: Server; port: number; seen: IncomingMessage[]; close(): Promise<void> }> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    const u = new URL(req.url ?? '/', 'http://x');
    const text = echo(req);
    const auth = String(req.headers.authorization ?? req.headers['x-api-key'] ?? '');
    const pw = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString().split(':').slice(1).join(':') : auth;
    if (u.pathname === '/echo') return res.end(text);
    if (u.pathname === '/headers') {
      res.setHeader('x-echo', auth);
      res.setHeader('x-b64', auth.slice(6));
      res.setHeader('x-pw', encodeURIComponent(pw));
      res.setHeader(`x-${auth.slice(6).replace(/[^A-Za-z0-9]/g, '')}`, 'name carries it');
      res.setHeader('location', `/next?auth=${encodeURIComponent(auth)}`);
      res.statusCode = 302;
      return res.end();
    }
    if (u.pathname === '/forms') {
      const b64 = (s: string) => Buffer.from(s).toString('base64');
      return res.end(
        [
          pw,
          encodeURIComponent(pw),
          JSON.stringify({ pw }),
          pw.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'),
          b64(text),
          b64(`x${text}`),
          b64(`xy${text}`),
        ].join('\n'),
      );
    }
    if (u.pathname === '/pieces') {
      // The body in pieces of `n` bytes, each its own write after a pause, from offset `skip`.
      const n = Number(u.searchParams.get('n'));
      const body = Buffer.from(`${'.'.repeat(Number(u.searchParams.get('pad')))}${text}`);
      res.writeHead(200, { 'content-length': body.length });
      void (async () => {
        for (let i = 0; i < body.length; i += n) {
          res.write(body.subarray(i, i + n));
          await sleep(2);
        }
        res.end();
      })();
      return;
    }
    const coding = decodeURIComponent(u.pathname.slice(1));
    const zipped: Record<string, (b: Buffer) => Buffer> = {
      gzip: gzipSync,
      deflate: deflateSync,
      br: brotliCompressSync,
      zstd: (b) => b,
      'gzip, gzip': (b) => gzipSync(gzipSync(b)),
    };
    if (coding in zipped || u.pathname === '/gzip-empty') {
      const body = u.pathname === '/gzip-empty' ? Buffer.alloc(0) : zipped[coding](Buffer.from(text.repeat(50)));
      res.writeHead(200, { 'content-encoding': u.pathname === '/gzip-empty' ? 'gzip' : coding, 'content-length': body.length });
      return res.end(body);
    }
    if (u.pathname === '/sse') {
      // One event, then the stream stays open: the event must not wait for more bytes.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first event\n\n');
      const t = setTimeout(() => res.end(), 15_000);
      res.on('close', () => clearTimeout(t));
      return;
    }
    if (u.pathname === '/range') {
      res.writeHead(206, { 'content-range': `bytes 0-9/${text.length}`, 'content-length': 10 });
      return res.end(text.slice(0, 10));
    }
    res.end('plain page');
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    ws.send(echo(req));
    ws.send(Buffer.from(echo(req)).toString('base64'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    seen,
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('the scanner, alone', () => {
  const forms = secretForms(['authorization', `Basic ${BASIC}`]);
  test('a form split at every offset, in pieces of every size from 1 to its length + 1, is masked', () => {
    for (const form of BASIC_LEAKS) {
      const body = Buffer.from(`head ${form} tail`);
      for (let size = 1; size <= body.length + 1; size++) {
        const s = new Scrubber(forms);
        const out: Buffer[] = [];
        for (let i = 0; i < body.length; i += size) out.push(...s.push(body.subarray(i, i + size)));
        out.push(s.flush());
        const got = Buffer.concat(out);
        assert.equal(got.length, body.length, 'same length');
        assert.ok(!got.includes(form), `${form} in pieces of ${size}`);
        assert.ok(got.toString().startsWith('head ') && got.toString().endsWith(' tail'));
      }
    }
  });

  test('large chunks (no copy of the chunk): a form across the seam at every offset, and inside the chunk', () => {
    const piece = 97;
    for (const form of BASIC_LEAKS) {
      for (let o = -form.length - 1; o <= 1; o++) {
        const body = Buffer.from(`${'x'.repeat(piece * 2 + o)}${form}${'y'.repeat(piece * 3)}${form}z`);
        const s = new Scrubber(forms);
        const out: Buffer[] = [];
        for (let i = 0; i < body.length; i += piece) out.push(...s.push(body.subarray(i, i + piece)));
        out.push(s.flush());
        const got = Buffer.concat(out);
        assert.equal(got.length, body.length);
        assert.ok(!got.includes(form), `${form} at seam offset ${o}`);
        assert.equal(
          got
            .toString()
            .replace(/\*/g, '')
            .replace(/[xyz]/g, '')
            .replace(/operator:/g, ''),
          '',
          'all of the form (the user name is not secret) was masked',
        );
      }
    }
  });

  test('websocket payloads split across reads are masked; the framing stays intact', () => {
    const payload = Buffer.from(`x ${PASSWORD} y`);
    const frame = Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
    const stream = Buffer.concat([frame, frame]);
    for (let size = 1; size <= stream.length; size++) {
      const f = new FrameScrubber(forms);
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) out.push(f.push(stream.subarray(i, i + size)));
      const got = Buffer.concat(out);
      assert.equal(got.length, stream.length);
      assert.equal(got[0], 0x81);
      assert.equal(got[frame.length], 0x81);
      assert.ok(!got.includes(PASSWORD), `pieces of ${size}`);
    }
    assert.throws(() => new FrameScrubber(forms).push(Buffer.from([0x81, 0x85, 1, 2, 3, 4])), /masked or compressed/);
    assert.throws(() => new FrameScrubber(forms).push(Buffer.from([0xc1, 0x05])), /masked or compressed/);
  });
});

describe('hostile device: the injected credential never reaches the browser', () => {
  let dev: Awaited<ReturnType<typeof leakyDevice>>;
  let gw: Gw;
  let cookie: string;
  let keyCookie: string;
  let plainCookie: string;

  before(async () => {
    dev = await leakyDevice();
    gw = await startGw({ approval: false, nodePort: dev.port });
    const s = gw.s;
    // `leaky` injects Basic with the hostile password; `keyed` an API key header; `plain` nothing.
    await s.admin.addDevice(ADMIN, { name: 'leaky', host: '127.0.0.1', protocols: 'http', group: 'web', ports: { http: dev.port } });
    await s.admin.addAccount(ADMIN, 'leaky', USER, { password: PASSWORD });
    await s.admin.addDevice(ADMIN, {
      name: 'keyed',
      host: '127.0.0.1',
      protocols: 'http',
      group: 'web',
      ports: { http: dev.port },
      options: { http: { auth: 'header:X-Api-Key' } },
    });
    await s.admin.addAccount(ADMIN, 'keyed', 'api', { password: API_KEY });
    await s.admin.addDevice(ADMIN, {
      name: 'plain',
      host: '127.0.0.1',
      protocols: 'http',
      group: 'web',
      ports: { http: dev.port },
      options: { http: { auth: 'none' } },
    });
    await s.admin.addAccount(ADMIN, 'plain', 'nobody', { password: 'plain-device-pw-1234' });
    cookie = await proxyCookie(gw, 'alice', 'leaky');
    keyCookie = await proxyCookie(gw, 'alice', 'keyed');
    plainCookie = await proxyCookie(gw, 'alice', 'plain');
  });
  after(async () => {
    await gw?.stop();
    await dev?.close();
  });

  test('the device does get the credential', async () => {
    dev.seen.length = 0;
    await rawGet(gw.proxyPort, gw.host('leaky'), '/echo', cookie, 'GET', 'range: bytes=3-9\r\naccept-encoding: gzip, br\r\n');
    const h = dev.seen.at(-1)!.headers;
    assert.equal(h.authorization, `Basic ${BASIC}`);
    assert.equal(h['accept-encoding'], 'identity');
    assert.equal(h.range, undefined, 'a range could return the secret in pieces');
  });

  test('an echo of the request headers in the body is masked, same length', async () => {
    const r = await rawGet(gw.proxyPort, gw.host('leaky'), '/echo', cookie);
    assert.match(r.head, /^HTTP\/1.1 200/);
    assert.match(r.body.toString(), /authorization: Basic \*+=*\n/i);
    assertClean(r, BASIC_LEAKS, '/echo');
  });

  test('TRACE and TRACK are answered 405 by the gateway and never reach the device', async () => {
    for (const m of ['TRACE', 'TRACK']) {
      dev.seen.length = 0;
      const r = await rawGet(gw.proxyPort, gw.host('leaky'), '/echo', cookie, m);
      // Node's parser refuses TRACK outright (400); TRACE gets the gateway's 405.
      assert.match(r.head, m === 'TRACE' ? /^HTTP\/1.1 405/ : /^HTTP\/1.1 40[05]/, m);
      assert.equal(dev.seen.length, 0, `${m} reached the device`);
      assertClean(r, BASIC_LEAKS, m);
    }
  });

  test('response headers carrying the credential are masked or dropped', async () => {
    const r = await rawGet(gw.proxyPort, gw.host('leaky'), '/headers', cookie);
    assert.match(r.head, /^HTTP\/1.1 302/);
    assert.match(r.head, /\r\nx-echo: Basic \*+/i);
    assertClean(r, BASIC_LEAKS, '/headers');
  });

  test('the password alone, its URL/JSON/HTML spellings and base64 at every alignment are masked', async () => {
    const r = await rawGet(gw.proxyPort, gw.host('leaky'), '/forms', cookie);
    assertClean(r, BASIC_LEAKS, '/forms');
  });

  test('the body written in pieces of every size 1..N, at every offset, never carries a form', async () => {
    const len = Buffer.byteLength(`Authorization: Basic ${BASIC}`);
    for (let n = 1; n <= len + 1; n += n < 8 ? 1 : 5) {
      const r = await rawGet(gw.proxyPort, gw.host('leaky'), `/pieces?n=${n}&pad=${n % 7}`, cookie);
      assert.match(r.head, /^HTTP\/1.1 200/);
      assertClean(r, BASIC_LEAKS, `pieces of ${n}`);
    }
  });

  test('gzip, deflate and br answers are decoded and scanned; unknown or stacked codings are refused', async () => {
    for (const c of ['gzip', 'deflate', 'br']) {
      const r = await rawGet(gw.proxyPort, gw.host('leaky'), `/${c}`, cookie);
      assert.match(r.head, /^HTTP\/1.1 200/, c);
      assert.doesNotMatch(r.head, /content-encoding/i, c);
      assert.match(r.body.toString(), /authorization: Basic \*+=*\n/i, c);
      assertClean(r, BASIC_LEAKS, c);
    }
    const empty = await rawGet(gw.proxyPort, gw.host('leaky'), '/gzip-empty', cookie);
    assert.match(empty.head, /^HTTP\/1.1 200/);
    for (const c of ['zstd', 'gzip,%20gzip']) {
      const r = await rawGet(gw.proxyPort, gw.host('leaky'), `/${c}`, cookie);
      assert.match(r.head, /^HTTP\/1.1 502/, c);
      assertClean(r, BASIC_LEAKS, c);
    }
  });

  test('an event stream is not held back: a complete line goes out at once', async () => {
    const t0 = Date.now();
    const first = await new Promise<string>((resolve, reject) => {
      const c = connect(gw.proxyPort, '127.0.0.1', () =>
        c.write(`GET /sse HTTP/1.1\r\nhost: ${gw.host('leaky')}\r\ncookie: ${cookie}\r\n\r\n`),
      );
      let got = '';
      c.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        if (got.includes('data: first event\n\n')) {
          c.destroy();
          resolve(got);
        }
      });
      c.on('error', reject);
      c.setTimeout(10_000, () => (c.destroy(), reject(new Error(`the event did not arrive in 10 s: ${JSON.stringify(got)}`))));
    });
    assert.match(first, /^HTTP\/1.1 200/);
    assert.ok(Date.now() - t0 < 10_000);
  });

  test('a range answer nobody asked for is refused', async () => {
    const r = await rawGet(gw.proxyPort, gw.host('leaky'), '/range', cookie);
    assert.match(r.head, /^HTTP\/1.1 502/);
    assertClean(r, BASIC_LEAKS, '/range');
  });

  test('a header credential (X-Api-Key) is masked the same way', async () => {
    for (const p of ['/echo', '/headers', '/forms', '/gzip', '/pieces?n=3&pad=1']) {
      const r = await rawGet(gw.proxyPort, gw.host('keyed'), p, keyCookie);
      assertClean(r, KEY_LEAKS, `keyed ${p}`);
    }
  });

  test('websocket: the upgrade echo and its base64 arrive masked', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}/ws`, { headers: { host: gw.host('leaky'), cookie }, perMessageDeflate: true });
    const got: string[] = [];
    await new Promise<void>((res, rej) => {
      ws.on('message', (m) => got.push(String(m)) === 2 && res());
      ws.once('error', rej);
    });
    ws.close();
    assert.match(got[0], /authorization: Basic \*+=*\n/i);
    for (const f of BASIC_LEAKS) assert.ok(!got.join('\n').includes(f), `websocket carried ${f}`);
  });

  test('an upgrade to anything but websocket is refused for such a device', async () => {
    dev.seen.length = 0;
    const r = await rawGet(gw.proxyPort, gw.host('leaky'), '/echo', cookie, 'GET', 'connection: upgrade\r\nupgrade: h2c\r\n');
    assert.match(r.head, /^HTTP\/1.1 501/);
    assert.equal(dev.seen.length, 0);
  });

  test('a device without an injected credential is untouched: codings, ranges and bytes pass as they are', async () => {
    dev.seen.length = 0;
    const r = await rawGet(gw.proxyPort, gw.host('plain'), '/gzip', plainCookie, 'GET', 'accept-encoding: gzip\r\nrange: bytes=0-3\r\n');
    assert.equal(dev.seen.at(-1)!.headers['accept-encoding'], 'gzip');
    assert.equal(dev.seen.at(-1)!.headers.range, 'bytes=0-3');
    assert.match(r.head, /\r\ncontent-encoding: gzip/i);
    assert.match(r.head, /\r\ncontent-length: \d+/i);
  });
});

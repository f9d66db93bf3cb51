// Hostile request heads against the HTTP proxy port, over raw TCP so anything can be sent: random and
// conflicting Host, Cookie, X-Forwarded-*, Content-Length / Transfer-Encoding, header-name garbage,
// CR/LF inside values, huge values, odd methods and targets. Each gets an answer other than 500 (or a
// closed connection, for heads the parser refuses) within 10 s, and the proxy still serves afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { nodeUpstream, startGw, type Gw, type NodeUpstream } from '../http/helpers.js';
import { Rng, SEED, forAWhile } from './rng.js';

const BUDGET_MS = Number(process.env.GATEHOUSE_FUZZ_HTTP_MS ?? 10_000);
let up: NodeUpstream;
let gw: Gw;

before(async () => {
  up = await nodeUpstream();
  gw = await startGw({ approval: false, nodePort: up.port });
});
after(async () => {
  await gw?.stop();
  await up?.close();
});

function raw(port: number, head: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    const done = (why: string) => {
      s.destroy();
      resolve(got ? got.split('\r\n')[0] : why);
    };
    const timer = setTimeout(() => done('timeout'), 10_000);
    s.on('connect', () => s.write(head));
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('\r\n')) {
        clearTimeout(timer);
        done('');
      }
    });
    s.on('error', () => (clearTimeout(timer), done('closed')));
    s.on('close', () => (clearTimeout(timer), done('closed')));
  });
}

test('HTTP proxy: hostile request heads never get a 500 or a hang', async () => {
  const r = new Rng(SEED + 4);
  const host = () =>
    r.pick([
      gw.host('app'),
      gw.host('secret'),
      gw.host('nosuch'),
      `app.localhost`,
      `${r.str(20)}.localhost:${gw.proxyPort}`,
      r.str(30),
      '',
      'x'.repeat(9000),
      `app.localhost:${gw.proxyPort}@evil.example`,
      '[::1]',
      `APP.LOCALHOST:${gw.proxyPort}`,
    ]);
  const value = () => Buffer.from(r.str(40)).toString('latin1');
  const tally: Record<string, number> = {};
  const bad: string[] = [];
  const n = await forAWhile(BUDGET_MS, 5000, async () => {
    const lines = [
      `${r.pick(['GET', 'POST', 'HEAD', 'OPTIONS', 'CONNECT', 'TRACE', 'DELETE', 'G ET', r.str(8)])} ${r.pick(['/', '/big', '/../../etc/passwd', '*', 'http://app.localhost/', `/${encodeURIComponent(Buffer.from(r.str(30)).toString())}`, '//x', r.str(20)])} ${r.pick(['HTTP/1.1', 'HTTP/1.0', 'HTTP/2', 'HTTP/1.1 x'])}`,
    ];
    if (r.next() < 0.9) lines.push(`Host: ${host()}`);
    if (r.next() < 0.3) lines.push(`Host: ${host()}`);
    for (let i = r.int(6); i > 0; i--)
      lines.push(
        r.pick([
          () => `Cookie: ${r.pick(['gh_session', 'gh_http', 'a'])}=${value()}`,
          () => `X-Forwarded-For: ${value()}`,
          () => `X-Forwarded-Host: ${host()}`,
          () => `Content-Length: ${r.pick(['0', '5', '-1', '99999999999', 'abc', '5, 6'])}`,
          () => `Transfer-Encoding: ${r.pick(['chunked', 'gzip, chunked', 'identity', value()])}`,
          () => `Authorization: ${r.pick(['Basic ', 'Bearer '])}${value()}`,
          () => `Upgrade: websocket\r\nConnection: Upgrade`,
          () => `${value()}: ${value()}`,
          () => `X-Long: ${'y'.repeat(r.int(70_000))}`,
          () => `Referer: ${value()}\r\nOrigin: ${value()}`,
        ])(),
      );
    const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n${r.next() < 0.2 ? r.str(20) : ''}`, 'latin1');
    const status = await raw(gw.proxyPort, head);
    const code = /^HTTP\/1\.[01] (\d{3})/.exec(status)?.[1] ?? status;
    tally[code] = (tally[code] ?? 0) + 1;
    if (code === '500' || code === 'timeout') bad.push(`${code}: ${JSON.stringify(head.toString('latin1').slice(0, 300))}`);
  });
  console.log(`# HTTP proxy: ${n} hostile heads, answers ${JSON.stringify(tally)}, seed ${SEED}`);
  assert.deepEqual(bad.slice(0, 10), []);
  const ok = await raw(gw.proxyPort, Buffer.from(`GET / HTTP/1.1\r\nHost: ${gw.host('app')}\r\n\r\n`));
  assert.match(ok, /^HTTP\/1\.1 \d{3}/);
});

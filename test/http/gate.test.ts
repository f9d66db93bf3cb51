// The gate without a browser: a required reason (form, too short, accepted), the SSE status stream, the
// page continuing once approved, expiry explained, "no approver", and refusal of cross-site form posts.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import WebSocket from 'ws';
import { CookieSigner, PROXY_COOKIE } from '../../src/protocols/http/auth.js';
import { vaultKey } from '../../src/services.js';
import { ADMIN, get, nodeUpstream, proxyCookie, startGw, type Gw, type NodeUpstream } from './helpers.js';
import { dbOf } from '../helpers/kysely.js';

/** The first `n` SSE events of a stream, as parsed data. */
function sse(port: number, host: string, path: string, cookie: string, n: number, onOpen: () => void): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const out: Record<string, unknown>[] = [];
    const req = request({ host: '127.0.0.1', port, path, headers: { host, cookie }, agent: false }, (res) => {
      let buf = '';
      let opened = false;
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let i;
        while ((i = buf.indexOf('\n\n')) !== -1) {
          const ev = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = /^data: (.*)$/m.exec(ev);
          if (data) out.push(JSON.parse(data[1]) as Record<string, unknown>);
          if (!opened) {
            opened = true;
            onOpen();
          }
          if (out.length >= n) {
            req.destroy();
            resolve(out);
          }
        }
      });
    });
    req.on('error', (e) => (out.length >= n ? undefined : reject(e)));
    req.end();
  });
}

describe('http proxy gate: reason, live status, expiry', () => {
  let up: NodeUpstream;
  let gw: Gw;
  let cookie: string;
  const form = (path: string, body: string, headers: Record<string, string> = {}) =>
    get(gw.proxyPort, gw.host('app'), path, {
      method: 'POST',
      headers: {
        cookie,
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(Buffer.byteLength(body)),
        ...headers,
      },
      body,
    });

  before(async () => {
    up = await nodeUpstream();
    gw = await startGw({ approval: true, nodePort: up.port });
    await gw.s.admin.setGroup(ADMIN, 'user', 'ops', { requireReason: true });
    cookie = await proxyCookie(gw, 'alice', 'app');
  });
  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  test('a required reason: form, too short, then the waiting page; SSE tells the approval; the device answers', async () => {
    const first = await get(gw.proxyPort, gw.host('app'), '/hello', { headers: { cookie } });
    assert.equal(first.status, 403);
    assert.match(first.body, /Access to app needs approval\./);
    assert.match(first.body, /Reason \(at least 5 characters\)/);
    const short = await form('/.gatehouse/request', 'reason=abc');
    assert.match(short.body, /at least 5 characters/);
    assert.match(short.body, /aria-invalid="true"/);
    const cross = await form('/.gatehouse/request', 'reason=deploy+42', { 'sec-fetch-site': 'cross-site' });
    assert.equal(cross.status, 403);
    const ok = await form('/.gatehouse/request', 'reason=deploy+42');
    const m = /Waiting for approval #(\d+) from Bob Manager/.exec(ok.body);
    assert.ok(m, ok.body);
    const id = Number(m[1]);
    assert.match(ok.body, /Your reason: deploy 42/);
    // Reloading shows the same request, not a new one and not the form.
    const again = await get(gw.proxyPort, gw.host('app'), '/hello', { headers: { cookie } });
    assert.match(again.body, new RegExp(`approval #${id} `));

    const events = await sse(gw.proxyPort, gw.host('app'), `/.gatehouse/events?id=${id}`, cookie, 2, () => {
      void gw.s.approvals.approve(id, 'bob', { channel: 'api', comment: 'ok' });
    });
    assert.equal(events[0].status, 'waiting');
    assert.equal(events[1].status, 'approved');
    const pass = await get(gw.proxyPort, gw.host('app'), '/hello', { headers: { cookie } });
    assert.equal(pass.body, 'hello from upstream');
  });

  test("another user's request is not visible on the SSE stream", async () => {
    const [r] = await dbOf(gw.s).selectFrom('approval_requests').select('id').execute();
    // bob has no rule for app, so the console gives him no token: a cookie signed with the gateway's key
    // stands for one he could hold (a rule removed since).
    const bob = (await gw.s.policy.current()).usersByName.get('bob')!;
    const bobCookie = `${PROXY_COOKIE}=${new CookieSigner(vaultKey(gw.s.config)).sign({ userId: bob.id, host: 'app', exp: Date.now() + 60_000 })}`;
    const res = await get(gw.proxyPort, gw.host('app'), `/.gatehouse/events?id=${r.id}`, { headers: { cookie: bobCookie } });
    assert.equal(res.status, 404);
    const junk = await get(gw.proxyPort, gw.host('app'), '/.gatehouse/events?id=abc', { headers: { cookie: bobCookie } });
    assert.equal(junk.status, 404);
  });

  test('expiry is explained when the user comes back', async () => {
    await gw.s.admin.setGroup(ADMIN, 'user', 'ops', { requireReason: false });
    await gw.s.approvals.revoke((await dbOf(gw.s).selectFrom('approval_requests').select('id').executeTakeFirstOrThrow()).id, 'bob', {
      channel: 'api',
    });
    await new Promise((r) => setTimeout(r, 200));
    let page = await get(gw.proxyPort, gw.host('app'), '/', { headers: { cookie } });
    assert.match(page.body, /Access ended/);
    page = await form('/.gatehouse/again', '');
    assert.equal(page.status, 303);
    page = await get(gw.proxyPort, gw.host('app'), '/', { headers: { cookie } });
    const id = Number(/approval #(\d+)/.exec(page.body)![1]);
    const clock = gw.s.clock as { now(): number };
    const real = clock.now.bind(clock);
    clock.now = () => real() + 31 * 60_000;
    try {
      page = await get(gw.proxyPort, gw.host('app'), '/', { headers: { cookie } });
      assert.match(page.body, new RegExp(`Request #${id} expired`));
      assert.match(page.body, /Nobody decided in time/);
    } finally {
      clock.now = real;
    }
  });

  test('after access ended, a new approval lets the user in without "request access again"', async () => {
    await gw.s.admin.setGroup(ADMIN, 'user', 'ops', { requireReason: false });
    const first = await gw.s.approvals.request({ username: 'alice', device: 'app', protocol: 'http', channel: 'web', reason: null });
    if (first.outcome !== 'waiting') throw new Error(`expected a waiting request, got ${first.outcome}`);
    await gw.s.approvals.approve(first.request.id, 'bob', { channel: 'api' });
    await new Promise((r) => setTimeout(r, 200));
    let page = await get(gw.proxyPort, gw.host('app'), '/hello', { headers: { cookie } });
    assert.match(page.body, /hello from upstream/);
    await gw.s.approvals.revoke(first.request.id, 'bob', { channel: 'api' });
    await new Promise((r) => setTimeout(r, 200));
    page = await get(gw.proxyPort, gw.host('app'), '/hello', { headers: { cookie } });
    assert.match(page.body, /Access ended/, 'the revoked grant: access ended');
    page = await get(gw.proxyPort, gw.host('app'), '/hello', { headers: { cookie } });
    assert.match(page.body, /Access ended/, 'still ended: no new approval yet');
    // Approved again elsewhere (the console, the CLI, a reservation).
    const second = await gw.s.approvals.request({ username: 'alice', device: 'app', protocol: 'http', channel: 'web', reason: null });
    if (second.outcome !== 'waiting') throw new Error(`expected a waiting request, got ${second.outcome}`);
    await gw.s.approvals.approve(second.request.id, 'bob', { channel: 'api' });
    await new Promise((r) => setTimeout(r, 200));
    page = await get(gw.proxyPort, gw.host('app'), '/hello', { headers: { cookie } });
    assert.match(page.body, /hello from upstream/);
    const rows = await dbOf(gw.s).selectFrom('sessions').select(['approval_id', 'ended_at']).where('protocol', '=', 'http').execute();
    assert.ok(
      rows.some((r) => r.approval_id === second.request.id && r.ended_at === null),
      'a new session for the new grant',
    );
    await gw.s.approvals.revoke(second.request.id, 'bob', { channel: 'api' });
  });

  test('no eligible approver: the user is told, never let through', async () => {
    await gw.s.admin.setGroup(ADMIN, 'user', 'ops', { managers: [] });
    await new Promise((r) => setTimeout(r, 200));
    await form('/.gatehouse/again', '');
    const page = await get(gw.proxyPort, gw.host('app'), '/', { headers: { cookie } });
    assert.equal(page.status, 403);
    assert.match(page.body, /nobody is eligible to approve it/);
  });

  test('grant end: an open websocket and a running download are cut within 1 s; the next request shows access ended', async () => {
    await gw.s.admin.setGroup(ADMIN, 'user', 'ops', { managers: ['bob'] });
    await form('/.gatehouse/again', '');
    const now = gw.s.clock.now();
    const r = await gw.s.approvals.request({
      username: 'alice',
      device: 'app',
      protocol: 'http',
      channel: 'web',
      reason: 'short window',
      start: now,
      end: now + 2500,
    });
    assert.ok('request' in r && r.request);
    await gw.s.approvals.approve(r.request!.id, 'bob', { channel: 'api' });
    await new Promise((res) => setTimeout(res, 150));
    const ws = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}/`, { headers: { host: gw.host('app'), cookie } });
    await new Promise((res, rej) => (ws.once('open', res), ws.once('error', rej)));
    const wsClosed = new Promise<number>((res) => ws.once('close', () => res(Date.now())));
    const download = new Promise<number>((res) => {
      const req = request(
        { host: '127.0.0.1', port: gw.proxyPort, path: '/big?mb=4096', headers: { host: gw.host('app'), cookie }, agent: false },
        (resp) => {
          resp.resume();
          resp.on('close', () => res(Date.now()));
          resp.on('error', () => res(Date.now()));
        },
      );
      req.on('error', () => res(Date.now()));
      req.end();
    });
    const end = now + 2500;
    const [w, d] = await Promise.all([wsClosed, download]);
    assert.ok(w - end < 1000, `websocket closed ${w - end} ms after the grant ended`);
    assert.ok(d - end < 1000, `download cut ${d - end} ms after the grant ended`);
    const page = await get(gw.proxyPort, gw.host('app'), '/hello', { headers: { cookie } });
    assert.match(page.body, /Access ended/);
    assert.match(page.body, /approval window is over/);
  });
});

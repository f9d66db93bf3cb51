// Every redirect target that comes from input, attacked with every C0 control, DEL and Unicode space or
// format character at several positions of targets that lead off-site in a browser: the console's hand-off
// to the HTTP proxy (return=), the proxy's token swap (return=), the proxy's trip to the console sign-in
// (the request path), the waiting page's reload (the request path), and the console and email-link pages.
// Never a 500, never a Location that a browser resolves to another origin, and the one-time token always
// signs in. Then Chromium follows the reproduction URLs and must stay on the gateway.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { SKIP, launch } from '../web/browser.js';
import { ADMIN, consoleLogin, get, nodeUpstream, proxyCookie, raw, startGw, type Gw, type NodeUpstream } from '../http/helpers.js';
import { ODD_CHARS_ENCODED, OFFSITE, browserResolve, hostileTargets, pool } from './redirect-payloads.js';
import { dbOf } from '../helpers/kysely.js';

interface RawRes {
  status: number;
  location: string | null;
}

/** One request with `path` written as is (UTF-8) in the request line. */
async function rawGet(port: number, host: string, path: string, headers: Record<string, string> = {}): Promise<RawRes> {
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const out = await raw(port, `GET ${path} HTTP/1.1\r\nhost: ${host}\r\n${extra}connection: close\r\n\r\n`);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(out)?.[1] ?? 0);
  return { status, location: /\r\nlocation: ([^\r\n]*)/i.exec(out)?.[1] ?? null };
}

const label = (v: string) => JSON.stringify(v);

describe('hostile redirects: every redirect target stays on the gateway', () => {
  let up: NodeUpstream;
  let gw: Gw;
  let device: string;
  let alice: { cookie: string; csrf: string };

  /** Status below 500, and a Location (if any) a browser resolves on `origin`. */
  const assertStays = (r: RawRes | { status: number; location: string | null }, origin: string, what: string) => {
    assert.ok(r.status > 0 && r.status < 500, `${what}: status ${r.status}`);
    if (r.location === null) return;
    assert.equal(browserResolve(r.location, `${origin}/some/page`)?.origin, origin, `${what}: Location ${label(r.location)}`);
  };

  /** Revokes bob's auto-approved requests and waits until the gate asks again. */
  const revokeBob = async () => {
    const rows = await dbOf(gw.s).selectFrom('approval_requests').select('id').where('status', '=', 'approved').execute();
    for (const r of rows) await gw.s.approvals.revoke(r.id, 'admin', { channel: 'cli' });
    for (let i = 0; (await gw.s.approvals.decide('bob', 'app', 'http')).outcome !== 'approval-required'; i++) {
      assert.ok(i < 200, 'the revoked grant stops counting');
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  before(async () => {
    up = await nodeUpstream();
    gw = await startGw({ approval: true, nodePort: up.port });
    device = `http://${gw.host('app')}`;
    // bob manages ops and belongs to it: his own requests are approved at once and the proxy reloads the page.
    await gw.s.admin.addMember(ADMIN, 'ops', 'bob');
    await gw.s.admin.setParam(ADMIN, 'auto.approve.when.requester.is.approver', 'true');
    alice = await consoleLogin(gw, 'alice');
  });
  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  test('console hand-off and token swap: every hostile return= lands on the device host, and the token signs in', async () => {
    const n = await pool(hostileTargets(), 4, async (t) => {
      const r = await fetch(`${gw.web}/api/v1/http-proxy/login?host=app&return=${encodeURIComponent(t)}`, {
        headers: { cookie: alice.cookie },
        redirect: 'manual',
      });
      const loc = r.headers.get('location');
      assert.equal(r.status, 303, `hand-off for ${label(t)}`);
      const to = new URL(loc!);
      assert.equal(to.origin, device, `hand-off for ${label(t)} goes to the device host`);
      assertStays({ status: 303, location: to.searchParams.get('return') }, device, `hand-off return for ${label(t)}`);
      // The attacker's own return on the swap (the token is real): the proxy checks it too.
      const swap = await get(
        gw.proxyPort,
        gw.host('app'),
        `/.gatehouse/auth?token=${encodeURIComponent(to.searchParams.get('token')!)}&return=${encodeURIComponent(t)}`,
      );
      assert.equal(swap.status, 303, `token swap for ${label(t)}: ${swap.status}`);
      assert.ok(swap.headers['set-cookie']?.[0]?.startsWith('__gh_http='), `the token signed in for ${label(t)}`);
      assertStays({ status: swap.status, location: String(swap.headers.location) }, device, `token swap for ${label(t)}`);
    });
    assert.ok(n > 2000, `${n} targets`);
  });

  test('a signed-out browser goes to the console sign-in with a same-origin return, whatever the path', async () => {
    let reached = 0;
    // Raw characters (most stop at the HTTP parser with a 400) and percent-encoded ones (all reach the proxy).
    const paths = [...hostileTargets(), ...hostileTargets(OFFSITE, ODD_CHARS_ENCODED)];
    await pool(paths, 4, async (t) => {
      const r = await rawGet(gw.proxyPort, gw.host('app'), t);
      assertStays({ status: r.status, location: null }, device, `proxy ${label(t)}`);
      if (r.location === null) return;
      const to = new URL(r.location);
      assert.equal(to.origin, gw.web, `sign-in for ${label(t)} is the console`);
      assertStays({ status: r.status, location: to.searchParams.get('return') }, device, `sign-in return for ${label(t)}`);
      reached++;
    });
    assert.ok(reached > 1000, `${reached} paths reached the proxy`);
  });

  test('the waiting page reloads only same-origin paths (the reproduction: //evil.test/)', async () => {
    const cookie = await proxyCookie(gw, 'bob', 'app');
    const first = await rawGet(gw.proxyPort, gw.host('app'), '//evil.test/', { cookie });
    assert.equal(first.status, 303, 'auto-approved: the page reloads');
    assertStays(first, device, 'reload of //evil.test/');
    await revokeBob();
    // Each reload approves a request, revoked before the next: raw characters, and encoded ones in '//'.
    const paths = [
      ...hostileTargets(OFFSITE.filter((t) => t.startsWith('/'))),
      ...ODD_CHARS_ENCODED.map((c) => `/${c}/evil.test`),
      ...OFFSITE,
    ];
    let n = 0;
    for (const t of paths) {
      const r = await rawGet(gw.proxyPort, gw.host('app'), t, { cookie });
      assertStays(r, device, `reload of ${label(t)}`);
      if (r.status === 303) {
        n++;
        await revokeBob();
      }
    }
    assert.ok(n > 60, `${n} reloads`);
  });

  test('console and email-link pages answer no off-site Location and no 500', async () => {
    const webPort = Number(new URL(gw.web).port);
    const host = `127.0.0.1:${webPort}`;
    for (const t of hostileTargets(
      OFFSITE.filter((x) => x.startsWith('/')),
      ['\t', '\x0b', '\u3000', '\\'],
    )) {
      assertStays(await rawGet(webPort, host, t, { cookie: alice.cookie }), gw.web, `console ${label(t)}`);
      assertStays(await rawGet(webPort, host, `/assets${t}`), gw.web, `console assets ${label(t)}`);
      const link = `/email/approval/${encodeURIComponent(t)}`;
      assertStays(await rawGet(webPort, host, link), gw.web, `email link ${label(t)}`);
      const post = await fetch(`${gw.web}${link}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'comment=x',
        redirect: 'manual',
      });
      assertStays({ status: post.status, location: post.headers.get('location') }, gw.web, `email link POST ${label(t)}`);
    }
  });

  describe('in Chromium', { skip: SKIP }, () => {
    let browser: Browser;
    before(async () => {
      browser = await launch();
    });
    after(async () => {
      await browser?.close();
    });

    test('following the reproduction URLs stays on the gateway', async () => {
      const ctx = await browser.newContext();
      const offsite: string[] = [];
      const [name, value] = alice.cookie.split('=');
      await ctx.addCookies([{ name, value, url: gw.web }]);
      const page = await ctx.newPage();
      // Every request the browser makes, redirects included: none may leave the gateway.
      page.on('request', (r) => {
        const h = new URL(r.url()).hostname;
        if (!h.endsWith('localhost') && h !== '127.0.0.1') offsite.push(r.url());
      });
      const go = (url: string) =>
        page.goto(url).catch((err: Error) => assert.fail(`${url}: ${err.message.split('\n')[0]} (offsite: ${offsite.join(' ')})`));
      for (const ret of [
        '%2F%09%2Fevil.test',
        '%2F%0B%2Fevil.test',
        '%2F%0C%2Fevil.test',
        '%2F%E3%80%80%2Fevil.test',
        '%2F%0A%2Fevil.test',
        '%2F%5Cevil.test',
        '%2F..%2F%2Fevil.test',
        '%2F%2Fevil.test',
      ]) {
        await go(`${gw.web}/api/v1/http-proxy/login?host=app&return=${ret}`);
        assert.equal(new URL(page.url()).origin, device, `return=${ret} ended at ${page.url()}`);
      }

      // The waiting page's reload: bob's own request is approved at once, and the proxy reloads the path.
      await revokeBob();
      const [pname, pvalue] = (await proxyCookie(gw, 'bob', 'app')).split('=');
      await ctx.addCookies([{ name: pname, value: pvalue, url: device }]);
      const reloads: number[] = [];
      page.on('response', (r) => void (r.url() === `${device}//evil.test/` && reloads.push(r.status())));
      await go(`${device}//evil.test/`);
      assert.deepEqual(reloads, [303], 'the approval reloaded the page');
      assert.equal(new URL(page.url()).origin, device, `//evil.test/ ended at ${page.url()}`);
      assert.deepEqual(offsite, [], 'the browser never left the gateway');
      await ctx.close();
    });
  });
});

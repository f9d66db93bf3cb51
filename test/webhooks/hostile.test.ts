// Receivers that misbehave do not hurt the gateway: an endless response body is read only up to the cap
// (memory stays flat), a receiver that never answers costs one deadline, a redirect is not followed, and
// meanwhile a healthy webhook keeps receiving. URLs are checked when added (no credentials, https or
// loopback http with allowHttp only), and twenty parallel adds of one name make one webhook.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, seedOrg, testServices, type TestEnv } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { addWebhook, removeWebhook } from '../../src/notify/webhooks.js';
import { WebhookWorker, WEBHOOK_DEFAULTS } from '../../src/notify/webhooks-worker.js';
import { postJson } from '../../src/notify/webhooks-http.js';
import { ok, startReceiver, type Receiver } from './receiver.js';

describe('hostile webhook receivers', () => {
  let t: TestEnv;
  let healthy: Receiver;
  let bad: Receiver;
  let target: Receiver;
  let worker: WebhookWorker;
  before(async () => {
    t = await testServices('sqlite', { real: true });
    await seedOrg(t.s, { opsApproval: true });
    healthy = await startReceiver(ok);
    bad = await startReceiver(ok);
    target = await startReceiver(ok);
    worker = new WebhookWorker(t.s, {
      ...WEBHOOK_DEFAULTS,
      pollMs: 50,
      retryBaseMs: 60_000,
      post: { timeoutMs: 1500, maxResponseBytes: 64 * 1024 },
    });
    worker.start();
  });
  after(async () => {
    await worker?.stop();
    for (const r of [healthy, bad, target]) await r?.close();
    await t?.cleanup();
  });

  test('an endless body is cut at the cap; the answer still counts', async () => {
    const before = process.memoryUsage().rss;
    const started = Date.now();
    const chunk = Buffer.alloc(1 << 20, 'x');
    bad.handler = (_r, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      // 1 MiB chunks for as long as the client reads: hundreds of MiB if it buffered everything.
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    };
    const r = await postJson(bad.url, {}, '{}', { timeoutMs: 5000, maxResponseBytes: 64 * 1024 });
    assert.equal(r.status, 200);
    assert.equal(r.error, null);
    assert.ok(Date.now() - started < 4000, 'cut at the cap, not at the deadline');
    assert.ok(process.memoryUsage().rss - before < 150 * 1024 * 1024, 'memory did not grow by the body');
  });

  test('never answers, and a redirect: neither followed nor blocking a healthy webhook', async () => {
    bad.handler = () => {}; // holds the connection, says nothing
    target.got.length = 0;
    healthy.got.length = 0;
    bad.got.length = 0;
    await addWebhook(t.s, ADMIN, { name: 'silent', url: bad.url, events: 'approval.created', allowHttp: true });
    await addWebhook(t.s, ADMIN, { name: 'ok', url: healthy.url, events: 'approval.created', allowHttp: true });
    await addWebhook(t.s, ADMIN, {
      name: 'moved',
      url: healthy.url.replace('/hook', '/moved'),
      events: 'approval.created',
      allowHttp: true,
    });
    healthy.handler = (r, res, req) => {
      // Written raw: a Location that tries a header injection through encoded CR/LF.
      if (r.path === '/moved')
        req.socket.end(`HTTP/1.1 307 Temporary Redirect\r\nLocation: ${target.url}?x=%0d%0aSet-Cookie:%20a=b\r\nContent-Length: 0\r\n\r\n`);
      else ok(r, res, req);
    };
    for (const reason of ['one', 'two', 'three'])
      await t.s.approvals.request({ username: 'alice', device: 'web01', protocol: 'ssh', reason, channel: 'ssh' }).catch(() => {});
    await t.s.approvals.request({ username: 'dave', device: 'db01', protocol: 'ssh', reason: 'four', channel: 'ssh' });
    await waitFor('healthy got its events', () => healthy.got.filter((g) => g.path === '/hook').length >= 2, 15_000);
    const silent = await waitFor(
      'silent timed out',
      async () => (await t.s.webhooks.deliveries({ webhook: 'silent', limit: 5 })).find((d) => d.status === 'queued' && d.attempts === 1),
      15_000,
    );
    assert.match(silent.lastError ?? '', /no answer within 1500 ms/);
    assert.equal(silent.responseCode, null);
    const moved = await waitFor('redirect recorded', async () =>
      (await t.s.webhooks.deliveries({ webhook: 'moved', limit: 5 })).find((d) => d.attempts === 1 && d.status === 'queued'),
    );
    assert.equal(moved.responseCode, 307, moved.lastError ?? '');
    assert.match(moved.lastError ?? '', /redirects are not followed/);
    assert.equal(target.got.length, 0, 'the redirect target never hears from us');
    for (const n of ['silent', 'ok', 'moved']) await removeWebhook(t.s, ADMIN, n);
  });

  test('URLs, names, events and secrets are checked when added', async () => {
    const bad = async (input: Parameters<typeof addWebhook>[2], re: RegExp) =>
      assert.rejects(addWebhook(t.s, ADMIN, input), (e: Error & { code?: string }) => e.code === 'invalid' && re.test(e.message));
    await bad({ name: 'a', url: 'http://example.com/hook' }, /plain http is allowed only/);
    await bad({ name: 'a', url: 'http://example.com/hook', allowHttp: true }, /plain http is allowed only/);
    await bad({ name: 'a', url: 'http://127.0.0.1:9/hook' }, /--allow-http/);
    await bad({ name: 'a', url: 'https://user:pw@example.com/hook' }, /no user or password/);
    await bad({ name: 'a', url: 'https://example.com/a b' }, /no spaces or control/);
    await bad({ name: 'a', url: 'https://example.com/\r\nX: y' }, /no spaces or control/);
    await bad({ name: 'a', url: 'ftp://example.com/' }, /must be https/);
    await bad({ name: 'a', url: 'javascript:alert(1)' }, /must be https/);
    await bad({ name: '../x', url: 'https://example.com/' }, /name/);
    await bad({ name: 'a', url: 'https://example.com/', events: 'approval.*,nope.*' }, /unknown pattern 'nope\.\*'/);
    await bad({ name: 'a', url: 'https://example.com/', events: 'session.startd' }, /unknown pattern/);
    await bad({ name: 'a', url: 'https://example.com/', secret: 'short' }, /16 to 256/);
    const w = await addWebhook(t.s, ADMIN, { name: 'ipv6', url: 'http://[::1]:9/x', allowHttp: true });
    assert.equal(w.webhook.url, 'http://[::1]:9/x');
    await removeWebhook(t.s, ADMIN, 'ipv6');
  });

  test('twenty parallel adds of one name make one webhook; the rest are conflicts', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => addWebhook(t.s, ADMIN, { name: 'race', url: 'https://example.com/hook' })),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { code?: string }).code, 'conflict');
    assert.equal((await t.s.webhooks.webhooks()).filter((w) => w.name === 'race').length, 1);
    await removeWebhook(t.s, ADMIN, 'race');
  });
});

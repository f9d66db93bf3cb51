// The API's RDP routes (src/api/routes/rdp) mounted the way the console wires them: inside /api/v1,
// after the auth hook. Connect asks for approval when needed; the .rdp download works only when access
// is allowed now; missing and forbidden devices look the same; the ticket in the file works once.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildWebServer } from '../../src/api/server.js';
import { Metrics } from '../../src/api/metrics.js';
import { installAuth } from '../../src/api/auth.js';
import { loginRoutes } from '../../src/api/routes/login/index.js';
import { rdpRoutes } from '../../src/api/routes/rdp/index.js';
import { clientConnectionRequest } from '../../src/protocols/rdp/x224.js';
import { login, type Client } from '../api/helpers.js';
import { addRdpDevice, CONNECTION_CONFIRM, fakeRdpServer, rawClient, startGateway, type FakeRdp, type Gw } from './helpers.js';

describe('API: RDP connect and .rdp download', () => {
  let g: Gw;
  let dev: FakeRdp;
  let app: FastifyInstance;
  let base: string;
  let alice: Client;
  before(async () => {
    g = await startGateway({ opsApproval: true });
    dev = await fakeRdpServer();
    await addRdpDevice(g.s, 'rdp01', dev.port);
    app = await buildWebServer(g.s, new Metrics(g.s));
    const store = g.s.apiStore;
    await app.register(
      async (api) => {
        installAuth(api, g.s, store);
        await loginRoutes(api, { s: g.s, store });
        await rdpRoutes(api, { s: g.s, store });
      },
      { prefix: '/api/v1' },
    );
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    alice = await login(base, 'alice');
  });
  after(async () => {
    await app?.close();
    await dev?.close();
    await g?.stop();
  });

  test('approval first: 409 on download, 202 waiting on connect, then the file downloads and works once', async () => {
    const early = await alice.get('/api/v1/rdp/file?device=rdp01');
    assert.equal(early.status, 409);
    assert.equal(early.body.error.code, 'approval_required');
    const w = await alice.post('/api/v1/rdp/tickets', { device: 'rdp01', reason: 'patch tuesday' });
    assert.equal(w.status, 202, w.text);
    assert.equal(w.body.outcome, 'waiting');
    assert.deepEqual(w.body.approvers, ['bob']);
    await g.s.approvals.approve(w.body.requestId, 'bob', { channel: 'web' });
    const d = await alice.get('/api/v1/rdp/file?device=rdp01');
    assert.equal(d.status, 200, d.text);
    assert.match(String(d.headers.get('content-type')), /^application\/x-rdp/);
    assert.equal(d.headers.get('content-disposition'), 'attachment; filename="rdp01.rdp"');
    assert.equal(d.headers.get('cache-control'), 'no-store');
    assert.match(
      d.text,
      new RegExp(`^full address:s:127\\.0\\.0\\.1:${g.port}\\r\\nusername:s:Administrator\\r\\nloadbalanceinfo:s:gh1\\.`),
    );
    const ticket = /loadbalanceinfo:s:(\S+)/.exec(d.text)![1];
    const c = await rawClient(g.port);
    c.sock.write(clientConnectionRequest({ routingToken: ticket, requestedProtocols: 1 }));
    await c.waitFor(CONNECTION_CONFIRM.length);
    c.sock.destroy();
    const t = await alice.post('/api/v1/rdp/tickets', { device: 'rdp01' });
    assert.equal(t.status, 200, t.text);
    assert.equal(t.body.outcome, 'allowed');
    assert.equal(t.body.approvalId, w.body.requestId);
    assert.equal(t.body.filename, 'rdp01.rdp');
  });

  test('no enumeration: a missing device and a forbidden one give the same 404; login and CSRF are required', async () => {
    const frank = await login(base, 'frank');
    const a = await alice.get('/api/v1/rdp/file?device=nope');
    const b = await frank.get('/api/v1/rdp/file?device=rdp01');
    assert.equal(a.status, 404);
    assert.equal(b.status, 404);
    assert.equal(a.body.error.message.replace('nope', 'X'), b.body.error.message.replace('rdp01', 'X'));
    const anon = await fetch(`${base}/api/v1/rdp/file?device=rdp01`);
    assert.equal(anon.status, 401);
    const noCsrf = await alice.req('POST', '/api/v1/rdp/tickets', { device: 'rdp01' }, { 'x-csrf-token': 'wrong' });
    assert.equal(noCsrf.status, 403);
  });
});

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies in tests */
// Connect shows a request that already waits, on the way in it was made for (and only there).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, login, startServer, type Server } from './helpers.js';

describe('connect API', () => {
  let srv: Server;
  let alice: Client;
  before(async () => {
    srv = await startServer('sqlite');
    alice = await login(srv.base, 'alice');
  });
  after(async () => srv?.stop());

  test('a waiting request shows on its device and protocol, with its number and deadline', async () => {
    const before = (await alice.get('/api/v1/connect')).body.items.find((t: any) => t.device === 'web01');
    assert.ok(before.ways.every((w: any) => w.waiting === null));
    const created = await alice.post('/api/v1/approvals', { device: 'web01', protocol: 'ssh', reason: 'deploy 42' });
    assert.equal(created.body.outcome, 'waiting');
    const web = (await alice.get('/api/v1/connect')).body.items.find((t: any) => t.device === 'web01');
    const ssh = web.ways.find((w: any) => w.protocol === 'ssh');
    assert.equal(ssh.waiting.id, created.body.request.id);
    assert.ok(ssh.waiting.expiresAt === null || !Number.isNaN(Date.parse(ssh.waiting.expiresAt)));
    for (const w of web.ways.filter((x: any) => x.protocol !== 'ssh')) assert.equal(w.waiting, null);
  });
});

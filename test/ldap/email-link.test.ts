// An approver who must pass the second factor cannot decide through an email link with only a password
// (approval.email.link.requires.login); signed in to the console (after the code) they can.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from 'otplib';
import { Client, PW, startServer, type Server } from '../api/helpers.js';
import { directoryOf } from '../../src/directory/index.js';
import { createToken } from '../../src/notify/tokens.js';

describe('email links and the second factor of approvers', () => {
  let srv: Server;
  let requestId = 0;
  before(async () => {
    srv = await startServer('sqlite');
    const s = srv.running.services;
    await s.admin.setParam({ username: 'admin', id: null, channel: 'cli' }, 'approval.email.link.requires.login', 'true');
    const r = await s.approvals.request({ username: 'alice', device: 'web01', protocol: 'ssh', channel: 'cli', reason: 'deploy 42' });
    if (r.outcome === 'allowed') throw new Error('expected a request');
    requestId = r.request.id;
    await directoryOf(s).directory.store.setApproversNeedSecondFactor(true);
  });
  after(async () => srv?.stop());

  const form = (c: Client | null, token: string, fields: Record<string, string>) =>
    fetch(`${srv.base}/email/approval/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(c?.cookie ? { cookie: c.cookie } : {}) },
      body: new URLSearchParams(fields).toString(),
    });

  test('the password alone is refused for an approver who needs the second factor', async () => {
    const s = srv.running.services;
    const bob = (await s.policy.current()).usersByName.get('bob')!;
    const token = await createToken(s.mail, requestId, bob.id, 'approve', 0, Date.now());
    const res = await form(null, token, { username: 'bob', password: PW });
    assert.equal(res.status, 403);
    assert.match(await res.text(), /second factor/);
    assert.equal((await s.approvals.get(requestId))!.status, 'waiting');
  });

  test('signed in to the console after the code, the link decides', async () => {
    const s = srv.running.services;
    const bob = (await s.policy.current()).usersByName.get('bob')!;
    const totp = directoryOf(s).totp;
    const secret = (await totp.begin(bob)).secret;
    await totp.confirm(bob, await generate({ secret, epoch: Math.floor(Date.now() / 1000) - 30 }));
    const c = new Client(srv.base);
    const step1 = await c.post('/api/v1/session', { username: 'bob', password: PW });
    assert.equal(step1.status, 202);
    const step2 = await c.post('/api/v1/session/second-factor', { ticket: step1.body.ticket, code: await generate({ secret }) });
    assert.equal(step2.status, 200, step2.text);
    c.cookie = step2.headers.get('set-cookie')!.split(';')[0];
    const token = await createToken(s.mail, requestId, bob.id, 'approve', 0, Date.now());
    const res = await form(c, token, {});
    assert.equal(res.status, 200, await res.text());
    assert.equal((await s.approvals.get(requestId))!.status, 'approved');
  });
});

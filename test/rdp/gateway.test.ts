// Protocol end to end: a real Gatehouse (start(env)), a small RDP server that answers the Connection
// Confirm, and a client sending the Connection Request bytes xfreerdp sends. Checks the rewritten request
// the device receives, the relay, the session row, single use, revocation, and every kind of bad input.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { DB_TARGETS } from '../helpers/db.js';
import { loadConfig } from '../../src/config/env.js';
import { makeLogger } from '../../src/log.js';
import { openServices } from '../../src/services.js';
import { issueTicket } from '../../src/protocols/rdp/index.js';
import { clientConnectionRequest, parseConnectionRequest } from '../../src/protocols/rdp/x224.js';
import {
  addRdpDevice,
  auditRows,
  CONNECTION_CONFIRM,
  fakeRdpServer,
  rawClient,
  startGateway,
  waitUntil,
  type FakeRdp,
  type Gw,
} from './helpers.js';
import { dbOf } from '../helpers/kysely.js';

async function ticketFor(g: Gw, user = 'alice', device = 'rdp01') {
  const r = await issueTicket(g.s, { username: user, device, channel: 'cli', reason: 'patch tuesday' });
  assert.equal(r.outcome, 'allowed', JSON.stringify(r));
  return r as Extract<typeof r, { outcome: 'allowed' }>;
}

/** Sends bytes and expects the gateway to close without a single byte back. */
async function refused(g: Gw, bytes: Buffer, split = false) {
  const c = await rawClient(g.port);
  if (split) for (const b of bytes) c.sock.write(Buffer.from([b]));
  else c.sock.write(bytes);
  const ms = await c.closed;
  assert.equal(c.received().length, 0, 'a refused client learns nothing');
  return ms;
}

for (const target of DB_TARGETS) {
  describe(`RDP gateway, protocol end to end (${target.name})`, { skip: target.skip }, () => {
    let g: Gw;
    let dev: FakeRdp;
    before(async () => {
      g = await startGateway({ dialect: target.name, opsApproval: false });
      dev = await fakeRdpServer();
      await addRdpDevice(g.s, 'rdp01', dev.port);
      await addRdpDevice(g.s, 'rdp02', dev.port);
    });
    after(async () => {
      await dev?.close();
      await g?.stop();
    });

    test('the .rdp file names the gateway, the account and the ticket', async () => {
      const t = await ticketFor(g);
      const lines = t.file.split('\r\n');
      assert.ok(lines.includes(`full address:s:127.0.0.1:${g.port}`), t.file);
      assert.ok(lines.includes('username:s:Administrator'));
      assert.ok(lines.includes(`loadbalanceinfo:s:${t.ticket}`));
      assert.match(t.ticket, /^gh1\.[A-Za-z0-9_-]{43}$/);
      assert.ok(t.expiresAt - Date.now() <= 60_000 && t.expiresAt - Date.now() > 50_000);
    });

    test('ticket -> rewritten request at the device, confirm back, trailing bytes and relay both ways, session recorded', async () => {
      const t = await ticketFor(g);
      const n = dev.requests.length;
      const c = await rawClient(g.port);
      const cr = clientConnectionRequest({ routingToken: t.ticket, requestedProtocols: 0x0b });
      const early = Buffer.from('bytes sent right after the request');
      c.sock.write(Buffer.concat([cr, early]));
      await c.waitFor(CONNECTION_CONFIRM.length + early.length);
      const fwd = dev.requests[n];
      const p = parseConnectionRequest(fwd);
      assert.ok(p.ok);
      assert.equal(p.cr.cookie, 'Administrator');
      assert.equal(p.cr.routingToken, null);
      assert.equal(fwd.readUInt16BE(2), fwd.length);
      assert.equal(fwd[4], fwd.length - 5);
      assert.deepEqual(p.cr.negReq?.raw, cr.subarray(cr.length - 8), 'RDP_NEG_REQ kept byte for byte');
      assert.ok(!fwd.includes(Buffer.from(t.ticket)));
      assert.deepEqual(c.received().subarray(0, CONNECTION_CONFIRM.length), CONNECTION_CONFIRM);
      // Bulk both ways through the relay.
      const payload = randomBytes(1 << 20);
      const before = c.received().length;
      c.sock.write(payload);
      const got = await c.waitFor(before + payload.length);
      assert.ok(got.subarray(before).equals(payload));
      const live = await dbOf(g.s).selectFrom('sessions').selectAll().where('protocol', '=', 'rdp').where('ended_at', 'is', null).execute();
      assert.equal(live.length, 1);
      assert.equal(live[0].approval_id, null);
      c.sock.end();
      await c.closed;
      await waitUntil(
        async () => !!(await dbOf(g.s).selectFrom('sessions').select('ended_at').where('id', '=', live[0].id).executeTakeFirst())?.ended_at,
        3000,
        'session end',
      );
      const row = await dbOf(g.s).selectFrom('sessions').selectAll().where('id', '=', live[0].id).executeTakeFirstOrThrow();
      assert.ok(
        Number(row.bytes_in) >= payload.length && Number(row.bytes_out) >= payload.length,
        `bytes ${row.bytes_in}/${row.bytes_out}`,
      );
      const connects = await auditRows(g.s, 'rdp.connect');
      assert.ok(connects.some((a) => a.details.sessionId === live[0].id && a.actor === 'alice'));
    });

    test('a ticket is single use, also when two connections race for it', async () => {
      const t = await ticketFor(g);
      const cr = clientConnectionRequest({ routingToken: t.ticket, requestedProtocols: 1 });
      const [a, b] = await Promise.all([rawClient(g.port), rawClient(g.port)]);
      a.sock.write(cr);
      b.sock.write(cr);
      const results = await Promise.allSettled([a.waitFor(CONNECTION_CONFIRM.length, 3000), b.waitFor(CONNECTION_CONFIRM.length, 3000)]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one wins');
      a.sock.destroy();
      b.sock.destroy();
      await refused(g, cr);
      await waitUntil(
        async () => (await auditRows(g.s, 'rdp.refused')).filter((r) => r.details.reason === 'ticket used').length >= 2,
        3000,
        'two audited refusals',
      );
    });

    test('bad input closes at once, audited, and a refusal looks the same whatever the cause', async () => {
      const unknown = clientConnectionRequest({ routingToken: 'gh1.' + randomBytes(32).toString('base64url'), requestedProtocols: 1 });
      const good = clientConnectionRequest({ routingToken: (await ticketFor(g)).ticket, requestedProtocols: 1 });
      const before = (await auditRows(g.s, 'rdp.refused')).length;
      const cases: [string, Buffer, boolean?][] = [
        ['no token', clientConnectionRequest({ requestedProtocols: 1 })],
        ['cookie only', clientConnectionRequest({ cookie: 'Administrator', requestedProtocols: 1 })],
        ['unknown ticket', unknown],
        ['not a ticket', clientConnectionRequest({ routingToken: 'Cookie: msts=3640205228.15629.0000', requestedProtocols: 1 })],
        ['wrong version', Buffer.concat([Buffer.from([2]), good.subarray(1)])],
        ['oversized TPKT', Buffer.from([3, 0, 0xff, 0xff, 0, 0xe0])],
        ['length shorter than a request', Buffer.from([3, 0, 0, 5, 0])],
        ['LI that lies', Buffer.concat([good.subarray(0, 4), Buffer.from([good[4] + 1]), good.subarray(5)])],
        ['TLS ClientHello', Buffer.from('16030100c8010000c40303', 'hex')],
        ['HTTP', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
        ['random bytes', randomBytes(64)],
        ['request in one-byte writes, unknown ticket', unknown, true],
      ];
      for (const [name, bytes, split] of cases) {
        const ms = await refused(g, bytes, split);
        assert.ok(ms < 2000, `${name}: closed after ${ms} ms`);
      }
      // Truncated: the TPKT says more than is sent, then the client gives up.
      const c = await rawClient(g.port);
      c.sock.write(good.subarray(0, good.length - 3));
      await new Promise((r) => setTimeout(r, 100));
      c.sock.end();
      await c.closed;
      await waitUntil(async () => (await auditRows(g.s, 'rdp.refused')).length >= before + cases.length + 1, 3000, 'audit records');
      const reasons = (await auditRows(g.s, 'rdp.refused')).slice(before).map((r) => String(r.details.reason));
      assert.ok(reasons.some((r) => /no ticket/.test(r)));
      assert.ok(reasons.some((r) => r === 'ticket unknown'));
      assert.ok(reasons.some((r) => r === 'ticket malformed'));
      assert.ok(reasons.some((r) => /not a TPKT/.test(r)));
      assert.ok(reasons.some((r) => /larger than any/.test(r)));
      assert.ok(reasons.some((r) => /length indicator/.test(r)));
      assert.ok(reasons.some((r) => /closed before a whole/.test(r)));
      // The gateway is still up.
      const t = await ticketFor(g);
      const ok = await rawClient(g.port);
      ok.sock.write(clientConnectionRequest({ routingToken: t.ticket, requestedProtocols: 1 }));
      await ok.waitFor(CONNECTION_CONFIRM.length);
      ok.sock.destroy();
    });

    test(
      '300 random and mutated packets against the live gateway: each closed, nothing relayed, the gateway still serves',
      { timeout: 60_000 },
      async () => {
        let seed = 42;
        const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
        const base = clientConnectionRequest({ routingToken: 'gh1.' + 'Q'.repeat(43), requestedProtocols: 3 });
        const n = dev.requests.length;
        const audited = async () =>
          (
            await dbOf(g.s)
              .selectFrom('audit_log')
              .select(({ fn }) => fn.countAll<number>().as('n'))
              .where('action', 'like', 'rdp.refused%')
              .executeTakeFirstOrThrow()
          ).n;
        const before = Number(await audited());
        for (let i = 0; i < 300; i++) {
          let pkt = Buffer.from(base);
          if (i % 3 === 0) pkt = Buffer.from(Array.from({ length: Math.floor(rnd() * 64) + 1 }, () => Math.floor(rnd() * 256)));
          else for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++) pkt[Math.floor(rnd() * pkt.length)] = Math.floor(rnd() * 256);
          const c = await rawClient(g.port);
          c.sock.end(pkt);
          await c.closed;
          assert.equal(c.received().length, 0, `packet ${i} got an answer`);
        }
        assert.equal(dev.requests.length, n, 'nothing reached the device');
        // Every one is audited (written one at a time, behind the connections).
        await waitUntil(async () => Number(await audited()) >= before + 300, 45_000, 'the flood audited');
        const t = await ticketFor(g);
        const ok = await rawClient(g.port);
        ok.sock.write(clientConnectionRequest({ routingToken: t.ticket, requestedProtocols: 1 }));
        await ok.waitFor(CONNECTION_CONFIRM.length);
        ok.sock.destroy();
      },
    );

    test('an expired ticket and a ticket whose device changed are refused like an unknown one', async () => {
      const t1 = await ticketFor(g);
      await dbOf(g.s)
        .updateTable('rdp_tickets' as never)
        .set({ expires_at: Date.now() - 1 } as never)
        .where(
          'id' as never,
          '=',
          (
            (await dbOf(g.s)
              .selectFrom('rdp_tickets' as never)
              .select('id' as never)
              .orderBy('id' as never, 'desc')
              .executeTakeFirstOrThrow()) as { id: number }
          ).id as never,
        )
        .execute();
      await refused(g, clientConnectionRequest({ routingToken: t1.ticket, requestedProtocols: 1 }));
      const t2 = await ticketFor(g, 'alice', 'rdp02');
      await g.s.admin.setDevice({ username: 'admin', id: null, channel: 'cli' }, 'rdp02', { protocols: 'ssh', port: 22 });
      await waitUntil(async () => (await g.s.approvals.decide('alice', 'rdp02', 'rdp')).outcome === 'denied', 3000, 'policy change');
      await refused(g, clientConnectionRequest({ routingToken: t2.ticket, requestedProtocols: 1 }));
      await waitUntil(
        async () => {
          const reasons = (await auditRows(g.s, 'rdp.refused')).map((r) => String(r.details.reason));
          return reasons.includes('ticket expired') && reasons.some((r) => /access re-check failed/.test(r));
        },
        3000,
        'audited refusals',
      );
    });

    // The deadline does not depend on the database: run its 10 s once.
    test(
      'a client that never sends its request is dropped at the 10 s deadline',
      { timeout: 20_000, skip: target.name !== 'sqlite' && 'runs on SQLite only' },
      async () => {
        const c = await rawClient(g.port);
        c.sock.write(Buffer.from([3, 0]));
        const ms = await c.closed;
        assert.ok(ms >= 9_500 && ms < 12_000, `closed after ${ms} ms`);
        await waitUntil(
          async () => (await auditRows(g.s, 'rdp.refused')).some((r) => /deadline/.test(String(r.details.reason))),
          3000,
          'audit',
        );
      },
    );
  });
}

describe('RDP gateway: approval before the desktop, revocation ends the relay', () => {
  let g: Gw;
  let dev: FakeRdp;
  before(async () => {
    g = await startGateway({ opsApproval: true });
    dev = await fakeRdpServer();
    await addRdpDevice(g.s, 'rdp01', dev.port);
  });
  after(async () => {
    await dev?.close();
    await g?.stop();
  });

  test('waiting until bob approves; the ticket is bound to that grant; revoking closes the relay within 1 s', async () => {
    const first = await issueTicket(g.s, { username: 'alice', device: 'rdp01', channel: 'cli', reason: 'patch tuesday' });
    assert.equal(first.outcome, 'waiting');
    const reqId = first.outcome === 'waiting' ? first.request.id : 0;
    assert.equal(first.outcome === 'waiting' && first.request.protocol, 'rdp');
    const again = await issueTicket(g.s, { username: 'alice', device: 'rdp01', channel: 'cli', reason: 'patch tuesday' });
    assert.equal(again.outcome === 'waiting' && again.request.id, reqId, 'a second attempt reuses the waiting request');
    assert.equal(
      (await issueTicket(g.s, { username: 'alice', device: 'rdp01', channel: 'web', mayRequest: false })).outcome,
      'approval-required',
    );
    await g.s.approvals.approve(reqId, 'bob', { channel: 'cli', comment: 'ok' });
    await waitUntil(async () => (await g.s.approvals.decide('alice', 'rdp01', 'rdp')).outcome === 'allowed', 3000, 'grant');
    const t = await issueTicket(g.s, { username: 'alice', device: 'rdp01', channel: 'cli' });
    assert.equal(t.outcome, 'allowed');
    assert.equal(t.outcome === 'allowed' && t.approvalId, reqId);
    const c = await rawClient(g.port);
    c.sock.write(clientConnectionRequest({ routingToken: t.outcome === 'allowed' ? t.ticket : '', requestedProtocols: 1 }));
    await c.waitFor(CONNECTION_CONFIRM.length);
    const row = await dbOf(g.s).selectFrom('sessions').selectAll().where('approval_id', '=', reqId).executeTakeFirstOrThrow();
    assert.equal(row.protocol, 'rdp');
    const t0 = Date.now();
    await g.s.approvals.revoke(reqId, 'bob', { channel: 'cli', comment: 'change window over' });
    await c.closed;
    const ms = Date.now() - t0;
    assert.ok(ms < 1000, `relay closed ${ms} ms after revocation`);
    await waitUntil(
      async () => !!(await dbOf(g.s).selectFrom('sessions').select('end_reason').where('id', '=', row.id).executeTakeFirst())?.end_reason,
      3000,
      'session end',
    );
    const ended = await dbOf(g.s).selectFrom('sessions').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
    assert.match(String(ended.end_reason), /revoked/);
    // No new ticket without a new approval.
    assert.equal(
      (await issueTicket(g.s, { username: 'alice', device: 'rdp01', channel: 'web', mayRequest: false })).outcome,
      'approval-required',
    );
  });

  test('a ticket issued before its grant was revoked is refused at connect', async () => {
    const r = await issueTicket(g.s, { username: 'alice', device: 'rdp01', channel: 'cli', reason: 'second try' });
    assert.equal(r.outcome, 'waiting');
    const id = r.outcome === 'waiting' ? r.request.id : 0;
    await g.s.approvals.approve(id, 'bob', { channel: 'cli' });
    await waitUntil(async () => (await g.s.approvals.decide('alice', 'rdp01', 'rdp')).outcome === 'allowed', 3000, 'grant');
    const t = await issueTicket(g.s, { username: 'alice', device: 'rdp01', channel: 'cli' });
    assert.equal(t.outcome, 'allowed');
    await g.s.approvals.revoke(id, 'bob', { channel: 'cli' });
    await refused(g, clientConnectionRequest({ routingToken: t.outcome === 'allowed' ? t.ticket : '', requestedProtocols: 1 }));
    await waitUntil(
      async () => (await auditRows(g.s, 'rdp.refused')).some((x) => /access re-check failed/.test(String(x.details.reason))),
      3000,
      'audited re-check refusal',
    );
  });

  test('the end of the grant window closes the relay within 1 s', { timeout: 20_000 }, async () => {
    const now = Date.now();
    const res = await g.s.approvals.request({
      username: 'alice',
      device: 'rdp01',
      protocol: 'rdp',
      channel: 'cli',
      reason: 'short window',
      start: now,
      end: now + 3000,
    });
    assert.equal(res.outcome, 'waiting');
    const id = res.outcome === 'waiting' ? res.request.id : 0;
    await g.s.approvals.approve(id, 'bob', { channel: 'cli' });
    await waitUntil(async () => (await g.s.approvals.decide('alice', 'rdp01', 'rdp')).outcome === 'allowed', 2000, 'grant');
    const t = await issueTicket(g.s, { username: 'alice', device: 'rdp01', channel: 'cli' });
    assert.equal(t.outcome === 'allowed' && t.approvalId, id);
    const c = await rawClient(g.port);
    c.sock.write(clientConnectionRequest({ routingToken: t.outcome === 'allowed' ? t.ticket : '', requestedProtocols: 1 }));
    await c.waitFor(CONNECTION_CONFIRM.length);
    await c.closed;
    const late = Date.now() - (now + 3000);
    assert.ok(late >= -50 && late < 1000, `closed ${late} ms after the grant ended`);
    await waitUntil(
      async () =>
        /window is over/.test(
          String(
            (await dbOf(g.s).selectFrom('sessions').select('end_reason').where('approval_id', '=', id).executeTakeFirst())?.end_reason,
          ),
        ),
      3000,
      'session end reason',
    );
  });

  test('no access at all: the same answer for a missing device and a forbidden one', async () => {
    const a = await issueTicket(g.s, { username: 'alice', device: 'nope', channel: 'cli' }).catch((e: Error) => e.message);
    const b = await issueTicket(g.s, { username: 'frank', device: 'rdp01', channel: 'cli' }).catch((e: Error) => e.message);
    assert.equal(String(a).replace('nope', 'X'), String(b).replace('rdp01', 'X'));
  });
});

describe('RDP gateway: shutdown', () => {
  test('stopping the server ends live relays and records why in their session rows', async () => {
    const g = await startGateway({ opsApproval: false });
    const dev = await fakeRdpServer();
    let stopped = false;
    try {
      await addRdpDevice(g.s, 'rdp01', dev.port);
      const t = await ticketFor(g);
      const c = await rawClient(g.port);
      c.sock.write(clientConnectionRequest({ routingToken: t.ticket, requestedProtocols: 1 }));
      await c.waitFor(CONNECTION_CONFIRM.length);
      await g.running.stop();
      stopped = true;
      await c.closed;
      const s = await openServices(
        loadConfig({ GATEHOUSE_DATA_DIR: g.dir, GATEHOUSE_SECRET_KEY: 'test-vault-key-0123456789abcdef' }),
        makeLogger('silent'),
      );
      const row = await dbOf(s).selectFrom('sessions').selectAll().where('protocol', '=', 'rdp').executeTakeFirstOrThrow();
      await s.close();
      assert.equal(row.end_reason, 'the gateway is shutting down');
    } finally {
      await dev.close();
      if (stopped) rmSync(g.dir, { recursive: true, force: true });
      else await g.stop();
    }
  });
});

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies in tests */
// Approvals through the API on SQLite and PostgreSQL: request, live events, approve/reject with a
// comment, cancel, revoke, escalate, history, pagination; the IDOR cases; sessions and audit export.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DB_TARGETS } from '../helpers/db.js';
import { Client, login, sse, startServer, tokenClient, type Server } from './helpers.js';

for (const target of DB_TARGETS) {
  describe(`approvals API on ${target.name}`, { skip: target.skip }, () => {
    let srv: Server;
    let alice: Client, bob: Client, dave: Client, carol: Client, admin: Client, aliceApi: Client;
    before(async () => {
      srv = await startServer(target.name);
      [alice, bob, dave, carol, admin] = await Promise.all(['alice', 'bob', 'dave', 'carol', 'admin'].map((u) => login(srv.base, u)));
      aliceApi = await tokenClient(srv.base, 'alice');
    });
    after(async () => srv?.stop());

    test('a request appears live for its approver, who approves with a comment; My Approvals shows approved and the Approver Manager', async () => {
      const bobLive = await sse(bob);
      const daveLive = await sse(dave);
      try {
        const created = await alice.post('/api/v1/approvals', { device: 'web01', protocol: 'ssh', reason: 'deploy 42' });
        assert.equal(created.status, 201);
        assert.equal(created.body.outcome, 'waiting');
        const id = created.body.request.id;
        assert.deepEqual(created.body.request.approverManager, ['bob']);
        const seen = await bobLive.wait((e) => e.event === 'approval' && e.data.request.id === id);
        assert.equal(seen.data.type, 'approval.created');
        assert.equal(seen.data.request.canDecide, true);
        const waiting = await bob.get('/api/v1/approvals?scope=to-decide');
        assert.deepEqual(
          waiting.body.items.map((r: any) => r.id),
          [id],
        );
        const ok = await bob.post(`/api/v1/approvals/${id}/approve`, { comment: 'go ahead' });
        assert.equal(ok.status, 200);
        assert.equal(ok.body.status, 'approved');
        assert.deepEqual(
          ok.body.decisions.map((d: any) => [d.by, d.decision, d.channel, d.comment]),
          [['bob', 'approve', 'web', 'go ahead']],
        );
        await bobLive.wait((e) => e.data.type === 'approval.approved' && e.data.request.id === id);
        const mine = await alice.get('/api/v1/approvals?scope=mine');
        const row = mine.body.items.find((r: any) => r.id === id);
        assert.deepEqual([row.status, row.decidedBy, row.comment, row.levels[0].approvers], ['approved', 'bob', 'go ahead', ['bob']]);
        const hist = await bob.get('/api/v1/approvals?scope=decided');
        assert.ok(hist.body.items.some((r: any) => r.id === id));
        await new Promise((r) => setTimeout(r, 200));
        assert.ok(!daveLive.events.some((e) => e.data.request?.id === id), "dave receives no event about alice's request");
        // A second approve is "already decided".
        const again = await bob.post(`/api/v1/approvals/${id}/approve`, {});
        assert.deepEqual([again.status, again.body.error.code], [409, 'already_decided']);
        // Revoke (approver) ends the grant.
        assert.equal((await carol.post(`/api/v1/approvals/${id}/revoke`, { comment: 'nope' })).status, 403);
        const rv = await bob.post(`/api/v1/approvals/${id}/revoke`, { comment: 'done' });
        assert.equal(rv.body.status, 'revoked');
      } finally {
        bobLive.stop();
        daveLive.stop();
      }
    });

    test('reject with a comment through a Bearer token (channel api); cancel by the requester only', async () => {
      const r = await aliceApi.post('/api/v1/approvals', { device: 'db01', protocol: 'ssh', reason: 'vacuum' });
      assert.equal(r.status, 201);
      const bobApi = await tokenClient(srv.base, 'bob');
      const rej = await bobApi.post(`/api/v1/approvals/${r.body.request.id}/reject`, { comment: 'not today' });
      assert.deepEqual([rej.body.status, rej.body.comment, rej.body.decisions[0].channel], ['rejected', 'not today', 'api']);
      const c = await alice.post('/api/v1/approvals', { device: 'db01', protocol: 'ssh', reason: 'vacuum again' });
      const id = c.body.request.id;
      assert.equal((await dave.post(`/api/v1/approvals/${id}/cancel`)).status, 403);
      assert.equal((await bob.post(`/api/v1/approvals/${id}/cancel`)).status, 403);
      const done = await alice.post(`/api/v1/approvals/${id}/cancel`);
      assert.equal(done.body.status, 'cancelled');
    });

    test("IDOR: approving, reading or listing someone else's request is refused", async () => {
      const r = await alice.post('/api/v1/approvals', { device: 'web01', protocol: 'sftp', reason: 'upload' });
      const id = r.body.request.id;
      // dave (a peer in ops, not an approver) and carol (an approver elsewhere)
      for (const c of [dave, carol]) {
        assert.equal((await c.get(`/api/v1/approvals/${id}`)).status, 403);
        const ap = await c.post(`/api/v1/approvals/${id}/approve`, { comment: 'sneaky' });
        assert.equal(ap.status, 403);
        assert.equal((await c.post(`/api/v1/approvals/${id}/reject`, {})).status, 403);
        assert.equal((await c.post(`/api/v1/approvals/${id}/escalate`)).status, 403);
        for (const scope of ['mine', 'to-decide', 'decided']) {
          const l = await c.get(`/api/v1/approvals?scope=${scope}`);
          assert.ok(!l.body.items.some((x: any) => x.id === id), `${scope} of another user does not show #${id}`);
        }
      }
      assert.equal((await alice.post(`/api/v1/approvals/${id}/approve`, {})).body.error.code, 'self_approval');
      assert.equal((await alice.get(`/api/v1/approvals/${id}`)).status, 200);
      assert.equal((await bob.get(`/api/v1/approvals/${id}`)).status, 200);
      assert.equal((await admin.get(`/api/v1/approvals/${id}`)).status, 200);
      assert.equal((await alice.get('/api/v1/approvals/999999')).status, 404);
      const still = await bob.get(`/api/v1/approvals/${id}`);
      assert.equal(still.body.status, 'waiting', 'nothing changed it');
      // Escalation by the approver: the admins join (last level).
      const esc = await bob.post(`/api/v1/approvals/${id}/escalate`);
      assert.equal(esc.status, 200);
      assert.ok(esc.body.levels[0].escalated);
      assert.ok(esc.body.approverManager.some((n: string) => n.endsWith('(admin)')));
      const adminQueue = await admin.get('/api/v1/approvals?scope=to-decide');
      assert.ok(
        adminQueue.body.items.some((x: any) => x.id === id && x.canDecide),
        'admins find every waiting request in their queue',
      );
    });

    test("delegation: a delegate sees and decides the delegator's requests", async () => {
      const s = srv.running.services;
      const p = await s.policy.current();
      const now = s.clock.now();
      await s.store.insertDelegation(
        {
          fromUserId: p.usersByName.get('bob')!.id,
          toUserId: p.usersByName.get('frank')!.id,
          startsAt: now - 1000,
          endsAt: now + 3600_000,
          reason: 'holiday',
        },
        { actor: 'bob', channel: 'cli', action: 'delegation.create' },
        now,
      );
      const frank = await login(srv.base, 'frank');
      const r = await dave.post('/api/v1/approvals', { device: 'db01', protocol: 'ssh', reason: 'check logs' });
      const id = r.body.request.id;
      const list = await frank.get('/api/v1/approvals?scope=to-decide');
      const row = list.body.items.find((x: any) => x.id === id);
      assert.ok(row?.canDecide, 'listed, and decidable');
      const ok = await frank.post(`/api/v1/approvals/${id}/approve`, { comment: 'for bob' });
      assert.deepEqual([ok.body.status, ok.body.decisions[0].onBehalfOf], ['approved', 'bob']);
      assert.equal((await frank.get('/api/v1/session')).body.roles.approver, true);
    });

    test('request ahead (reservation) and validation of its window and reason', async () => {
      const start = new Date(Date.now() + 3600_000).toISOString();
      const end = new Date(Date.now() + 7200_000).toISOString();
      const r = await alice.post('/api/v1/approvals', { device: 'web01', protocol: 'ssh', start, end, reason: 'night work' });
      assert.equal(r.status, 201);
      assert.deepEqual([r.body.request.kind, r.body.request.grantStart], ['reservation', start]);
      const bad = await alice.post('/api/v1/approvals', { device: 'web01', protocol: 'ssh', start: end, end: start });
      assert.deepEqual([bad.status, bad.body.error.field], [400, 'end']);
      const badDate = await alice.post('/api/v1/approvals', { device: 'web01', protocol: 'ssh', start: 'tomorrow', end });
      assert.deepEqual([badDate.status, badDate.body.error.field], [400, 'start']);
      await admin.patch('/api/v1/user-groups/ops', { requireReason: true });
      const noReason = await alice.post('/api/v1/approvals', { device: 'db01', protocol: 'ssh' });
      assert.deepEqual([noReason.status, noReason.body.error.code, noReason.body.error.field], [400, 'reason_required', 'reason']);
      await admin.patch('/api/v1/user-groups/ops', { requireReason: false });
      const denied = await carol.post('/api/v1/approvals', { device: 'web01', protocol: 'ssh', reason: 'x' });
      assert.equal(denied.status, 403);
    });

    test('pagination: pages by beforeId, newest first, without overlap', async () => {
      const all: number[] = [];
      let before: number | null = null;
      do {
        const page: any = await admin.get(`/api/v1/approvals?scope=all&limit=2${before ? `&beforeId=${before}` : ''}`);
        all.push(...page.body.items.map((r: any) => r.id));
        before = page.body.nextBeforeId;
      } while (before);
      assert.ok(all.length >= 5);
      assert.deepEqual(
        all,
        [...all].sort((a, b) => b - a),
      );
      assert.equal(new Set(all).size, all.length);
    });

    test('connect lists reachable devices with the exact ssh command; users see only those devices', async () => {
      const c = await alice.get('/api/v1/connect');
      const web = c.body.items.find((t: any) => t.device === 'web01');
      const sshPort = srv.running.services.config.sshPort;
      assert.equal(web.ways.find((w: any) => w.protocol === 'ssh').command, `ssh -p ${sshPort} alice@web01@127.0.0.1`);
      assert.deepEqual((await carol.get('/api/v1/connect')).body.items, []);
      assert.deepEqual((await carol.get('/api/v1/devices')).body.items, []);
      assert.equal((await carol.get('/api/v1/devices/web01')).status, 404, 'same answer as a missing device');
    });

    test('sessions: listed from the sessions table; an admin kills a live one', async () => {
      const s = srv.running.services;
      const p = await s.policy.current();
      let closedWith: string | null = null;
      const id = await s.sessions.open(
        {
          userId: p.usersByName.get('alice')!.id,
          deviceId: p.devicesByName.get('web01')!.id,
          accountId: p.accountsOfDevice.get(p.devicesByName.get('web01')!.id)![0].id,
          protocol: 'ssh',
          approvalId: null,
          clientAddr: '127.0.0.1',
          nodeId: s.nodeId,
        },
        { close: (r) => void (closedWith = r), bytes: () => ({ in: 10, out: 20 }) },
        null,
      );
      const live = await admin.get('/api/v1/sessions?state=live');
      assert.ok(live.body.items.some((x: any) => x.id === id && x.user === 'alice' && x.live));
      assert.ok(
        (await alice.get('/api/v1/sessions')).body.items.some((x: any) => x.id === id),
        'alice sees her own',
      );
      assert.ok(!(await dave.get('/api/v1/sessions')).body.items.some((x: any) => x.id === id), 'dave does not');
      assert.equal((await alice.post(`/api/v1/sessions/${id}/kill`, {})).status, 403);
      assert.equal((await admin.post(`/api/v1/sessions/${id}/kill`, { reason: 'maintenance' })).status, 200);
      for (let i = 0; i < 40 && !closedWith; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(closedWith, 'maintenance');
      for (let i = 0; i < 40; i++) {
        const past = await admin.get('/api/v1/sessions?state=past');
        if (past.body.items.some((x: any) => x.id === id)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.fail('the killed session is not listed as past');
    });

    test('audit: filter, and export as CSV and JSON', async () => {
      const f = await admin.get('/api/v1/audit?action=approval.approve&actor=bob');
      assert.ok(f.body.items.length >= 1);
      assert.ok(f.body.items.every((r: any) => r.action.startsWith('approval.approve') && r.actor === 'bob'));
      const json = await admin.get('/api/v1/audit/export?format=json&action=approval.');
      assert.match(json.headers.get('content-disposition')!, /attachment; filename="gatehouse-audit-.*\.json"/);
      assert.ok(Array.isArray(json.body) && json.body.every((r: any) => r.action.startsWith('approval.')));
      const csv = await admin.get('/api/v1/audit/export?format=csv&action=approval.');
      assert.match(csv.headers.get('content-type')!, /text\/csv/);
      const lines = csv.text.trim().split('\r\n');
      assert.equal(lines[0], 'id,at,actor,channel,action,targetType,targetId,details');
      assert.equal(lines.length, json.body.length + 1);
      const from = new Date(Date.now() + 60_000).toISOString();
      assert.deepEqual((await admin.get(`/api/v1/audit?from=${encodeURIComponent(from)}`)).body.items, []);
    });
  });
}

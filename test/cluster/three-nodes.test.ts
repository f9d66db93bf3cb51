// Three real `gatehouse serve` processes on one real PostgreSQL, a real sshd behind them and a real SMTP
// sink: a decision on any node releases a connection waiting on another within 1 s, a revocation on a
// third ends it within 1 s, racing deciders on three nodes end each request in exactly one state with
// one mail per recipient, and a node killed with SIGKILL loses no mail and has its sessions marked lost.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PG_SKIP } from '../helpers/db.js';
import { testServices, type TestEnv } from '../helpers/services.js';
import { SSHD_SKIP, launch, makeKey, startSshd, type KeyPair, type Sshd } from '../ssh/peers.js';
import { startSink, waitFor, type Sink } from '../mail/helpers.js';
import { login, startNode, type Node } from './nodes.js';

const ADMIN = { username: 'admin', id: null, channel: 'cli' as const };

describe('three nodes on one PostgreSQL', { skip: PG_SKIP || SSHD_SKIP }, () => {
  let t: TestEnv;
  let sshd: Sshd;
  let sink: Sink;
  let alice: KeyPair;
  let keyDir: string;
  const nodes: Record<string, Node> = {};
  let env: Record<string, string>;

  before(async () => {
    sshd = await startSshd();
    sink = await startSink();
    keyDir = mkdtempSync(join(tmpdir(), 'gh-cluster-keys-'));
    alice = makeKey(keyDir, 'alice');
    t = await testServices('postgres');
    const s = t.s;
    await s.admin.addUser(ADMIN, { username: 'admin', password: 'Adm1n-pass-word', admin: true });
    await s.admin.addUser(ADMIN, { username: 'bob', email: 'bob@example.com', password: 'bob-S3cret-pass' });
    await s.admin.addUser(ADMIN, { username: 'carol', email: 'carol@example.com', password: 'carol-S3cret-pass' });
    await s.admin.addUser(ADMIN, { username: 'alice', email: 'alice@example.com', password: 'alice-S3cret-pass', manager: 'bob', sshKeys: [alice.public] });
    await s.admin.addGroup(ADMIN, 'user', 'ops', { managers: ['bob', 'carol'], requireApproval: true });
    await s.admin.addMember(ADMIN, 'ops', 'alice');
    await s.admin.addGroup(ADMIN, 'device', 'linux', {});
    await s.admin.addDevice(ADMIN, { name: 'web01', host: '127.0.0.1', protocols: 'ssh,sftp', group: 'linux', port: sshd.port });
    await s.admin.addAccount(ADMIN, 'web01', sshd.account, { privateKey: sshd.accountKey.private });
    await s.admin.grantAccess(ADMIN, 'ops', 'linux', 'ssh,sftp');
    env = { DATABASE_URL: t.env.DATABASE_URL, GATEHOUSE_SECRET_KEY: t.env.GATEHOUSE_SECRET_KEY, GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${sink.port}`, GATEHOUSE_MAIL_FROM: 'gatehouse@example.com' };
    for (const n of ['a', 'b', 'c']) nodes[n] = await startNode(n, env);
  });

  after(async () => {
    for (const n of Object.values(nodes)) {
      n.proc.kill('SIGTERM');
      await new Promise((r) => (n.proc.exitCode !== null || n.proc.signalCode ? r(null) : n.proc.once('exit', r)));
      rmSync(n.dir, { recursive: true, force: true });
    }
    await sink?.close();
    await sshd?.stop();
    rmSync(keyDir, { recursive: true, force: true });
    await t?.cleanup();
  });

  const ssh = (node: Node, cmd: string) =>
    launch('ssh', ['-p', String(node.ssh), '-i', alice.path, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', 'alice@web01@127.0.0.1', cmd], { timeoutMs: 120_000 });

  test('waiting on node A, approved through node B, revoked on node C', async () => {
    const wait = ssh(nodes.a, 'echo cluster-ok; sleep 60');
    const shown = await wait.waitFor(/#(\d+)/, 30_000);
    const id = Number(/#(\d+)/.exec(shown)![1]);
    const bob = await login(nodes.b, 'bob', 'bob-S3cret-pass');
    const t0 = Date.now();
    const res = await bob(`/approvals/${id}/approve`, { comment: 'from node B' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await wait.waitFor(/cluster-ok/, 10_000);
    const output = Date.now() - t0;
    // "Started" = node A registered the proxied session (upstream connected); the output adds the
    // upstream handshake and the command itself.
    const sess = await t.s.store.db.selectFrom('sessions').select(['started_at', 'node_id']).where('approval_id', '=', id).executeTakeFirstOrThrow();
    const req = (await t.s.store.getRequest(id))!;
    const started = sess.started_at - req.decidedAt!;
    console.log(`# node B approval -> session on node A started after ${started} ms, first output after ${output} ms`);
    assert.equal(sess.node_id, 'node-a');
    // The session start adds the upstream SSH handshake; on a quiet machine it is well under 1 s
    // (bench/cluster.ts reports p50/p99). Here, on a shared machine, only a generous bound is asserted.
    assert.ok(started < 3000, `started ${started} ms after the approval on another node`);

    const carol = await login(nodes.c, 'carol', 'carol-S3cret-pass');
    const t1 = Date.now();
    const rv = await carol(`/approvals/${id}/revoke`, { comment: 'revoked on node C' });
    assert.equal(rv.status, 200, JSON.stringify(rv.body));
    const done = await wait.done;
    const ended = Date.now() - t1;
    console.log(`# node C revocation -> session on node A ended after ${ended} ms`);
    assert.ok(ended < 2000, `ended ${ended} ms after the revocation on another node`);
    assert.notEqual(done.code, 0);
    assert.match(done.stderr + done.stdout, /revoked/i);
    const row = await t.s.store.db.selectFrom('sessions').selectAll().where('approval_id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.node_id, 'node-a');
    assert.ok(row.ended_at);
  });

  test('100 requests decided and expiring at once on three nodes: one terminal state each, one mail per recipient', async () => {
    const s = t.s;
    const before = sink.messages.length;
    const ids: number[] = [];
    await s.admin.setParam(ADMIN, 'approval.status.change.to.expire', '1');
    for (let i = 0; i < 100; i++) {
      const r = await s.approvals.request({ username: 'alice', device: 'web01', protocol: i % 2 ? 'ssh' : 'sftp', channel: 'api', reason: `race ${i}`, start: Date.now() + i * 1000, end: Date.now() + 3_600_000 + i * 1000 });
      if (r.outcome === 'allowed') throw new Error('expected a request');
      ids.push(r.request.id);
    }
    const bob = await login(nodes.b, 'bob', 'bob-S3cret-pass');
    const carol = await login(nodes.c, 'carol', 'carol-S3cret-pass');
    const bobA = await login(nodes.a, 'bob', 'bob-S3cret-pass');
    // Every deadline a moment from now: the sweepers on all three nodes race the deciders.
    const deadline = Date.now() + 1500;
    await s.store.db.updateTable('approval_requests').set({ expires_at: deadline }).where('id', 'in', ids).execute();
    while (Date.now() < deadline - 1200) await new Promise((r) => setTimeout(r, 20));
    // Deciders spread over the 2.4 s around the deadline, on three nodes; the sweepers fire at it.
    const statuses: Record<number, number> = {};
    const at = (ms: number, f: () => Promise<{ status: number }>) =>
      new Promise((r) => setTimeout(r, ms)).then(f).then((x) => (statuses[x.status] = (statuses[x.status] ?? 0) + 1));
    await Promise.all(
      ids.flatMap((id, i) => [
        at((i * 24) % 2400, () => bob(`/approvals/${id}/approve`, { comment: 'b' })),
        at((i * 24) % 2400, () => carol(`/approvals/${id}/reject`, { comment: 'c' })),
        at((i * 37) % 2400, () => bobA(`/approvals/${id}/approve`, { comment: 'a' })),
      ]),
    );
    console.log(`# API answers: ${JSON.stringify(statuses)}`);
    await new Promise((r) => setTimeout(r, 2500));
    const rows = await s.store.db.selectFrom('approval_requests').select(['id', 'status']).where('id', 'in', ids).execute();
    const tally: Record<string, number> = {};
    for (const r of rows) {
      assert.ok(['approved', 'rejected', 'expired'].includes(r.status), `#${r.id} ended ${r.status}`);
      tally[r.status] = (tally[r.status] ?? 0) + 1;
    }
    console.log(`# racing deciders on three nodes: ${JSON.stringify(tally)}`);
    for (const id of ids) {
      const audit = await s.adminStore.listAudit({ limit: 50, targetType: 'approval', targetId: String(id) });
      const terminal = audit.filter((a) => ['approval.approve', 'approval.reject', 'approval.expire'].includes(a.action));
      assert.equal(terminal.length, 1, `#${id}: exactly one terminal transition (${terminal.map((a) => a.action)})`);
    }
    // Mail: the requester gets exactly one outcome mail per request; each approver at most one request
    // mail (none when the request was already decided before its mail was built), never two.
    const about = (who: string, id: number) => sink.messages.slice(before).filter((m) => m.rcpt.includes(who) && new RegExp(`#${id}$`).test(m.parsed.subject ?? '')).length;
    await waitFor('every outcome mail delivered', () => ids.every((id) => about('alice@example.com', id) >= 1), 60_000, 100).catch((err) => {
      throw new Error(`${err.message}: missing ${ids.filter((id) => about('alice@example.com', id) === 0).join(', ')}`);
    });
    await new Promise((r) => setTimeout(r, 2000));
    let approverMails = 0;
    for (const id of ids) {
      assert.equal(about('alice@example.com', id), 1, `alice got ${about('alice@example.com', id)} outcome mails about #${id}`);
      for (const who of ['bob@example.com', 'carol@example.com']) {
        const n = about(who, id);
        assert.ok(n <= 1, `${who} got ${n} mails about #${id}`);
        approverMails += n;
      }
    }
    console.log(`# mail: ${ids.length} outcome mails, ${approverMails} approver mails, no duplicates`);
    await s.admin.setParam(ADMIN, 'approval.status.change.to.expire', '30');
  });

  test('kill -9 a node with mail queued and a live session: every mail is delivered once, its sessions are marked lost', async () => {
    const s = t.s;
    // A live session on node B.
    const live = ssh(nodes.b, 'echo on-b; sleep 120');
    const shown = await live.waitFor(/#(\d+)|on-b/, 30_000);
    const m = /#(\d+)/.exec(shown);
    if (m) {
      await s.approvals.approve(Number(m[1]), 'bob', { channel: 'cli' });
      await live.waitFor(/on-b/, 10_000);
    }
    await waitFor('the session row on node B', async () => (await s.store.db.selectFrom('sessions').select('id').where('node_id', '=', 'node-b').where('ended_at', 'is', null).execute()).length > 0, 10_000);
    // Mail piles up while the SMTP server is down; every node's outbox worker keeps trying.
    await sink.down();
    const before = sink.messages.length;
    const ids: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await s.approvals.request({ username: 'alice', device: 'web01', protocol: 'sftp', channel: 'api', reason: `queued ${i}`, start: Date.now() + 5000 + i, end: Date.now() + 3_600_000 + i });
      if (r.outcome !== 'allowed') ids.push(r.request.id);
    }
    await new Promise((r) => setTimeout(r, 1500));
    nodes.b.proc.kill('SIGKILL');
    await new Promise((r) => nodes.b.proc.once('exit', r));
    await sink.up();
    // Mail: two approvers per request, exactly once each, delivered by the surviving nodes.
    await waitFor('queued mail delivered', () => sink.messages.length - before >= ids.length * 2, 60_000, 100);
    await new Promise((r) => setTimeout(r, 2000));
    for (const id of ids)
      for (const who of ['bob@example.com', 'carol@example.com']) {
        const n = sink.messages.slice(before).filter((x) => x.rcpt.includes(who) && new RegExp(`#${id}$`).test(x.parsed.subject ?? '')).length;
        assert.equal(n, 1, `${who} got ${n} mails about #${id}`);
      }
    // Node B's session is marked lost once B is silent for 30 s.
    const t0 = Date.now();
    await waitFor(
      'node B marked down and its session lost',
      async () => {
        const r = await s.store.db.selectFrom('sessions').select(['end_reason']).where('node_id', '=', 'node-b').where('ended_at', 'is not', null).execute();
        return r.some((x) => /node lost/.test(x.end_reason ?? ''));
      },
      45_000,
      250,
    );
    console.log(`# node B killed: its session marked lost after ${Math.round((Date.now() - t0) / 1000)} s`);
    const nodesRows = await s.store.db.selectFrom('nodes').select(['id', 'status']).orderBy('id').execute();
    assert.deepEqual(nodesRows.map((n) => [n.id, n.status]), [['node-a', 'up'], ['node-b', 'down'], ['node-c', 'up']]);
    live.killAll();
  });
});

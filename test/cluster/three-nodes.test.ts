// Three real `gatehouse serve` processes on one real PostgreSQL, a real sshd behind them and a real SMTP
// sink: a decision on any node releases a connection waiting on another within 1 s, a revocation on a
// third ends it within 1 s, racing deciders on three nodes (every core busy) end each request in exactly
// one state with one mail per recipient and kind, and never get a 500, and a node killed with SIGKILL loses no mail and has its sessions marked lost.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PG_SKIP } from '../helpers/db.js';
import { testServices, type TestEnv } from '../helpers/services.js';
import { SSHD_SKIP, launch, makeKey, sshArgs, startSshd, type KeyPair, type Sshd } from '../ssh/peers.js';
import { startSink, waitFor, type Sink } from '../mail/helpers.js';
import { login, startNode, type Node } from './nodes.js';
import { startHogs } from '../../bench/lib/cluster.js';
import { race, type RaceResult } from '../../bench/lib/race.js';
import { dbOf } from '../helpers/kysely.js';

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
    await s.admin.addUser(ADMIN, {
      username: 'alice',
      email: 'alice@example.com',
      password: 'alice-S3cret-pass',
      manager: 'bob',
      sshKeys: [alice.public],
    });
    await s.admin.addGroup(ADMIN, 'user', 'ops', { managers: ['bob', 'carol'], requireApproval: true });
    await s.admin.addMember(ADMIN, 'ops', 'alice');
    await s.admin.addGroup(ADMIN, 'device', 'linux', {});
    await s.admin.addDevice(ADMIN, { name: 'web01', host: '127.0.0.1', protocols: 'ssh,sftp', group: 'linux', port: sshd.port });
    await s.admin.addAccount(ADMIN, 'web01', sshd.account, { privateKey: sshd.accountKey.private });
    await s.admin.grantAccess(ADMIN, 'ops', 'linux', 'ssh,sftp');
    env = {
      DATABASE_URL: t.env.DATABASE_URL,
      GATEHOUSE_SECRET_KEY: t.env.GATEHOUSE_SECRET_KEY,
      GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
      GATEHOUSE_MAIL_FROM: 'gatehouse@example.com',
    };
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
    launch('ssh', [...sshArgs(node.ssh, alice.path, 'alice@web01@127.0.0.1'), cmd], { timeoutMs: 120_000 });

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
    const sess = await dbOf(t.s)
      .selectFrom('sessions')
      .select(['started_at', 'node_id'])
      .where('approval_id', '=', id)
      .executeTakeFirstOrThrow();
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
    const row = await dbOf(t.s).selectFrom('sessions').selectAll().where('approval_id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.node_id, 'node-a');
    assert.ok(row.ended_at);
  });

  test('100 requests decided and expiring at once on three nodes, with every core busy: no 500, each lost race 409, one mail per request × recipient × kind', async () => {
    // CPU hogs on every core (GATEHOUSE_TEST_HOGS: more), for the race only: correctness may not depend on timing.
    const hogs = startHogs(Number(process.env.GATEHOUSE_TEST_HOGS) || undefined);
    let r: RaceResult;
    try {
      r = await race({
        s: t.s,
        nodes: { a: nodes.a, b: nodes.b, c: nodes.c },
        device: 'web01',
        mails: () => sink.messages.map((m) => ({ rcpt: m.rcpt, subject: m.parsed.subject ?? '' })),
        approvers: [
          { username: 'bob', password: 'bob-S3cret-pass', email: 'bob@example.com' },
          { username: 'carol', password: 'carol-S3cret-pass', email: 'carol@example.com' },
        ],
        requester: { username: 'alice', email: 'alice@example.com' },
      });
    } finally {
      await hogs.stop();
      await t.s.admin.setParam(ADMIN, 'approval.status.change.to.expire', '30');
    }
    console.log(
      `# ${hogs.count} CPU hogs; API answers: ${JSON.stringify(r.statuses)}, 409 codes: ${JSON.stringify(r.conflicts)}; slowest ${r.maxDecideMs} ms, median ${r.p50DecideMs} ms`,
    );
    console.log(`# final states: ${JSON.stringify(r.tally)}`);
    assert.deepEqual(r.failures, [], 'the nodes logged failed requests');
    // Every racing decision either won (200) or lost with 409; never a 500.
    assert.deepEqual(
      Object.keys(r.statuses).filter((k) => k !== '200' && k !== '409'),
      [],
      `answers ${JSON.stringify(r.statuses)}`,
    );
    assert.deepEqual(
      Object.keys(r.conflicts).filter((k) => !['already_decided', 'expired', 'conflict'].includes(k)),
      [],
      `409 codes ${JSON.stringify(r.conflicts)}`,
    );
    assert.deepEqual(r.notExactlyOnce, [], 'each request ends in exactly one terminal transition');
    assert.deepEqual(r.outboxDuplicates, [], 'one outbox row per request × recipient × kind');
    assert.deepEqual(r.deliveredDuplicates, [], 'one delivered mail per request × recipient');
    assert.deepEqual(r.missingOutcome, [], 'every requester got the outcome mail');
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
    await waitFor(
      'the session row on node B',
      async () =>
        (await dbOf(s).selectFrom('sessions').select('id').where('node_id', '=', 'node-b').where('ended_at', 'is', null).execute()).length >
        0,
      10_000,
    );
    // Mail piles up while the SMTP server is down; every node's outbox worker keeps trying.
    await sink.down();
    const before = sink.messages.length;
    const ids: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await s.approvals.request({
        username: 'alice',
        device: 'web01',
        protocol: 'sftp',
        channel: 'api',
        reason: `queued ${i}`,
        start: Date.now() + 5000 + i,
        end: Date.now() + 3_600_000 + i,
      });
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
        const n = sink.messages
          .slice(before)
          .filter((x) => x.rcpt.includes(who) && new RegExp(`#${id}$`).test(x.parsed.subject ?? '')).length;
        assert.equal(n, 1, `${who} got ${n} mails about #${id}`);
      }
    // Node B's session is marked lost once B is silent for 30 s.
    const t0 = Date.now();
    await waitFor(
      'node B marked down and its session lost',
      async () => {
        const r = await dbOf(s)
          .selectFrom('sessions')
          .select(['end_reason'])
          .where('node_id', '=', 'node-b')
          .where('ended_at', 'is not', null)
          .execute();
        return r.some((x) => /node lost/.test(x.end_reason ?? ''));
      },
      45_000,
      250,
    );
    console.log(`# node B killed: its session marked lost after ${Math.round((Date.now() - t0) / 1000)} s`);
    const nodesRows = await dbOf(s).selectFrom('nodes').select(['id', 'status']).orderBy('id').execute();
    assert.deepEqual(
      nodesRows.map((n) => [n.id, n.status]),
      [
        ['node-a', 'up'],
        ['node-b', 'down'],
        ['node-c', 'up'],
      ],
    );
    live.killAll();
  });
});

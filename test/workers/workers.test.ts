// `gatehouse serve` with GATEHOUSE_WORKERS=2 on SQLite and on PostgreSQL, a real sshd behind it: SSH
// connections are spread over both workers; a decision through the API on one worker releases a wait held
// by the other; a login's second-factor code is accepted on the worker that did not issue the ticket;
// a worker killed with SIGKILL is restarted (its sessions marked lost) while the other keeps serving; and
// operators see one node, /metrics included. Which worker holds a connection is read from /proc.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'otplib';
import { PG_SKIP } from '../helpers/db.js';
import { ADMIN, testServices, type TestEnv } from '../helpers/services.js';
import { ghJson } from '../helpers/cli.js';
import { SSHD_SKIP, launch, makeKey, sshArgs, startSshd, type KeyPair, type Running, type Sshd } from '../ssh/peers.js';
import { dbOf } from '../helpers/kysely.js';
import { directoryOf } from '../../src/directory/index.js';
import {
  connectionOn,
  connectionsPerWorker,
  localPortsTo,
  request,
  startGateway,
  workerOf,
  type Gateway,
} from '../../bench/lib/workers.js';

const PW = 'S3cret-pass-word';
const WAITS = 8;

const dialects = [
  { name: 'sqlite' as const, skip: SSHD_SKIP },
  { name: 'postgres' as const, skip: PG_SKIP || SSHD_SKIP },
];

async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const d of dialects)
  describe(`two workers on ${d.name}`, { skip: d.skip }, () => {
    let t: TestEnv;
    let sshd: Sshd;
    let alice: KeyPair;
    let keyDir: string;
    let gw: Gateway;
    let totpSecret: string;
    const waits: Running[] = [];

    before(async () => {
      sshd = await startSshd();
      keyDir = mkdtempSync(join(tmpdir(), 'gh-workers-keys-'));
      alice = makeKey(keyDir, 'alice');
      t = await testServices(d.name, { real: true });
      const s = t.s;
      await s.admin.addUser(ADMIN, { username: 'admin', password: PW, admin: true });
      await s.admin.addUser(ADMIN, { username: 'bob', email: 'bob@example.com', password: PW });
      await s.admin.addUser(ADMIN, { username: 'gina', email: 'gina@example.com', password: PW });
      await s.admin.addUser(ADMIN, { username: 'alice', password: PW, manager: 'bob', sshKeys: [alice.public] });
      await s.admin.addGroup(ADMIN, 'user', 'ops', { managers: ['bob'], requireApproval: true });
      await s.admin.addMember(ADMIN, 'ops', 'alice');
      await s.admin.addGroup(ADMIN, 'device', 'linux', {});
      await s.admin.addDevice(ADMIN, { name: 'web01', host: '127.0.0.1', protocols: 'ssh', group: 'linux', port: sshd.port });
      await s.admin.addAccount(ADMIN, 'web01', sshd.account, { privateKey: sshd.accountKey.private });
      await s.admin.grantAccess(ADMIN, 'ops', 'linux', 'ssh');
      const gina = (await s.policy.current()).usersByName.get('gina')!;
      const totp = directoryOf(s).totp;
      totpSecret = (await totp.begin(gina)).secret;
      await totp.confirm(gina, await generate({ secret: totpSecret, epoch: Math.floor(Date.now() / 1000) - 30 }));
      gw = await startGateway({ ...t.env, GATEHOUSE_WORKERS: '2', GATEHOUSE_NODE_ID: `workers-${d.name}` });
    });

    after(async () => {
      for (const w of waits) w.killAll();
      await gw?.stop();
      await sshd?.stop();
      if (keyDir) rmSync(keyDir, { recursive: true, force: true });
      await t?.cleanup();
    });

    const login = async (agentPid: number, username: string) => {
      const agent = await connectionOn(gw.workers(), gw.web, agentPid);
      const r = await request(agent, gw.web, 'POST', '/api/v1/session', { username, password: PW });
      return { agent, r };
    };

    test('SSH connections are spread over both workers, and an API decision on one releases a wait held by the other', async () => {
      const pids = gw.workers();
      assert.equal(pids.length, 2, `workers: ${pids}`);
      for (let i = 0; i < WAITS; i++)
        waits.push(
          launch('ssh', [...sshArgs(gw.ssh, alice.path, 'alice@web01@127.0.0.1'), `echo released-${i}; sleep 60`], { timeoutMs: 180_000 }),
        );
      const ids = await Promise.all(waits.map(async (w) => Number(/#(\d+)/.exec(await w.waitFor(/#(\d+)/, 60_000))![1])));
      const spread = connectionsPerWorker(pids, gw.ssh);
      console.log(`# ${WAITS} waiting SSH connections per worker: ${JSON.stringify([...spread])}`);
      for (const pid of pids)
        assert.ok((spread.get(pid) ?? 0) >= 2, `worker ${pid} holds ${spread.get(pid)} of ${WAITS}: ${JSON.stringify([...spread])}`);

      // /metrics answers for the node, whichever worker takes the scrape: the waits of both are summed, what
      // comes from the database is counted once, and 20 parallel scrapes all get the whole node.
      const waitingNow = Number(
        (
          await dbOf(t.s)
            .selectFrom('approval_requests')
            .select((e) => e.fn.countAll().as('n'))
            .where('status', '=', 'waiting')
            .executeTakeFirstOrThrow()
        ).n,
      );
      for (const pid of pids) {
        const agent = await connectionOn(pids, gw.web, pid);
        const scrapes = await Promise.all(Array.from({ length: 20 }, () => request(agent, gw.web, 'GET', '/metrics')));
        agent.destroy();
        for (const m of scrapes) {
          assert.equal(m.status, 200, String(m.body.text));
          const text = String(m.body.text);
          assert.match(
            text,
            new RegExp(`^gatehouse_waiting_connections\\{protocol="ssh"\\} ${WAITS}$`, 'm'),
            `scraped on ${pid}: ${text.split('\n').filter((l) => l.startsWith('gatehouse_waiting'))}`,
          );
          assert.match(text, new RegExp(`^gatehouse_approvals\\{status="waiting"\\} ${waitingNow}$`, 'm'));
          assert.doesNotMatch(text, /process_start_time_seconds/, 'a per-process figure with no sum is left out');
        }
      }

      // The worker holding the first wait (its client's port, matched in /proc), and bob signed in on the other one.
      const holder = await until('which worker holds wait #0', () => holderOf(waits[0], pids, gw.ssh));
      const other = pids.find((p) => p !== holder)!;
      const { agent, r } = await login(other, 'bob');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const cookie = String(r.headers['set-cookie']).split(';')[0];
      const csrf = String(r.body.csrf ?? r.body.csrfToken ?? '');
      const res = await request(
        agent,
        gw.web,
        'POST',
        `/api/v1/approvals/${ids[0]}/approve`,
        { comment: 'from the other worker' },
        {
          cookie,
          'x-csrf-token': csrf,
        },
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await waits[0].waitFor(/released-0/, 20_000);
      // Waits that asked at the same moment may have made their own requests: approve those too, then every one starts.
      for (const id of new Set(ids)) if (id !== ids[0]) await t.s.approvals.approve(id, 'bob', { channel: 'cli' }).catch(() => {});
      await Promise.all(waits.map((w, i) => w.waitFor(new RegExp(`released-${i}`), 20_000)));
      agent.destroy();
    });

    test('a second-factor code is accepted on the worker that did not issue the ticket', async () => {
      const pids = gw.workers();
      // The replay guard wants a later time step each time: the second login uses the next step (within the ±1 window).
      let step = 0;
      for (const [first, second] of [pids, [...pids].reverse()]) {
        const { agent, r } = await login(first, 'gina');
        assert.equal(r.status, 202, JSON.stringify(r.body));
        agent.destroy();
        const there = await connectionOn(pids, gw.web, second);
        const code = await generate({ secret: totpSecret, epoch: Math.floor(Date.now() / 1000) + 30 * step++ });
        const ok = await request(there, gw.web, 'POST', '/api/v1/session/second-factor', { ticket: r.body.ticket, code });
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        assert.equal(ok.body.secondFactor, 'totp');
        // Used up: the same ticket makes no second session, on either worker.
        const again = await request(there, gw.web, 'POST', '/api/v1/session/second-factor', { ticket: r.body.ticket, code });
        assert.equal(again.status, 401);
        there.destroy();
      }
    });

    test('20 parallel code attempts on one ticket over both workers spend at most its 5 tries', async () => {
      const pids = gw.workers();
      const { agent, r } = await login(pids[0], 'gina');
      agent.destroy();
      assert.equal(r.status, 202);
      const res = await Promise.all(
        Array.from({ length: 20 }, () =>
          request(new http.Agent(), gw.web, 'POST', '/api/v1/session/second-factor', { ticket: r.body.ticket, code: '000000' }),
        ),
      );
      const statuses = res.map((x) => x.status);
      assert.ok(
        statuses.every((x) => x === 401 || x === 429),
        `statuses: ${statuses}`,
      );
      const failed = await dbOf(t.s)
        .selectFrom('audit_log')
        .select('id')
        .where('action', '=', 'auth.second-factor-failed')
        .where('actor', '=', 'gina')
        .execute();
      assert.ok(failed.length <= 5, `${failed.length} codes checked`);
    });

    test('a worker killed with SIGKILL is restarted, its sessions marked lost, and the other keeps serving; one node', async () => {
      const pids = gw.workers();
      // Every wait is now a live session, spread over both workers.
      const held = new Map<number, Running[]>(pids.map((p) => [p, []]));
      for (const w of waits) held.get((await until('which worker holds a session', () => holderOf(w, pids, gw.ssh)))!)!.push(w);
      const [victim, survivor] = pids;
      assert.ok(held.get(victim)!.length > 0 && held.get(survivor)!.length > 0, 'sessions on both workers');
      process.kill(victim, 'SIGKILL');
      await Promise.all(held.get(victim)!.map((w) => w.done));
      const restarted = await until(
        'a new worker',
        () => {
          const now = gw.workers();
          return now.length === 2 && !now.includes(victim) ? now : undefined;
        },
        60_000,
      );
      assert.ok(restarted.includes(survivor), 'the other worker kept running');
      assert.ok(
        held.get(survivor)!.every((w) => w.proc.exitCode === null && w.proc.signalCode === null),
        'the other worker’s sessions go on',
      );
      // The sessions the dead worker held are ended, with the reason; the other worker's stay live.
      const rows = () => dbOf(t.s).selectFrom('sessions').select(['worker_pid', 'ended_at', 'end_reason']).execute();
      await until(
        'the lost worker’s sessions ended',
        async () =>
          (await rows()).filter((r) => r.worker_pid === victim).every((r) => r.ended_at && /worker process lost/.test(r.end_reason ?? '')),
        20_000,
      );
      const all = await rows();
      assert.equal(all.filter((r) => r.worker_pid === victim).length, held.get(victim)!.length);
      assert.equal(all.filter((r) => r.worker_pid === survivor && r.ended_at === null).length, held.get(survivor)!.length);
      // The survivor answers meanwhile, and the new worker soon too.
      const agent = await connectionOn(gw.workers(), gw.web, survivor);
      assert.equal((await request(agent, gw.web, 'GET', '/healthz')).status, 200);
      agent.destroy();
      const fresh = restarted.find((p) => p !== survivor)!;
      // A fresh worker loads every module first: seconds on a busy machine.
      const agent2 = await connectionOn(gw.workers(), gw.web, fresh, 120_000);
      assert.equal((await request(agent2, gw.web, 'GET', '/healthz')).status, 200);
      agent2.destroy();
      // Operators see one node: one row, up, the primary's pid.
      const nodes = await ghJson<{ id: string; status: string; pid: number }[]>(['nodes', 'list'], { env: t.env });
      assert.deepEqual(
        nodes.map((n) => [n.id, n.status, n.pid]),
        [[`workers-${d.name}`, 'up', gw.proc.pid]],
      );
    });
  });

/** The worker holding an ssh client's connection: the client's local port, matched against the gateway's sockets. */
function holderOf(client: Running, pids: number[], port: number): number | undefined {
  for (const p of localPortsTo(client.proc.pid!, port)) {
    const w = workerOf(pids, port, p);
    if (w) return w;
  }
  return undefined;
}

// Approval -> the waiting session starts, on one node (issue 24, item 7): p50/p99 over N trials
// (default 200). One real `gatehouse serve` process and a real sshd: an OpenSSH `ssh` waits for approval,
// bob approves through the node's API, and the figure is the session's start (upstream connected) minus
// the decision's time, both as the node recorded them; also approve call -> first output at the client.
// Anchor: the cluster figure across two nodes (`npm run bench -- cluster`, p99 131 ms). Target p99 <= 100 ms.
// Run: npm run bench -- approve-latency [trials]     (BENCH_APPROVE_DB=postgres for PostgreSQL)
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { testServices } from './lib/services.js';
import { launch, makeKey, sshArgs, startSshd } from './lib/ssh.js';
import { login, type Node } from './lib/cluster.js';
import { startServer, stopServer, seedSshOrg } from './lib/server.js';
import { kyselyOf } from '../src/storage/store.js';
import { pct } from './lib/stats.js';
import ssh2 from 'ssh2';

function sshLogin(port: number, username: string, privateKey: string): Promise<number> {
  return new Promise((done, fail) => {
    const c = new ssh2.Client();
    const t0 = performance.now();
    c.on('error', fail);
    c.on('ready', () => (done(performance.now() - t0), c.end()));
    c.connect({ host: '127.0.0.1', port, username, privateKey });
  });
}

const TRIALS = Number(process.argv[2] ?? 200);
const dialect = process.env.BENCH_APPROVE_DB === 'postgres' ? 'postgres' : 'sqlite';
if (dialect === 'postgres' && !process.env.GATEHOUSE_TEST_PG_URL) {
  console.log('BENCH_APPROVE_DB=postgres needs PostgreSQL (run through npm run bench)');
  process.exit(0);
}
const load0 = loadavg();
const sshd = await startSshd();
const keyDir = mkdtempSync(join(tmpdir(), 'gh-bench-keys-'));
const alice = makeKey(keyDir, 'alice');
const t = await testServices(dialect);
await seedSshOrg(t.s, { alicePublic: alice.public, sshd, devices: ['web01'] });
// The node runs with the default event poll interval (what production has), not the tests' 50 ms.
const server = await startServer({
  dir: t.dir,
  env: { GATEHOUSE_SECRET_KEY: t.env.GATEHOUSE_SECRET_KEY, ...(t.env.DATABASE_URL ? { DATABASE_URL: t.env.DATABASE_URL } : {}) },
});
const bob = await login(server as unknown as Node, 'bob', 'bob-S3cret-pass');

const started: number[] = [];
const firstOutput: number[] = [];
const apiMs: number[] = [];
const woke: number[] = [];
for (let i = 0; i < TRIALS; i++) {
  const ssh = launch('ssh', [...sshArgs(server.ssh, alice.path, 'alice@web01@127.0.0.1'), 'echo go'], { timeoutMs: 60_000 });
  const shown = await ssh.waitFor(/#(\d+)/, 30_000);
  const id = Number(/#(\d+)/.exec(shown)![1]);
  const t0 = performance.now();
  const res = await bob(`/approvals/${id}/approve`, {});
  apiMs.push(performance.now() - t0);
  if (res.status !== 200) throw new Error(`approve failed: ${JSON.stringify(res.body)}`);
  // The wait view says "Request #N approved. Connecting to …" once the waiting connection has the decision.
  await ssh.waitFor(/approved\. Connecting/, 30_000);
  woke.push(performance.now() - t0);
  await ssh.waitFor(/go/, 30_000);
  firstOutput.push(performance.now() - t0);
  await ssh.done;
  const sess = await kyselyOf(t.s.store)
    .selectFrom('sessions')
    .select('started_at')
    .where('approval_id', '=', id)
    .executeTakeFirstOrThrow();
  started.push(sess.started_at - (await t.s.store.getRequest(id))!.decidedAt!);
  await bob(`/approvals/${id}/revoke`, {});
  if ((i + 1) % 50 === 0) process.stderr.write(`  ${i + 1}/${TRIALS} trials\n`);
}
// Where the rest goes: an SSH login to the same sshd with the device account's key, as the gateway's
// upstream connection makes it (ssh2, TCP connect to ready), measured here in the same run.
const handshake: number[] = [];
for (let i = 0; i < 50; i++) handshake.push(await sshLogin(sshd.port, sshd.account, sshd.accountKey.private));
const f = (xs: number[]) => `p50 ${pct(xs, 0.5).toFixed(0)} ms, p99 ${pct(xs, 0.99).toFixed(0)} ms`;
console.log(
  `\napproval -> waiting session starts, one node (${dialect}), ${TRIALS} trials; load average ${load0.map((x) => x.toFixed(1)).join(' ')} at start, ${loadavg()[0].toFixed(1)} at end`,
);
console.log(
  `  session started (upstream connected) - decided: ${f(started)} (target p99 <= 100 ms; anchor: cluster p99 131 ms across nodes)`,
);
console.log(`  approve API call answered:                     ${f(apiMs)}`);
console.log(`  approve call -> the waiting connection has it:  ${f(woke)} (the client sees "approved. Connecting")`);
console.log(`  SSH login to the device alone (ssh2, 50 trials):  ${f(handshake)}`);
console.log(`  approve call -> first output at the client:    ${f(firstOutput)}`);
await stopServer(server);
await sshd.stop();
rmSync(keyDir, { recursive: true, force: true });
await t.cleanup();
process.exit(0);

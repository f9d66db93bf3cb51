// Cross-node time from decision to session start (issue: several nodes), over N trials (default 200).
// Two real `gatehouse serve` nodes on one PostgreSQL and a real sshd: an `ssh` waits on node A, the
// decision is made through node B's API, and we read when node A registered the proxied session
// (upstream connected). Target: p99 under 300 ms.
// Run: npm run bench -- cluster [trials]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testServices } from './lib/services.js';
import { launch, makeKey, sshArgs, startSshd } from './lib/ssh.js';
import { login, startNode } from './lib/cluster.js';
import { kyselyOf } from '../src/storage/store.js';

if (!process.env.GATEHOUSE_TEST_PG_URL) {
  console.log('cluster bench needs PostgreSQL (run through npm run bench)');
  process.exit(0);
}
const TRIALS = Number(process.argv[2] ?? 200);
const ADMIN = { username: 'admin', id: null, channel: 'cli' as const };

const sshd = await startSshd();
const keyDir = mkdtempSync(join(tmpdir(), 'gh-bench-keys-'));
const alice = makeKey(keyDir, 'alice');
const t = await testServices('postgres');
const s = t.s;
await s.admin.addUser(ADMIN, { username: 'bob', email: 'bob@example.com', password: 'bob-S3cret-pass' });
await s.admin.addUser(ADMIN, { username: 'alice', password: 'alice-S3cret-pass', sshKeys: [alice.public] });
await s.admin.addGroup(ADMIN, 'user', 'ops', { managers: ['bob'], requireApproval: true });
await s.admin.addMember(ADMIN, 'ops', 'alice');
await s.admin.addGroup(ADMIN, 'device', 'linux', {});
await s.admin.addDevice(ADMIN, { name: 'web01', host: '127.0.0.1', protocols: 'ssh', group: 'linux', port: sshd.port });
await s.admin.addAccount(ADMIN, 'web01', sshd.account, { privateKey: sshd.accountKey.private });
await s.admin.grantAccess(ADMIN, 'ops', 'linux', 'ssh');
const env = { DATABASE_URL: t.env.DATABASE_URL, GATEHOUSE_SECRET_KEY: t.env.GATEHOUSE_SECRET_KEY };
const a = await startNode('a', env);
const b = await startNode('b', env);
const bob = await login(b, 'bob', 'bob-S3cret-pass');

const started: number[] = [];
const firstOutput: number[] = [];
for (let i = 0; i < TRIALS; i++) {
  const ssh = launch('ssh', [...sshArgs(a.ssh, alice.path, 'alice@web01@127.0.0.1'), 'echo go'], { timeoutMs: 60_000 });
  const shown = await ssh.waitFor(/#(\d+)/, 30_000);
  const id = Number(/#(\d+)/.exec(shown)![1]);
  const t0 = Date.now();
  const res = await bob(`/approvals/${id}/approve`, {});
  if (res.status !== 200) throw new Error(`approve failed: ${JSON.stringify(res.body)}`);
  await ssh.waitFor(/go/, 30_000);
  firstOutput.push(Date.now() - t0);
  await ssh.done;
  const sess = await kyselyOf(s.store).selectFrom('sessions').select('started_at').where('approval_id', '=', id).executeTakeFirstOrThrow();
  started.push(sess.started_at - (await s.store.getRequest(id))!.decidedAt!);
  await bob(`/approvals/${id}/revoke`, {});
  if ((i + 1) % 20 === 0) process.stderr.write(`  ${i + 1}/${TRIALS} trials\n`);
}
const pct = (xs: number[], q: number) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
console.log(`cross-node decision (node B API) -> session start on node A, ${TRIALS} trials:`);
console.log(`  session registered (upstream connected): p50 ${pct(started, 0.5)} ms, p99 ${pct(started, 0.99)} ms (target p99 < 300 ms)`);
console.log(`  first output at the client (approve call -> 'go'): p50 ${pct(firstOutput, 0.5)} ms, p99 ${pct(firstOutput, 0.99)} ms`);
for (const n of [a, b]) {
  n.proc.kill('SIGTERM');
  await new Promise((r) => n.proc.once('exit', r));
  rmSync(n.dir, { recursive: true, force: true });
}
await sshd.stop();
rmSync(keyDir, { recursive: true, force: true });
await t.cleanup();

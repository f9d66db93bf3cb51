// The decision race, repeated: three `gatehouse serve` nodes on one PostgreSQL, a real SMTP sink and a
// CPU hog on every core; each repetition races 300 decisions (approve, reject, approve on three nodes)
// against the sweepers expiring the same 100 requests (bench/lib/race.ts). Reports the worst case over
// the repetitions: 500s, other non-409 losses, duplicate mails, requests not ended exactly once, and the
// slowest decision answer, with the machine's load average.
// Run: npm run bench -- race [repetitions=20] [hogs=cores]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config/env.js';
import { makeLogger } from '../src/log.js';
import { openServices } from '../src/services.js';
import { startHogs, startMailSink, startNode, stopNode, type Node } from './lib/cluster.js';
import { race, type RaceResult } from './lib/race.js';

const PG_URL = process.env.GATEHOUSE_TEST_PG_URL;
if (!PG_URL) {
  console.log('race bench needs PostgreSQL (run through npm run bench)');
  process.exit(0);
}
const REPS = Number(process.argv[2] ?? 20);
const HOGS = Number(process.argv[3] ?? availableParallelism());
const ADMIN = { username: 'admin', id: null, channel: 'cli' as const };

const dbName = `gh_race_${randomBytes(4).toString('hex')}`;
const admin = async (q: string) => {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(q);
  await c.end();
};
await admin(`create database ${dbName}`);
const url = new URL(PG_URL);
url.pathname = `/${dbName}`;
const dir = mkdtempSync(join(tmpdir(), 'gh-race-'));
const env = { DATABASE_URL: url.toString(), GATEHOUSE_SECRET_KEY: 'bench-vault-key-0123456789abcdef' };
const s = await openServices(loadConfig({ ...env, GATEHOUSE_DATA_DIR: dir }), makeLogger('silent'));
await s.admin.addUser(ADMIN, { username: 'bob', email: 'bob@example.com', password: 'bob-S3cret-pass' });
await s.admin.addUser(ADMIN, { username: 'carol', email: 'carol@example.com', password: 'carol-S3cret-pass' });
await s.admin.addUser(ADMIN, { username: 'alice', email: 'alice@example.com', password: 'alice-S3cret-pass' });
await s.admin.addGroup(ADMIN, 'user', 'ops', { managers: ['bob', 'carol'], requireApproval: true });
await s.admin.addMember(ADMIN, 'ops', 'alice');
await s.admin.addGroup(ADMIN, 'device', 'linux', {});
await s.admin.addDevice(ADMIN, { name: 'web01', host: '127.0.0.1', protocols: 'ssh,sftp', group: 'linux', port: 22 });
await s.admin.addAccount(ADMIN, 'web01', 'root', { password: 'web01-root-secret' });
await s.admin.grantAccess(ADMIN, 'ops', 'linux', 'ssh,sftp');

const sink = await startMailSink();
const nodeEnv = { ...env, GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${sink.port}`, GATEHOUSE_MAIL_FROM: 'gatehouse@example.com' };
const nodes: Node[] = [];
const results: (RaceResult & { load: number })[] = [];
try {
  for (const n of ['a', 'b', 'c']) nodes.push(await startNode(n, nodeEnv));
  const [a, b, c] = nodes;
  for (let i = 0; i < REPS; i++) {
    const hogs = startHogs(HOGS);
    let r: RaceResult;
    try {
      r = await race({
        s,
        nodes: { a, b, c },
        device: 'web01',
        mails: () => sink.messages,
        approvers: [
          { username: 'bob', password: 'bob-S3cret-pass', email: 'bob@example.com' },
          { username: 'carol', password: 'carol-S3cret-pass', email: 'carol@example.com' },
        ],
        requester: { username: 'alice', email: 'alice@example.com' },
      });
    } finally {
      await hogs.stop();
    }
    const load = loadavg()[0];
    results.push({ ...r, load });
    const bad = (r.statuses['500'] ?? 0) + r.outboxDuplicates.length + r.deliveredDuplicates.length + r.notExactlyOnce.length;
    process.stderr.write(
      `  ${i + 1}/${REPS}: ${JSON.stringify(r.statuses)} ${JSON.stringify(r.tally)} slowest ${r.maxDecideMs} ms, load ${load.toFixed(1)}${bad ? ` PROBLEMS ${bad}` : ''}\n`,
    );
    for (const f of r.failures.slice(0, 3)) process.stderr.write(`    ${f.slice(0, 300)}\n`);
  }
} finally {
  for (const n of nodes) await stopNode(n);
  await sink.close();
  await s.close();
  await admin(`drop database if exists ${dbName} with (force)`).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}

const max = (f: (r: (typeof results)[number]) => number) => Math.max(0, ...results.map(f));
const non409 = (r: RaceResult) =>
  Object.entries(r.statuses)
    .filter(([k]) => k !== '200' && k !== '409')
    .reduce((n, [, v]) => n + v, 0);
console.log(`decision race, ${results.length} repetitions × 300 decisions on 3 nodes, ${HOGS} CPU hogs (${availableParallelism()} cores):`);
console.log(
  `  worst repetition: ${max((r) => r.statuses['500'] ?? 0)} answers 500, ${max(non409)} losses other than 409, ${max((r) => r.notExactlyOnce.length)} requests not ended exactly once`,
);
console.log(
  `  worst repetition: ${max((r) => r.outboxDuplicates.length)} duplicate outbox rows, ${max((r) => r.deliveredDuplicates.length)} duplicate deliveries, ${max((r) => r.missingOutcome.length)} missing outcome mails`,
);
console.log(`  slowest decision answer: ${max((r) => r.maxDecideMs)} ms (worst median ${max((r) => r.p50DecideMs)} ms)`);
console.log(
  `  load average (1 min) after each repetition: max ${max((r) => r.load).toFixed(1)}, min ${Math.min(...results.map((r) => r.load)).toFixed(1)}`,
);

// Mail latency, on this machine, with the gateway started by start(env) and default timings:
//  1. request created -> approver mail accepted by an SMTP sink;
//  2. approval reply accepted by the SMTP listener -> the waiting request approved (as a waiting SSH
//     session sees it: through the event bus).
// `npm run bench -- mail [count]`. SQLite always; PostgreSQL too when available (GATEHOUSE_TEST_PG_URL).
import { freshPgDatabase } from './lib/db.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN, seedOrg } from './lib/services.js';
import nodemailer from 'nodemailer';
import { replyTo, startGateway, startSink, SUBJECT, waitFor } from './lib/mail.js';
import { requestOf } from '../src/core/events.js';

const N = Number(process.argv[2] ?? 50);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

/** A fresh PostgreSQL database when one is available (the tests' helper), else null. */
async function freshPg(): Promise<{ url: string; drop(): Promise<void> } | null> {
  return process.env.GATEHOUSE_TEST_PG_URL ? freshPgDatabase() : null;
}

async function run(label: string, extra: Record<string, string>) {
  const sink = await startSink();
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-mail-'));
  const gw = await startGateway(sink.port, extra, dir);
  const s = gw.g.services;
  await seedOrg(s);
  for (let i = 0; i < N; i++) {
    await s.admin.addUser(ADMIN, { username: `u${i}`, email: `u${i}@example.com`, password: 'S3cret-pass' });
    await s.admin.addMember(ADMIN, 'ops', `u${i}`);
  }
  const delivered: number[] = [];
  const decided: number[] = [];
  const approvedAt = new Map<number, number>();
  s.bus.subscribe((e) => {
    const r = requestOf(e);
    if (e.type === 'approval.approved' && r) approvedAt.set(r.id, performance.now());
  });
  // The approver's mail server keeps its connection to the listener open, as MTAs do.
  const mta = nodemailer.createTransport({ host: '127.0.0.1', port: gw.g.smtpInPort!, pool: true, maxConnections: 1, ignoreTLS: true });
  for (let i = 0; i < N; i++) {
    const t0wall = Date.now();
    const res = await s.approvals.request({ username: `u${i}`, device: 'web01', protocol: 'ssh', reason: 'bench run', channel: 'ssh' });
    const id = res.outcome === 'waiting' ? res.request.id : -1;
    const mail = await waitFor('mail', () => sink.messages.find((m) => m.parsed.subject === SUBJECT(id)), 10_000, 2);
    delivered.push(mail.at - t0wall); // sink receive time minus creation time (wall clock, same process)
    const t1 = performance.now();
    await mta.sendMail(replyTo(mail, 'bob@example.com', 'APPROVE bench'));
    await waitFor('approved', () => approvedAt.has(id), 10_000, 1);
    decided.push(approvedAt.get(id)! - t1);
  }
  mta.close();
  if (process.env.GH_BENCH_SAMPLES)
    console.log(delivered.map((x) => x.toFixed(0)).join(' '), '\n', decided.map((x) => x.toFixed(0)).join(' '));
  const fmt = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(0)} ms, p99 ${pct(xs, 99).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;
  console.log(`${label}: request created -> mail accepted at the SMTP sink (n=${N}): ${fmt(delivered)}`);
  console.log(`${label}: reply handed to the SMTP listener -> waiting request approved (bus event) (n=${N}): ${fmt(decided)}`);
  await gw.stop();
  await sink.close();
  rmSync(dir, { recursive: true, force: true });
}

process.env.GATEHOUSE_LOG_LEVEL = 'silent';
await run('sqlite', {});
const pgdb = await freshPg();
if (pgdb) {
  await run('postgres', { DATABASE_URL: pgdb.url });
  await pgdb.drop();
}
process.exit(0);
